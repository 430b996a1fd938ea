// The `routes:` section: outbound routes (dial patterns to an ordered list
// of trunks, as FreePBX administrators know them), inbound routes (DID and
// caller-ID patterns to a destination) and named time conditions (office
// hours with holidays). docs/configuration.md, "Routes".
//
//   routes:
//     outbound:
//       - name: to-office-b
//         match: ["_2XXX"]
//         trunks: [office-b]
//         strip: 0
//         prepend: ""
//     inbound:
//       - did: "_2XXX"
//         to: "${EXTEN}"     # or "context,exten,priority"
import type { MapReader } from '../../config/yaml-reader.js';
import { parsePattern } from '../../dialplan/matcher.js';
import { parseTimeSpec, type TimeSpec } from '../../dialplan/time-spec.js';
import { checkPin } from '../../security/passwords/index.js';
import { editDistance } from '../../core/edit-distance.js';

export interface OutboundRouteConfig {
  name: string;
  /** dial patterns: `_2XXX`, `_0.`, or an exact number */
  match: string[];
  /** tried in order; the next on 5xx, 408, timeout, unreachable or full */
  trunks: string[];
  /** digits removed from the front of the dialled number */
  strip: number;
  /** digits put in front after stripping */
  prepend: string;
  /** the route asks for this PIN before dialling (FreePBX's route password) */
  pin: string | null;
  /** caller ID for calls on this route (a trunk's own setting wins) */
  callerIdNumber: string | null;
  callerIdName: string | null;
  /** Privacy: id on calls of this route */
  privacy: 'none' | 'id' | null;
  /** contexts whose callers may use the route; empty = every extension's context (never a trunk's) */
  contexts: string[];
  /** calls that came in on a trunk may leave by this route (trunk-to-trunk); off by default */
  allowTrunkCalls: boolean;
  /** ring timeout per trunk attempt, seconds (0 = until the far end gives up) */
  timeout: number;
}

export interface InboundRouteConfig {
  /** the dialled number (DID) pattern; '' = any */
  did: string;
  /** caller-ID pattern; '' = any */
  cid: string;
  /** only calls from this trunk ('' = any trunk) */
  trunk: string;
  /** `${EXTEN}` or an extension; `context,exten,priority`; `voicemail:1001` */
  to: string;
  /** a named time condition: `to` inside it, `else` outside */
  timeCondition: string | null;
  else: string | null;
}

export interface TimeConditionConfig {
  name: string;
  /** Asterisk time specs: `09:00-17:00,mon-fri,*,*` */
  times: TimeSpec[];
  /** whole days (YYYY-MM-DD) that are outside the condition whatever the time */
  holidays: string[];
}

