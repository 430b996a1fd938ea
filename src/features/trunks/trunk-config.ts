// The `trunks:` section of palisade.yaml: SIP and IAX2 trunks to providers
// and to other offices. Read here for both types (the IAX2 module reads the
// entries with type: iax2 from cfg.sections.trunks); every problem carries
// file:line:col, unknown keys get a typo hint, and a secret must pass the
// password policy that extension secrets pass (docs/configuration.md,
// "Trunks").
//
//   trunks:
//     - name: office-b
//       type: sip            # or iax2
//       host: 127.0.0.1      # a name (RFC 3263), an address, or dynamic (the far end registers to us)
//       port: 5099
//       username: "9000"
//       secret: "..."
//       register: true       # register to the far end as username
import type { MapReader } from '../../config/yaml-reader.js';
import { checkSecret, generateSecret } from '../../security/passwords/index.js';
import { parseCidr } from '../../core/cidr.js';

export type TrunkType = 'sip' | 'iax2';

export interface TrunkConfig {
  name: string;
  type: TrunkType;
  /** a DNS name (resolved by RFC 3263 for SIP), an IP address, or 'dynamic': the far end registers to us */
  host: string;
  /** 5060 for SIP, 4569 for IAX2 unless given */
  port: number;
  /** port was written: a SIP host name is then looked up by A/AAAA only (RFC 3263 §4.2), not SRV */
  portGiven: boolean;
  /** SIP only */
  transport: 'udp' | 'tcp' | 'tls';
  /** the account we register and authenticate as (and, for a dynamic trunk, the one the far end uses with us) */
  username: string | null;
  secret: string | null;
  /** register to the far end as username */
  register: boolean;
  /** REGISTER expiry asked for, seconds */
  expiry: number;
  /** first wait after a failed registration, seconds; doubles on each failure up to 10 times it */
  retryInterval: number;
  /** CIDRs an IP-authenticated peer sends from (its calls are taken without a challenge unless auth_inbound) */
  allowFrom: string[];
  /** challenge the far end's INVITEs with username/secret (digest both ways) */
  authInbound: boolean;
  /** the dialplan context inbound calls from this trunk enter */
  context: string;
  /** concurrent calls on the trunk, both directions; 0 = unlimited */
  maxChannels: number;
  /** caller ID sent on calls out of this trunk (overrides the route's and the caller's) */
  callerIdNumber: string | null;
  callerIdName: string | null;
  /** user part of our From on calls out (default: the caller ID); some providers want the account */
  fromUser: string | null;
  /** host part of our From (default: the trunk's host) */
  fromDomain: string | null;
  /** send P-Asserted-Identity with the caller ID (RFC 3325) */
  sendPai: boolean;
  /** Privacy: id (RFC 3323/3325) on every call out: the far end hides our number */
  privacy: 'none' | 'id';
  /** call classes calls out of this trunk may reach (the call gate's trunk principal); null = the call gate's defaults */
  callPermissions: string[] | null;
  /** trunk's daily spend limit for the call gate; null = default */
  dailySpendLimit: number | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const USER = /^[A-Za-z0-9_.!~*'()&=+$,;?/-]{1,64}$/;
const CONTEXT = /^[A-Za-z0-9_-]+$/;
const HOST = /^(dynamic|[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?|\[?[0-9A-Fa-f:.]+\]?)$/;
const CLASSES = ['internal', 'local', 'national', 'mobile', 'international', 'premium', 'emergency'];

/** `trunks:` — a list of trunks; [] when absent */
export function readTrunks(section: MapReader): TrunkConfig[] {
  const items = section.items();
  if (items === null) {
    section.error('', 'trunks must be a list of trunks, one "- name: ..." item per trunk');
    return [];
  }
  const out: TrunkConfig[] = [];
  const seen = new Set<string>();
  for (const m of items) {
    const t = readTrunk(m);
    if (t.name && seen.has(t.name.toLowerCase())) m.error('name', `${m.path}.name "${t.name}" is used by another trunk; trunk names must be unique`);
    seen.add(t.name.toLowerCase());
    out.push(t);
  }
  return out;
}

/** one entry of `trunks:` (also the API's trunk bodies, trunk-store.ts) */
export function readTrunk(m: MapReader): TrunkConfig {
  const name = m.string('name', '', { required: true, pattern: NAME, expect: 'expected a name of letters, digits, _ . - such as office-b' });
  const type = m.oneOf('type', 'sip', ['sip', 'iax2'] as const);
  const host = m.string('host', '', { required: true, pattern: HOST, expect: 'expected a host name, an IP address, or dynamic (the far end registers to us)' });
  const port = m.int('port', type === 'sip' ? 5060 : 4569, 1, 65535);
  const transport = m.oneOf('transport', 'udp', ['udp', 'tcp', 'tls'] as const);
  if (type === 'iax2' && m.has('transport')) m.error('transport', `${m.path}.transport is for SIP trunks; an IAX2 trunk always uses UDP`);
  const username = m.optionalString('username', { pattern: USER, expect: 'expected an account name such as 9000' });
  const secret = m.optionalString('secret');
  const register = m.bool('register', false);
  const expiry = m.int('expiry', 3600, 10, 86400, 'seconds');
  const retryInterval = m.int('retry_interval', 30, 1, 3600, 'seconds');
  const portGiven = m.has('port');
  const allowFrom: string[] = [];
  for (const item of m.list('allow_from') ?? []) {
    const text = item.text ?? '';
    const c = parseCidr(text);
    if (typeof c === 'string') section_err(m, item.offset, `${m.path}.allow_from "${text}" ${c}`);
    else allowFrom.push(text);
  }
  const authInbound = m.bool('auth_inbound', false);
  const context = m.string('context', 'from-trunk', { pattern: CONTEXT, expect: 'expected a dialplan context name such as from-trunk' });
  const maxChannels = m.int('max_channels', 0, 0, 100000, 'calls (0 = unlimited)');
  const callerIdNumber = m.optionalString('caller_id_number', { pattern: /^\+?[0-9*#]{1,32}$/, expect: 'expected digits, optionally with a leading +' });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
  const callerIdName = m.optionalString('caller_id_name', { pattern: /^[^\x00-\x1f"\\]{0,64}$/, expect: 'expected a display name without quotes' });
  const fromUser = m.optionalString('from_user', { pattern: USER, expect: 'expected the user part of a SIP URI' });
  const fromDomain = m.optionalString('from_domain', { pattern: HOST, expect: 'expected a host name' });
  const sendPai = m.bool('send_pai', false);
  const privacy = m.oneOf('privacy', 'none', ['none', 'id'] as const);
  let callPermissions: string[] | null = null;
  const perms = m.list('call_permissions');
  if (perms) {
    callPermissions = [];
    for (const p of perms) {
      if (!p.text || !CLASSES.includes(p.text)) section_err(m, p.offset, `${m.path}.call_permissions "${p.text ?? ''}" is not a call class; expected ${CLASSES.join(', ')}`);
      else callPermissions.push(p.text);
    }
  }
  const dailySpendLimit = m.has('daily_spend_limit') ? m.int('daily_spend_limit', 0, 0, 1_000_000) : null;

  // what the combination means
  if (host === 'dynamic' && register)
    m.error('register', `${m.path}.register is true but host is dynamic: we cannot register to a far end whose address we learn from its own registration`);
  if ((register || host === 'dynamic' || authInbound) && (!username || secret === null)) {
    const why = register ? 'register: true' : host === 'dynamic' ? 'host: dynamic' : 'auth_inbound: true';
    m.error(
      username ? 'secret' : 'username',
      `${m.path} has ${why} but no ${username ? 'secret' : 'username'}; give username and secret, e.g. secret: "${generateSecret({ extension: username ?? undefined, name })}"`,
    );
  }
  if (secret !== null) {
    const v = checkSecret(secret, { kind: 'sip', extension: username ?? undefined, name });
    if (!v.ok)
      m.error('secret', `${m.path}.secret is too weak (${v.reasons.join('; ')}); use a generated one such as ${generateSecret({ extension: username ?? undefined, name })}`);
  }
  m.done();
  return {
    name,
    type,
    host,
    port,
    portGiven,
    transport,
    username,
    secret,
    register,
    expiry,
    retryInterval,
    allowFrom,
    authInbound,
    context,
    maxChannels,
    callerIdNumber,
    callerIdName,
    fromUser,
    fromDomain,
    sendPai,
    privacy,
    callPermissions,
    dailySpendLimit,
  };
}

function section_err(m: MapReader, offset: number, message: string): void {
  m.issues.add(offset, message);
}
