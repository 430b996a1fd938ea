// queues.conf in Asterisk's syntax (apps/app_queue.c, configs/samples/
// queues.conf.sample), so a call-centre administrator's file loads as is:
//
//   [general]
//   persistentmembers = yes
//
//   [standard](!)                 ; a template
//   strategy = rrmemory
//   timeout = 15
//
//   [support](standard)           ; a queue built on it
//   wrapuptime = 10
//   member => PJSIP/1001
//   member => SIP/1002,1,Bob      ; interface[,penalty[,membername[,state_interface[,ringinuse[,wrapuptime]]]]]
//
// Every problem carries file:line:col and what is expected; unknown keys get
// a "did you mean" hint. Keys Asterisk has that Palisade does not act on are
// refused rather than silently ignored, so nobody believes they work.
import type { ConfigIssue } from '../../config/config-error.js';
import type { SourcePos } from '../../config/config-types.js';
import { editDistance } from '../../core/edit-distance.js';

export const STRATEGIES = ['ringall', 'leastrecent', 'fewestcalls', 'random', 'rrmemory', 'rrordered', 'linear', 'wrandom'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** join/leave-when-empty conditions (app_queue.c enum empty_conditions) */
export const EMPTY_CONDITIONS = ['penalty', 'paused', 'inuse', 'ringing', 'unavailable', 'invalid', 'unknown', 'wrapup'] as const;
export type EmptyCondition = (typeof EMPTY_CONDITIONS)[number];

export interface MemberDef {
  /** as written: PJSIP/1001 */
  readonly iface: string;
  readonly tech: string;
  readonly resource: string;
  readonly penalty: number;
  /** the queue_log agent field; the interface when not named */
  readonly name: string;
  /** per-member overrides (null: the queue's) */
  readonly ringinuse: boolean | null;
  readonly wrapupSec: number | null;
  readonly at: SourcePos;
}

export interface QueueDef {
  readonly name: string;
  strategy: Strategy;
  /** ring a member this long (s) before trying the next */
  timeoutSec: number;
  /** pause between ring rounds (s) */
  retrySec: number;
  /** a member is not rung this long (s) after a call */
  wrapupSec: number;
  /** callers allowed to wait (0 = no limit) */
  maxlen: number;
  musicclass: string;
  /** announce the caller's position every N s (0 = never) */
  announceFrequency: number;
  minAnnounceFrequency: number;
  announcePosition: 'yes' | 'no' | 'limit' | 'more';
  announcePositionLimit: number;
  announceHoldtime: 'yes' | 'no' | 'once';
  periodicAnnounce: string[];
  periodicAnnounceFrequency: number;
  joinempty: Set<EmptyCondition>;
  leavewhenempty: Set<EmptyCondition>;
  /** service level: answered within this many seconds (0 = not tracked) */
  servicelevel: number;
  /** ring members already on a call (default no in Palisade, yes in Asterisk) */
  ringinuse: boolean;
  autofill: boolean;
  /** penalties are ignored while the queue has this many members or fewer */
  penaltymemberslimit: number;
  /** a key the caller presses jumps to that extension in this context (EXITWITHKEY) */
  context: string | null;
  reportholdtime: boolean;
  members: MemberDef[];
  at: SourcePos;
}

export interface QueuesGeneral {
  /** dynamic members survive a restart (kept in the database) */
  persistentmembers: boolean;
  autofill: boolean;
  /** a member's last call counts in every queue it serves (leastrecent, wrap-up) */
  sharedLastcall: boolean;
}

export interface QueuesConf {
  general: QueuesGeneral;
  queues: QueueDef[];
}

export interface QueuesConfParse extends QueuesConf {
  issues: ConfigIssue[];
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,80}$/;
const IFACE_RE = /^([A-Za-z][A-Za-z0-9]*)\/([A-Za-z0-9_.@+-]{1,80})$/;
const PROMPT_RE = /^[A-Za-z0-9_./-]{1,120}$/;

function defaults(name: string, at: SourcePos): QueueDef {
  return {
    name,
    strategy: 'ringall',
    timeoutSec: 15,
    retrySec: 5,
    wrapupSec: 0,
    maxlen: 0,
    musicclass: 'default',
    announceFrequency: 0,
    minAnnounceFrequency: 15,
    announcePosition: 'yes',
    announcePositionLimit: 5,
    announceHoldtime: 'no',
    periodicAnnounce: [],
    periodicAnnounceFrequency: 0,
    joinempty: new Set(),
    leavewhenempty: new Set(),
    servicelevel: 60,
    ringinuse: false,
    autofill: true,
    penaltymemberslimit: 0,
    context: null,
    reportholdtime: false,
    members: [],
    at,
  };
}

function copyDef(src: QueueDef, name: string, at: SourcePos): QueueDef {
  return {
    ...src,
    name,
    at,
    joinempty: new Set(src.joinempty),
    leavewhenempty: new Set(src.leavewhenempty),
    periodicAnnounce: [...src.periodicAnnounce],
    members: [...src.members],
  };
}

const TRUE = new Set(['yes', 'true', 'y', 't', '1', 'on']);
const FALSE = new Set(['no', 'false', 'n', 'f', '0', 'off']);

type Setter = (q: QueueDef, v: string) => string | null;

function intSetter(key: keyof QueueDef, min: number, max: number, unit: string): Setter {
  return (q, v) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) return `expected a whole number ${min}-${max} (${unit})`;
    (q as unknown as Record<string, number>)[key] = Number(v);
    return null;
  };
}