export interface RoutesConfig {
  outbound: OutboundRouteConfig[];
  inbound: InboundRouteConfig[];
  timeConditions: TimeConditionConfig[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const NUMBER_PATTERN = /^(_[0-9A-Za-z*#+[\]\-.!]+|[0-9*#+]+)$/;

function pattern(m: MapReader, offset: number, what: string, text: string | null): string | null {
  if (!text || !NUMBER_PATTERN.test(text)) {
    m.issues.add(offset, `${what} "${text ?? ''}" is not a dial pattern; expected an Asterisk pattern such as _2XXX or _0. or a number such as 2001`);
    return null;
  }
  if (text.startsWith('_')) {
    const p = parsePattern(text);
    if (!Array.isArray(p)) {
      m.issues.add(offset, `${what} "${text}": ${p.error}`);
      return null;
    }
  }
  return text;
}

export function readRoutes(m: MapReader, knownTrunks: () => string[]): RoutesConfig {
  const timeConditions = m.maps('time_conditions').map(readTimeCondition);
  const tcNames = new Set(timeConditions.map((t) => t.name));
  const outbound = m.maps('outbound').map((r) => readOutbound(r, knownTrunks()));
  const seen = new Set<string>();
  outbound.forEach((r, i) => {
    if (seen.has(r.name)) m.issues.add(m.valueOffset('outbound'), `routes.outbound[${i}].name "${r.name}" is used by another route; route names must be unique`);
    seen.add(r.name);
  });
  const inbound = m.maps('inbound').map((r) => readInbound(r, knownTrunks(), tcNames));
  m.done();
  return { outbound, inbound, timeConditions };
}

function readOutbound(r: MapReader, trunks: string[]): OutboundRouteConfig {
  const name = r.string('name', '', { required: true, pattern: NAME, expect: 'expected a name such as to-office-b' });
  const match: string[] = [];
  const list = r.list('match');
  if (!list || list.length === 0) r.issues.add(r.keyOffset('match'), `${r.path}.match is required; expected a list of dial patterns such as ["_2XXX"]`);
  for (const item of list ?? []) {
    const p = pattern(r, item.offset, `${r.path}.match`, item.text);
    if (p) match.push(p);
  }
  const tr: string[] = [];
  const tl = r.list('trunks');
  if (!tl || tl.length === 0) r.issues.add(r.keyOffset('trunks'), `${r.path}.trunks is required; expected the trunks to try in order, such as [office-b]`);
  for (const item of tl ?? []) {
    const t = item.text ?? '';
    if (!trunks.includes(t)) {
      const near = trunks.find((k) => editDistance(k.toLowerCase(), t.toLowerCase()) <= 2);
      r.issues.add(item.offset, `${r.path}.trunks names "${t}", which is not a trunk${near ? `; did you mean ${near}?` : ''} (trunks: ${trunks.join(', ') || 'none defined'})`);
    } else tr.push(t);
  }
  const strip = r.int('strip', 0, 0, 32, 'digits');
  const prepend = r.string('prepend', '', { pattern: /^[0-9*#+]{0,32}$/, expect: 'expected digits to put in front, such as 0049' });
  const pin = r.optionalString('pin');
  if (pin !== null) {
    const v = checkPin(pin, { minLength: 4 });
    if (!v.ok) r.error('pin', `${r.path}.pin is too weak (${v.reason}); choose at least 4 digits that are not a run or a repetition`);
  }
  const callerIdNumber = r.optionalString('caller_id_number', { pattern: /^\+?[0-9*#]{1,32}$/, expect: 'expected digits, optionally with a leading +' });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
  const callerIdName = r.optionalString('caller_id_name', { pattern: /^[^\x00-\x1f"\\]{0,64}$/, expect: 'expected a display name without quotes' });
  const privacy = r.has('privacy') ? r.oneOf('privacy', 'none', ['none', 'id'] as const) : null;
  const contexts: string[] = [];
  for (const c of r.list('contexts') ?? []) {
    if (!c.text || !/^[A-Za-z0-9_-]+$/.test(c.text)) r.issues.add(c.offset, `${r.path}.contexts "${c.text ?? ''}" is not a context name`);
    else contexts.push(c.text);
  }
  const allowTrunkCalls = r.bool('allow_trunk_calls', false);
  const timeout = r.int('timeout', 60, 0, 600, 'seconds');
  r.done();
  return { name, match, trunks: tr, strip, prepend, pin, callerIdNumber, callerIdName, privacy, contexts, allowTrunkCalls, timeout };
}

/** a destination: an extension or ${EXTEN}, context,exten,priority, or voicemail:NNN */
const DEST = /^(\$\{EXTEN\}|[0-9*#+]{1,32}|[A-Za-z0-9_-]+,[^,\s]+,[0-9A-Za-z_-]+|voicemail:[0-9]{1,32})$/;

function readInbound(r: MapReader, trunks: string[], tcs: Set<string>): InboundRouteConfig {
  const didText = r.optionalString('did');
  const did = didText === null ? '' : (pattern(r, r.valueOffset('did'), `${r.path}.did`, didText) ?? '');
  const cidText = r.optionalString('cid');
  const cid = cidText === null ? '' : (pattern(r, r.valueOffset('cid'), `${r.path}.cid`, cidText) ?? '');
  const trunk = r.string('trunk', '');
  if (trunk && !trunks.includes(trunk)) r.error('trunk', `${r.path}.trunk "${trunk}" is not a trunk (trunks: ${trunks.join(', ') || 'none defined'})`);
  const expect = 'expected ${EXTEN}, an extension number, context,exten,priority, or voicemail:NUMBER';
  const to = r.string('to', '', { required: true, pattern: DEST, expect });
  const timeCondition = r.optionalString('time_condition');
  if (timeCondition !== null && !tcs.has(timeCondition)) {
    r.error('time_condition', `${r.path}.time_condition "${timeCondition}" is not defined; define it under routes.time_conditions (defined: ${[...tcs].join(', ') || 'none'})`);
  }
  const otherwise = r.optionalString('else', { pattern: DEST, expect });
  if (otherwise !== null && timeCondition === null) r.error('else', `${r.path}.else needs a time_condition: it is where calls go outside it`);
  r.done();
  return { did, cid, trunk, to, timeCondition, else: otherwise };
}

function readTimeCondition(r: MapReader): TimeConditionConfig {
  const name = r.string('name', '', { required: true, pattern: NAME, expect: 'expected a name such as office-hours' });
  const times: TimeSpec[] = [];
  const list = r.list('times');
  if (!list || list.length === 0) r.issues.add(r.keyOffset('times'), `${r.path}.times is required; expected Asterisk time specs such as ["09:00-17:00,mon-fri,*,*"]`);
  for (const item of list ?? []) {
    const t = parseTimeSpec(item.text ?? '');
    if ('error' in t) r.issues.add(item.offset, `${r.path}.times "${item.text ?? ''}": ${t.error}`);
    else times.push(t);
  }
  const holidays: string[] = [];
  for (const h of r.list('holidays') ?? []) {
    if (!h.text || !/^\d{4}-\d{2}-\d{2}$/.test(h.text) || Number.isNaN(Date.parse(`${h.text}T00:00:00Z`))) {
      r.issues.add(h.offset, `${r.path}.holidays "${h.text ?? ''}" is not a date; expected YYYY-MM-DD such as 2026-12-25`);
    } else holidays.push(h.text);
  }
  r.done();
  return { name, times, holidays };
}
