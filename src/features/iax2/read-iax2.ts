// The `iax2:` section (docs/configuration.md, `iax2`). Without `listen`
// nothing listens: IAX2 is off unless configured, and binds exactly where
// the list says.
//
//   iax2:
//     listen: ["udp:127.0.0.1:4569"]
//     calltoken: true                 # Asterisk's requirecalltoken (default on)
//     calltoken_optional: [10.0.0.5]  # old clients without call tokens (iaxmodem)
//     refresh: 60                     # the most a registration gets, and what we ask for
//     min_refresh: 20
//     mohinterpret: default           # hold by our party: play the peer this class ("passthrough": send HOLD)
//     mohsuggest: ""                  # the class a HOLD frame we send names
//     accounts:                       # extensions that may register and call over IAX2
//       - extension: "1001"
//         secret: "..."               # IAX2's MD5 needs the secret itself (see docs)
import { parseListen } from '../../config/listen-point.js';
import type { MapReader } from '../../config/yaml-reader.js';
import { MapReader as Reader } from '../../config/yaml-reader.js';
import { isSeq, type Node } from 'yaml';
import { parseCidr } from '../../core/cidr.js';
import { checkSecret } from '../../security/passwords/check-secret.js';
import { generateSecret } from '../../security/passwords/generate-secret.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import { IAX2_HOLD_DEFAULTS, type Iax2HoldConfig } from './iax2-hold.js';
import { MUSIC_CLASS } from '../../media/player/music-on-hold.js';

/** mohsuggest: a class name, or "" for none */
const OR_NONE = new RegExp(`^$|${MUSIC_CLASS.source}`);

export interface Iax2ListenPoint {
  address: string;
  port: number;
}

export interface Iax2Config {
  listen: Iax2ListenPoint[];
  calltoken: boolean;
  calltokenOptional: string[];
  refresh: number;
  minRefresh: number;
  accounts: Array<{ extension: string; secret: string }>;
  /** what the peer gets when our party holds the call (iax2-hold.ts) */
  hold: Iax2HoldConfig;
}

export const IAX2_DEFAULTS: Iax2Config = { listen: [], calltoken: true, calltokenOptional: [], refresh: 60, minRefresh: 20, accounts: [], hold: IAX2_HOLD_DEFAULTS };

export function readIax2(m: MapReader, cfg?: PalisadeConfig): Iax2Config {
  const listen: Iax2ListenPoint[] = [];
  for (const item of m.list('listen') ?? []) {
    const p = item.text === null ? 'must be a string' : parseListen(item.text);
    if (typeof p === 'string') m.issues.add(item.offset, `iax2.listen "${item.text}" ${p}`);
    else if (p.transport !== 'udp') m.issues.add(item.offset, `iax2.listen "${item.text}": IAX2 runs over UDP only; write udp:${p.address}:${p.port}`);
    else listen.push({ address: p.address, port: p.port });
  }
  const calltoken = m.bool('calltoken', true);
  const calltokenOptional: string[] = [];
  for (const item of m.list('calltoken_optional') ?? []) {
    const c = item.text === null ? 'is not text' : parseCidr(item.text);
    if (typeof c === 'string') m.issues.add(item.offset, `iax2.calltoken_optional "${item.text}" ${c}`);
    else calltokenOptional.push(item.text!);
  }
  const refresh = m.int('refresh', 60, 10, 3600, 'seconds');
  const minRefresh = m.int('min_refresh', Math.min(20, refresh), 5, 3600, 'seconds');
  if (minRefresh > refresh) m.error('min_refresh', `iax2.min_refresh ${minRefresh} is above iax2.refresh ${refresh}; expected at most ${refresh}`);
  const mohinterpret = m.string('mohinterpret', IAX2_HOLD_DEFAULTS.mohinterpret, {
    pattern: MUSIC_CLASS,
    expect: 'expected passthrough (send the peer a HOLD frame) or the music-on-hold class Palisade plays the peer, such as default',
  });
  const mohsuggest = m.string('mohsuggest', IAX2_HOLD_DEFAULTS.mohsuggest, {
    pattern: OR_NONE,
    expect: 'expected a music-on-hold class name such as default, or "" for none',
  });
  const accounts = readAccounts(m, cfg);
  m.done();
  return { listen, calltoken, calltokenOptional, refresh, minRefresh, accounts, hold: { mohinterpret, mohsuggest } };
}

function readAccounts(m: MapReader, cfg?: PalisadeConfig): Iax2Config['accounts'] {
  const n = m.node('accounts');
  if (n === undefined) return [];
  if (!isSeq(n)) {
    m.error('accounts', 'iax2.accounts must be a list of { extension, secret }');
    return [];
  }
  const out: Iax2Config['accounts'] = [];
  n.items.forEach((item, i) => {
    const a = new Reader(m.issues, m.source, `iax2.accounts[${i}]`, item as Node, m.valueOffset('accounts'));
    const extension = a.string('extension', '', { required: true, pattern: /^[0-9]{1,15}$/, expect: 'expected an extension number such as "1001"' });
    const secret = a.string('secret', '', { required: true, expect: 'expected the IAX2 secret of this extension' });
    a.done();
    if (!extension || !secret) return;
    // extensions imported into the database are known only at start (an account without one is ignored there, with a warning)
    const ext = cfg?.extensions.find((e) => e.number === extension);
    const verdict = checkSecret(secret, { kind: 'sip', extension, name: ext?.name });
    if (!verdict.ok)
      a.error(
        'secret',
        `iax2.accounts[${i}].secret for ${extension} is too weak (${verdict.reasons.join('; ')}); use a generated one such as ${generateSecret({ extension, name: ext?.name })}`,
      );
    if (out.some((o) => o.extension === extension)) a.error('extension', `iax2.accounts: extension ${extension} is listed twice`);
    out.push({ extension, secret });
  });
  return out;
}