function boolSetter(key: keyof QueueDef): Setter {
  return (q, v) => {
    const l = v.toLowerCase();
    if (TRUE.has(l)) (q as unknown as Record<string, boolean>)[key] = true;
    else if (FALSE.has(l)) (q as unknown as Record<string, boolean>)[key] = false;
    else return 'expected yes or no';
    return null;
  };
}

/** app_queue.c parse_empty_options: a list of conditions, or yes/no/strict/loose */
export function parseEmpty(v: string, join: boolean): Set<EmptyCondition> | string {
  const out = new Set<EmptyCondition>();
  for (const raw of v.split(',')) {
    const o = raw.trim().toLowerCase();
    if ((EMPTY_CONDITIONS as readonly string[]).includes(o)) out.add(o as EmptyCondition);
    else if (o === 'loose') {
      out.clear();
      out.add('penalty').add('invalid');
    } else if (o === 'strict') {
      out.clear();
      for (const c of ['penalty', 'invalid', 'paused', 'unavailable'] as const) out.add(c);
    } else if ((FALSE.has(o) && join) || (TRUE.has(o) && !join)) {
      out.clear();
      for (const c of ['penalty', 'invalid', 'paused'] as const) out.add(c);
    } else if ((FALSE.has(o) && !join) || (TRUE.has(o) && join)) out.clear();
    else return `"${raw.trim()}" is not a condition; expected yes, no, strict, loose or a list of ${EMPTY_CONDITIONS.join(', ')}`;
  }
  return out;
}

