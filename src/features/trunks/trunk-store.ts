// SIP and IAX2 trunks made through the API (issue 10): kept in the trunks module's
// table route_objects (kind 'trunk', beside the API's routes and time
// conditions), as the same snake_case fields as a `trunks:` entry of
// palisade.yaml (`type: iax2` for an IAX2 trunk, left out for SIP) plus
// `disabled`. A body is checked by the very reader of
// the file (readTrunk, trunk-config.ts), so the API and the file hold a
// trunk to the same rules — the secret policy included. The secret is
// stored as written (a trunk authenticates to its provider with it, so a
// hash would not do) and never leaves the server through the API: views
// say only whether one is set.
import { LineCounter, parseDocument, stringify, type Node } from 'yaml';
import { IssueList, MapReader } from '../../config/yaml-reader.js';
import { readTrunk, type TrunkConfig } from './trunk-config.js';

/** a trunk as the API writes it: SIP unless `type: iax2` (the IAX2 module runs those, following the trunk set) */
export interface TrunkBody {
  name: string;
  /** sip when left out; cannot change once made */
  type?: 'sip' | 'iax2';
  host: string;
  port?: number;
  transport?: 'udp' | 'tcp' | 'tls';
  username?: string | null;
  secret?: string | null;
  register?: boolean;
  expiry?: number;
  retry_interval?: number;
  allow_from?: string[];
  auth_inbound?: boolean;
  context?: string;
  max_channels?: number;
  caller_id_number?: string | null;
  caller_id_name?: string | null;
  from_user?: string | null;
  from_domain?: string | null;
  send_pai?: boolean;
  privacy?: 'none' | 'id';
  call_permissions?: string[] | null;
  daily_spend_limit?: number | null;
  /** set aside: not registered, not used by routes, its calls in refused */
  disabled?: boolean;
}

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The body read as a `trunks:` entry is read: a TrunkConfig, or every
 * problem with the field it is in. Null fields are left out (the file's
 * defaults apply).
 */
export function trunkFromBody(b: TrunkBody): { trunk: TrunkConfig } | { errors: FieldError[] } {
  const entry: Record<string, unknown> = { type: 'sip' };
  for (const [k, v] of Object.entries(b)) if (v !== null && v !== undefined && k !== 'disabled') entry[k] = v;
  const text = stringify(entry);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const issues = new IssueList('trunk', lines);
  const m = new FieldReader(issues, text, 'trunk', doc.contents as Node | null, 0);
  const trunk = readTrunk(m);
  if (issues.list.length > 0) {
    // each problem belongs to the key on its line or the nearest above (one key a line as stringify writes it)
    const keys = Object.keys(entry)
      .map((k) => ({ k, line: lines.linePos(m.keyOffset(k)).line }))
      .sort((a, b) => a.line - b.line);
    return {
      errors: issues.list.map((i, n) => ({
        field: m.fieldOf.get(n) ?? keys.filter((k) => k.line <= i.line).at(-1)?.k ?? '',
        message: i.message.replace(/^trunk[. ]/, '').replace(/\btrunk\.(?=[a-z_])/g, ''),
      })),
    };
  }
  return { trunk };
}

/** a reader that remembers the key of each problem it reports (a missing key's problem has no line of its own) */
class FieldReader extends MapReader {
  readonly fieldOf = new Map<number, string>();
  override error(key: string, message: string): void {
    this.fieldOf.set(this.issues.list.length, key);
    super.error(key, message);
  }
}

/** what GET answers and the change log records: the body without its secret */
export function trunkView(b: TrunkBody): Omit<TrunkBody, 'secret' | 'type'> & { type: 'sip' | 'iax2'; secret_set: boolean } {
  const { secret, ...rest } = b;
  return { ...rest, type: b.type ?? 'sip', secret_set: typeof secret === 'string' && secret.length > 0, disabled: b.disabled === true };
}

/** a file trunk as the API shows it (source: config) */
export function configTrunkView(t: TrunkConfig): Record<string, unknown> {
  return {
    name: t.name,
    type: t.type,
    host: t.host,
    port: t.port,
    ...(t.type === 'sip' ? { transport: t.transport } : {}),
    username: t.username,
    register: t.register,
    context: t.context,
    max_channels: t.maxChannels,
    secret_set: t.secret !== null,
    disabled: false,
  };
}
