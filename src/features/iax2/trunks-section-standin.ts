// STAND-IN, to be removed at merge: the `trunks:` section belongs to the
// trunks module (branch issue9-trunks), which reads it into
// cfg.sections.trunks as TrunkConfig[] of exactly this shape. Until that
// module is merged, the IAX2 module registers this reader so its `type:
// iax2` entries can be configured and tested.
//
//   trunks:
//     - name: office-b
//       type: iax2           # or sip
//       host: 127.0.0.1      # or dynamic: the far end registers to us
//       port: 4569
//       username: "9000"
//       secret: "..."
//       register: true       # we register to the far end as username
//       allow_from: [10.0.0.0/8]
//       context: from-trunk
//       max_channels: 10
import { isSeq, parseDocument, type Node } from 'yaml';
import { MapReader } from '../../config/yaml-reader.js';
import { parseCidr } from '../../core/cidr.js';

export interface TrunkConfig {
  name: string;
  type: 'sip' | 'iax2';
  /** a name or address, or 'dynamic' (the far end registers to us) */
  host: string;
  port?: number;
  username?: string;
  secret?: string;
  register: boolean;
  allowFrom?: string[];
  context?: string;
  maxChannels?: number;
}

/** reads the `trunks:` list (the host hands a MapReader over it, which expects a mapping: the list is re-read here) */
export function readTrunksStandin(section: MapReader): TrunkConfig[] {
  // the host's reader complained that trunks: is not a mapping; it is a list by design
  const i = section.issues.list.findIndex((x) => x.message.startsWith('trunks must be a mapping'));
  if (i >= 0) section.issues.list.splice(i, 1);
  const doc = parseDocument(section.source, { keepSourceTokens: false });
  const node = doc.get('trunks', true) as Node | undefined;
  if (node === undefined || node === null) return [];
  if (!isSeq(node)) {
    section.issues.add(section.offset, 'trunks must be a list of trunks, one "- name: ..." per entry');
    return [];
  }
  const out: TrunkConfig[] = [];
  node.items.forEach((item, idx) => {
    const m = new MapReader(section.issues, section.source, `trunks[${idx}]`, item as Node, section.offset);
    const name = m.string('name', '', { required: true, pattern: /^[A-Za-z0-9_.-]{1,40}$/, expect: 'expected a trunk name such as office-b' });
    const type = m.oneOf('type', 'sip', ['sip', 'iax2'] as const);
    const host = m.string('host', '', { required: true, pattern: /^[A-Za-z0-9_.:-]{1,253}$/, expect: 'expected a host name, an address, or dynamic' });
    const port = m.has('port') ? m.int('port', type === 'iax2' ? 4569 : 5060, 1, 65535) : undefined;
    const username = m.optionalString('username') ?? undefined;
    const secret = m.optionalString('secret') ?? undefined;
    const register = m.bool('register', false);
    const allowFrom = m.list('allow_from')?.map((x) => {
      const c = x.text === null ? 'is not text' : parseCidr(x.text);
      if (typeof c === 'string') section.issues.add(x.offset, `trunks[${idx}].allow_from "${x.text}" ${c}`);
      return x.text ?? '';
    });
    const context = m.optionalString('context', { pattern: /^[A-Za-z0-9_.-]{1,80}$/ }) ?? undefined;
    const maxChannels = m.has('max_channels') ? m.int('max_channels', 0, 0, 100000) : undefined;
    if (register && (!username || !secret)) m.error('register', `trunks[${idx}] registers to the far end: give username and secret`);
    if (register && host === 'dynamic') m.error('register', `trunks[${idx}] has host dynamic (the far end registers to us) and register: true; a trunk does one or the other`);
    m.done();
    if (out.some((t) => t.name === name)) m.error('name', `trunks: the name ${name} is used twice`);
    out.push({ name, type, host, port, username, secret, register, allowFrom, context, maxChannels });
  });
  return out;
}