const SETTERS: Record<string, Setter> = {
  strategy: (q, v) => {
    const l = v.toLowerCase();
    if (!(STRATEGIES as readonly string[]).includes(l)) return `strategy "${v}" is unknown; expected one of ${STRATEGIES.join(', ')}`;
    q.strategy = l as Strategy;
    return null;
  },
  timeout: intSetter('timeoutSec', 0, 3600, 'seconds a member rings'),
  retry: intSetter('retrySec', 0, 3600, 'seconds between rounds'),
  wrapuptime: intSetter('wrapupSec', 0, 86400, 'seconds after a call'),
  maxlen: intSetter('maxlen', 0, 100000, 'callers, 0 = no limit'),
  musicclass: (q, v) => {
    if (!NAME_RE.test(v)) return 'expected a music on hold class such as default';
    q.musicclass = v;
    return null;
  },
  'announce-frequency': intSetter('announceFrequency', 0, 86400, 'seconds, 0 = never'),
  'min-announce-frequency': intSetter('minAnnounceFrequency', 0, 86400, 'seconds'),
  'announce-position': (q, v) => {
    const l = v.toLowerCase();
    if (l === 'limit' || l === 'more') q.announcePosition = l;
    else if (TRUE.has(l)) q.announcePosition = 'yes';
    else if (FALSE.has(l)) q.announcePosition = 'no';
    else return 'expected yes, no, limit or more';
    return null;
  },
  'announce-position-limit': intSetter('announcePositionLimit', 0, 1000, 'positions'),
  'announce-holdtime': (q, v) => {
    const l = v.toLowerCase();
    if (l === 'once') q.announceHoldtime = 'once';
    else if (TRUE.has(l)) q.announceHoldtime = 'yes';
    else if (FALSE.has(l)) q.announceHoldtime = 'no';
    else return 'expected yes, no or once';
    return null;
  },
  'periodic-announce': (q, v) => {
    const list = v.split(/[,|]/).map((s) => s.trim());
    if (list.some((p) => !PROMPT_RE.test(p))) return 'expected prompt names separated by commas such as queue-thankyou';
    q.periodicAnnounce = list;
    return null;
  },
  'periodic-announce-frequency': intSetter('periodicAnnounceFrequency', 0, 86400, 'seconds, 0 = never'),
  joinempty: (q, v) => {
    const r = parseEmpty(v, true);
    if (typeof r === 'string') return r;
    q.joinempty = r;
    return null;
  },
  leavewhenempty: (q, v) => {
    const r = parseEmpty(v, false);
    if (typeof r === 'string') return r;
    q.leavewhenempty = r;
    return null;
  },
  servicelevel: intSetter('servicelevel', 0, 86400, 'seconds'),
  ringinuse: boolSetter('ringinuse'),
  autofill: boolSetter('autofill'),
  penaltymemberslimit: intSetter('penaltymemberslimit', 0, 100000, 'members'),
  context: (q, v) => {
    if (!NAME_RE.test(v)) return 'expected a dialplan context name';
    q.context = v;
    return null;
  },
  reportholdtime: boolSetter('reportholdtime'),
};

const GENERAL_KEYS = ['persistentmembers', 'autofill', 'shared_lastcall'];

function hint(word: string, known: readonly string[]): string {
  let best = '';
  let d = 3;
  for (const k of known) {
    const e = editDistance(word.toLowerCase(), k);
    if (e < d) {
      d = e;
      best = k;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** `member => PJSIP/1001[,penalty[,membername[,state_interface[,ringinuse[,wrapuptime]]]]]`; a string is the problem */
export function parseMember(value: string, at: SourcePos): MemberDef | string {
  const f = value.split(',').map((s) => s.trim());
  const m = IFACE_RE.exec(f[0] ?? '');
  if (!m) return `member "${f[0] ?? ''}" is not an interface; expected Tech/resource such as PJSIP/1001 or SIP/1001`;
  if (f.length > 6) return 'too many fields; expected interface[,penalty[,membername[,state_interface[,ringinuse[,wrapuptime]]]]]';
  const [, pen = '', name = '', , inuse = '', wrap = ''] = f;
  if (pen !== '' && !/^\d{1,6}$/.test(pen)) return `penalty "${pen}" must be a whole number 0-999999`;
  let ringinuse: boolean | null = null;
  if (inuse !== '') {
    if (TRUE.has(inuse.toLowerCase())) ringinuse = true;
    else if (FALSE.has(inuse.toLowerCase())) ringinuse = false;
    else return `ringinuse "${inuse}" must be yes or no`;
  }
  if (wrap !== '' && !/^\d{1,5}$/.test(wrap)) return `wrapuptime "${wrap}" must be a whole number of seconds`;
  if (name.includes('|')) return 'a member name cannot contain | (it separates queue_log fields)';
  const iface = `${m[1]}/${m[2]}`;
  return { iface, tech: m[1]!, resource: m[2]!, penalty: pen === '' ? 0 : Number(pen), name: name || iface, ringinuse, wrapupSec: wrap === '' ? null : Number(wrap), at };
}

export function parseQueuesConf(text: string, file: string): QueuesConfParse {
  const issues: ConfigIssue[] = [];
  const general: QueuesGeneral = { persistentmembers: true, autofill: true, sharedLastcall: true };
  const byName = new Map<string, QueueDef>();
  const templates = new Map<string, QueueDef>();
  const add = (line: number, col: number, message: string) => issues.push({ file, line, col, message });
  let current: QueueDef | null = null;
  let inGeneral = false;
  let skip = false;

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const semi = raw.indexOf(';');
    const body = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
    if (body === '') continue;
    const col = raw.indexOf(body[0]!) + 1;
    const at = { file, line: lineNo, col };

    if (body.startsWith('[')) {
      current = null;
      inGeneral = false;
      skip = false;
      const m = /^\[([^\]]*)\]\s*(?:\(([^)]*)\))?$/.exec(body);
      if (!m) {
        add(lineNo, col, `section header "${body}" is malformed; expected [queuename] or [queuename](template)`);
        skip = true;
        continue;
      }
      const name = m[1]!.trim();
      const opts = (m[2] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (name === 'general') {
        inGeneral = true;
        continue;
      }
      if (!NAME_RE.test(name)) {
        add(lineNo, col, `queue name "${name}" is invalid; expected letters, digits, _ . or - such as support`);
        skip = true;
        continue;
      }
      if (byName.has(name) || templates.has(name)) {
        add(lineNo, col, `queue ${name} is already defined on line ${(byName.get(name) ?? templates.get(name))!.at.line}; each queue once`);
        skip = true;
        continue;
      }
      let def = defaults(name, at);
      let isTemplate = false;
      for (const o of opts) {
        if (o === '!') isTemplate = true;
        else if (o === '+') add(lineNo, col, '(+) adds to an earlier section, which Palisade does not support; put all of the queue in one section');
        else {
          const t = templates.get(o) ?? byName.get(o);
          if (!t) add(lineNo, col, `template "${o}" is not defined above${hint(o, [...templates.keys()])}; define [${o}](!) before this queue`);
          else def = copyDef(t, name, at);
        }
      }
      (isTemplate ? templates : byName).set(name, def);
      current = def;
      continue;
    }
    if (skip) continue;

    const member = /^member\s*=>?/i.exec(body);
    const eq = body.indexOf('=');
    if (eq < 0) {
      add(lineNo, col, `"${body}" is not a setting; expected key = value or member => PJSIP/1001`);
      continue;
    }
    const key = (member ? 'member' : body.slice(0, eq).trim()).toLowerCase();
    const value = (member ? body.slice(member[0].length) : body.slice(eq + 1).replace(/^>/, '')).trim();
    const valueCol = raw.indexOf(value === '' ? '=' : value, col - 1 + key.length) + 1;

    if (inGeneral) {
      if (!GENERAL_KEYS.includes(key)) {
        add(lineNo, col, `[general] ${key} is not supported${hint(key, GENERAL_KEYS)}; supported: ${GENERAL_KEYS.join(', ')}`);
        continue;
      }
      const l = value.toLowerCase();
      if (!TRUE.has(l) && !FALSE.has(l)) {
        add(lineNo, valueCol, `${key} must be yes or no`);
        continue;
      }
      if (key === 'persistentmembers') general.persistentmembers = TRUE.has(l);
      else if (key === 'autofill') general.autofill = TRUE.has(l);
      else general.sharedLastcall = TRUE.has(l);
      continue;
    }
    if (!current) {
      add(lineNo, col, 'setting outside a queue; put a [queuename] line above it');
      continue;
    }
    if (key === 'member') {
      const r = parseMember(value, at);
      if (typeof r === 'string') add(lineNo, valueCol, r);
      else if (current.members.some((x) => x.iface.toLowerCase() === r.iface.toLowerCase() && x.at.line !== lineNo && x.at.file === file && !isInherited(current!, x))) {
        add(lineNo, valueCol, `member ${r.iface} is already in queue ${current.name}`);
      } else current.members = [...current.members.filter((x) => x.iface.toLowerCase() !== r.iface.toLowerCase()), r];
      continue;
    }
    const set = SETTERS[key];
    if (!set) {
      add(lineNo, col, `${key} is not a queues.conf setting Palisade supports${hint(key, Object.keys(SETTERS))}; supported: member, ${Object.keys(SETTERS).join(', ')}`);
      continue;
    }
    const why = set(current, value);
    if (why) add(lineNo, valueCol, `${key} = ${value}: ${why}`);
  }
  for (const q of byName.values()) if (!general.autofill && q.autofill) q.autofill = false;
  return { general, queues: [...byName.values()], issues };
}

/** a member copied from a template (it may be re-stated in the queue itself) */
function isInherited(q: QueueDef, m: MemberDef): boolean {
  return m.at.line < q.at.line;
}
