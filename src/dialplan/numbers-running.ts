// The numbers of a dialplan that lead to one of some applications. Several
// workers (sip.workers > 1) steer a call to such a number to the worker that
// holds the state the application shares among its callers — Queue()'s
// line, ConfBridge()'s room — before the call starts (src/core/worker-bus.ts).
//
// A number leads to the application when an extension of that name (in any
// context) runs it, or jumps to one that does with a Goto(), GotoIf(),
// Gosub() or GosubIf() whose target is written out (`Goto(queues,600,1)`,
// `Goto(600,1)`, either branch of `GotoIf(cond?600,1:700,1)`), through any
// number of such jumps. Pattern extensions count too: `_6XX` that runs
// Queue() (or jumps to it) makes every number it matches lead there.
// Two more ways a call may get there, followed as well:
// - a menu: an extension that runs Background() or WaitExten() may go to
//   any extension of its context (the key the caller presses, `i`, `t`), so
//   it leads there when one of those does — the call may end in the queue,
//   so it is started where the queue is;
// - a target built from the number itself (`Goto(queues,${EXTEN},1)`,
//   `${EXTEN:2}`, `${EXTEN:-3}`): worked out for each number asked (and
//   remembered), since the number decides where it lands.
// - a target built from any other variable (`Goto(sales,${CHOICE},1)` after
//   Read(), a database answer): it may be any extension the variable can
//   name, so it is taken as all of them — any extension of the written-out
//   context, and, when the context or the whole target is the variable
//   (`Goto(${DEST},1)`: a variable may also hold `context,exten`), any
//   extension of the dialplan. Such a call is steered to the queue's worker
//   whenever one of those targets leads there: it may run in that worker
//   without need, but never waits in a second line of the queue elsewhere.
// Built once per parsed dialplan and set of applications (a reload brings a
// new dialplan).
import type { Context, Dialplan, Extension } from './dialplan-types.js';
import { compilePattern as compile } from './matcher.js';
import { topLevelIndex } from './app-args.js';
import { substitute, substring, type SubstEnv } from './substitute.js';

/** the numbers that lead to the applications */
export interface NumbersRunning {
  has(number: string): boolean;
  /** whether a call started at `exten` of `context` (an inbound route's target) leads there */
  leadsFrom(context: string, exten: string): boolean;
  /** the exact extensions among them (for tests and logs) */
  readonly exact: ReadonlySet<string>;
  /** the patterns among them, as written */
  readonly patterns: readonly string[];
}

const built = new WeakMap<Dialplan, Map<string, NumbersRunning>>();

const JUMPS = new Set(['goto', 'gotoif', 'gosub', 'gosubif']);
/** applications after which the caller's key picks the extension of the context (a menu) */
const MENUS = new Set(['background', 'waitexten']);
/** how many jumps a number's own walk follows; how many numbers' answers are kept */
const WALK_DEPTH = 16;
const ASKED_MAX = 4096;

/** where a jump is made: its step (an index of the extension's steps) and the priority it lands on, as written */
interface JumpStep {
  step: number;
  priority: string;
}

/** a jump whose extension is the number itself or a piece of it: `${EXTEN}`, `${EXTEN:2}`, `${EXTEN:-3}`, `${EXTEN:1:4}` */
interface NumberJump extends JumpStep {
  context: string | null;
  offset: number;
  length: number | undefined;
}

/** a written-out jump to another extension, with the name jumped to (it becomes the number there) */
interface NamedJump extends JumpStep {
  to: Extension;
  exten: string;
}

/** `apps` lower-case */
export function numbersRunning(dp: Dialplan, apps: readonly string[]): NumbersRunning {
  const key = apps.join(',');
  let perApps = built.get(dp);
  const have = perApps?.get(key);
  if (have) return have;
  const result = build(dp, apps);
  if (!perApps) built.set(dp, (perApps = new Map()));
  perApps.set(key, result);
  return result;
}

/** the jumps of one dialplan, whatever the applications asked about */
interface Graph {
  /** the written-out jumps of every extension (to the extensions they name), and a menu's to its context's */
  jumps: Map<Extension, Extension[]>;
  /** the jumps made of the number itself */
  byNumber: Map<Extension, NumberJump[]>;
  /** the written-out jumps to another extension */
  named: Map<Extension, NamedJump[]>;
  contextOf: Map<Extension, Context>;
  /** the extensions with a jump whose context (or whole target) is a variable: they may land anywhere */
  anywhere: Set<Extension>;
}

const graphs = new WeakMap<Dialplan, Graph>();

function graphOf(dp: Dialplan): Graph {
  const have = graphs.get(dp);
  if (have) return have;
  const jumps = new Map<Extension, Extension[]>();
  const byNumber = new Map<Extension, NumberJump[]>();
  const named = new Map<Extension, NamedJump[]>();
  const contextOf = new Map<Extension, Context>();
  const anywhere = new Set<Extension>();
  for (const ctx of dp.contexts.values()) {
    for (const e of ctx.extensions.values()) {
      contextOf.set(e, ctx);
      const to: Extension[] = [];
      for (const [step, st] of e.steps.entries()) {
        const app = st.app.toLowerCase();
        if (MENUS.has(app)) {
          for (const k of reachable(dp, ctx, new Set())) if (k !== e) to.push(k);
          continue;
        }
        if (!JUMPS.has(app)) continue;
        for (const target of jumpTargets(app, st.data)) {
          const nj = numberJump(target, step);
          if (nj) {
            byNumber.set(e, [...(byNumber.get(e) ?? []), nj]);
            continue;
          }
          if (target.some((x) => x.includes('$'))) {
            const land = variableLanding(dp, ctx, e, target);
            if (land === 'anywhere') anywhere.add(e);
            else for (const k of land) if (k !== e) to.push(k);
            continue;
          }
          const t = resolve(dp, ctx, e, target);
          if (t && t !== e) {
            to.push(t);
            if (target.length >= 2) named.set(e, [...(named.get(e) ?? []), { to: t, exten: target[target.length - 2]!, step, priority: target[target.length - 1]! }]);
          }
        }
      }
      if (to.length > 0) jumps.set(e, to);
    }
  }
  const g = { jumps, byNumber, named, contextOf, anywhere };
  graphs.set(dp, g);
  return g;
}

/** the landing of a jump made of the number: its extension and the number there */
function numberLanding(dp: Dialplan, g: Graph, e: Extension, j: NumberJump, exten: string): { to: Extension; exten: string } | null {
  const next = substring(exten, j.offset, j.length);
  const c = j.context === null ? g.contextOf.get(e) : dp.contexts.get(j.context);
  const to = c ? find(dp, c, next, new Set()) : undefined;
  return to ? { to, exten: next } : null;
}

/**
 * A call at `e` whose number is `exten`, followed through the jumps made of
 * the number and the written-out ones (the number becomes the name jumped
 * to): the first answer `at` gives for an extension on the way, or null.
 * `s` is what the walk carries into an extension; `enter`, when given,
 * works out the next one at each jump (appReached: the variables known).
 */
function walkJumps<T, S>(
  dp: Dialplan,
  g: Graph,
  e: Extension,
  exten: string,
  at: (e: Extension, exten: string, s: S) => T | null,
  s: S,
  enter: ((from: Extension, exten: string, s: S, jump: JumpStep, to: Extension) => S) | null,
  depth = 0,
): T | null {
  const here = at(e, exten, s);
  if (here !== null || depth >= WALK_DEPTH) return here;
  for (const j of g.byNumber.get(e) ?? []) {
    const l = numberLanding(dp, g, e, j, exten);
    const r = l ? walkJumps(dp, g, l.to, l.exten, at, enter ? enter(e, exten, s, j, l.to) : s, enter, depth + 1) : null;
    if (r !== null) return r;
  }
  for (const n of g.named.get(e) ?? []) {
    const r = walkJumps(dp, g, n.to, n.exten, at, enter ? enter(e, exten, s, n, n.to) : s, enter, depth + 1);
    if (r !== null) return r;
  }
  return null;
}

function build(dp: Dialplan, apps: readonly string[]): NumbersRunning {
  const leads = new Set<Extension>();
  for (const ctx of dp.contexts.values()) {
    for (const e of ctx.extensions.values()) if (e.steps.some((st) => apps.includes(st.app.toLowerCase()))) leads.add(e);
  }
  const g = graphOf(dp);
  const { jumps, byNumber } = g;
  // to a fixed point: an extension that jumps to one that leads there, leads there
  // (one that may jump anywhere, as soon as any extension leads there)
  for (let grew = true; grew; ) {
    grew = false;
    for (const [e, to] of jumps) {
      if (!leads.has(e) && to.some((t) => leads.has(t))) {
        leads.add(e);
        grew = true;
      }
    }
    if (leads.size === 0) break;
    for (const e of g.anywhere) {
      if (!leads.has(e)) {
        leads.add(e);
        grew = true;
      }
    }
  }
  const exact = new Set<string>();
  const patterns: string[] = [];
  const matchers: Array<(n: string) => boolean> = [];
  for (const e of leads) {
    if (!e.name.startsWith('_')) exact.add(e.name);
    else if (!patterns.includes(e.name)) {
      const m = compile(e.name);
      if (m) {
        patterns.push(e.name);
        matchers.push(m);
      }
    }
  }
  const fixed = matchers.length === 0 ? (n: string) => exact.has(n) : (n: string) => exact.has(n) || matchers.some((m) => m(n));
  if (byNumber.size === 0) {
    return {
      exact,
      patterns,
      has: fixed,
      leadsFrom: (context, exten) => {
        const c = dp.contexts.get(context);
        const e = c ? find(dp, c, exten, new Set()) : undefined;
        return e !== undefined && leads.has(e);
      },
    };
  }
  // a call at `e` whose number is `exten`: where its jumps built of the number land, through named jumps too
  const leadsThere = (x: Extension): true | null => (leads.has(x) ? true : null);
  const walk = (e: Extension, exten: string): boolean => walkJumps(dp, g, e, exten, leadsThere, undefined, null) === true;
  // remembered per number (bounded: the oldest answer leaves first)
  const asked = new Map<string, boolean>();
  const remember = (key: string, v: boolean): boolean => {
    if (asked.size >= ASKED_MAX) asked.delete(asked.keys().next().value!);
    asked.set(key, v);
    return v;
  };
  return {
    exact,
    patterns,
    has: (n) => {
      if (fixed(n)) return true;
      const have = asked.get(n);
      if (have !== undefined) return have;
      let v = false;
      for (const c of dp.contexts.values()) {
        const e = find(dp, c, n, new Set());
        if (e && walk(e, n)) {
          v = true;
          break;
        }
      }
      return remember(n, v);
    },
    leadsFrom: (context, exten) => {
      const key = `${context}\u0000${exten}`;
      const have = asked.get(key);
      if (have !== undefined) return have;
      const c = dp.contexts.get(context);
      const e = c ? find(dp, c, exten, new Set()) : undefined;
      return remember(key, e !== undefined && walk(e, exten));
    },
  };
}

/** an application a number's call reaches, with its arguments worked out */
export interface AppReached {
  /** lower-case */
  app: string;
  /** the step's data with ${EXTEN} (and its pieces) and the variables known on the way replaced, as the engine would */
  data: string;
}

/**
 * The variables a call surely holds at a step, by the Set() steps on its one
 * straight way there. Names as written: the engine's are case-sensitive
 * (`Set(t=1)` is not `${T}`).
 */
type Known = ReadonlyMap<string, string>;

/** how appReached's walk enters an extension: the step it starts at, and the variables known there (null: none any more) */
interface Entry {
  index: number;
  vars: Known | null;
}

/** the number's own extension, from its first step: nothing set yet */
const START: Entry = { index: 0, vars: new Map() };
/** past a step whose effect is not followed: no variable is known from here on, whatever is Set() later */
const LOST: Entry = { index: 0, vars: null };

/**
 * Steps that neither jump nor touch a variable a dialplan sets (beside Set()
 * itself): the call goes on to the next priority with its variables as they
 * were. Any other (GotoIf, ExecIf, Gosub, Read, DBLookup, Dial, a menu, a
 * module's application) ends what is known.
 */
const QUIET = new Set(['answer', 'noop', 'verbose', 'log', 'progress', 'ringing', 'wait', 'playback', 'saydigits', 'saynumber']);
/** names the engine works out or writes itself (engine.ts getVar() and record(), Playback()'s status): never known from a Set() */
const ENGINE_VARS = new Set([
  'CONTEXT',
  'PRIORITY',
  'UNIQUEID',
  'CHANNEL',
  'EPOCH',
  'DATETIME',
  'TIMESTAMP',
  'CALLERIDNUM',
  'CALLERIDNAME',
  'LASTAPP',
  'LASTDATA',
  'DIALPLAN_PATH',
  'PLAYBACKSTATUS',
]);
/** a longer value is not followed: Set() steps that double a value must not grow it without end on the steering path */
const VALUE_MAX = 256;
/** as app-set.ts reads a name: the inheritance prefix dropped, then a plain name */
const INHERIT_PREFIX = /^_{1,2}/;
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** Set(CALLERID(num)=...): the next step may be another extension's (a caller-ID match) */
const CALLER_NUMBER = /^CALLERID\(num\)$/i;
const DIGITS = /^\d+$/;

/** what substitute() reads of a call when only the dialplan is known: one object, reused (the walk is synchronous) */
const view: { exten: string; vars: Known | null; sure: boolean } = { exten: '', vars: null, sure: true };
const VIEW_ENV: SubstEnv = {
  // never read: no function is found, so none runs
  get channel(): never {
    throw new Error('no channel: the dialplan is read before the call exists');
  },
  getVar(name) {
    if (name === 'EXTEN') return view.exten;
    const v = ENGINE_VARS.has(name) ? undefined : view.vars?.get(name);
    if (v === undefined) view.sure = false;
    return v ?? '';
  },
  // a function's answer is the call's (CALLERID(), CUT() of what it holds, a database's): not known
  findFunction() {
    view.sure = false;
    return undefined;
  },
  onError() {
    view.sure = false;
  },
};

/** `text` with ${EXTEN} and the known variables worked out as the engine does (substitute.ts), or null when it holds anything else */
function workedOut(text: string, exten: string, vars: Known | null): string | null {
  if (text.indexOf('$') < 0) return text;
  // an expression is not evaluated here: its regex operators would run on a number a stranger sent, before the call is let in
  if (text.includes('$[')) return null;
  view.exten = exten;
  view.vars = vars;
  view.sure = true;
  const out = substitute(text, VIEW_ENV);
  view.vars = null;
  // a '$' the number itself brought is not worked out further
  return view.sure && out.indexOf('$') < 0 ? out : null;
}

/** the variables after `Set(data)`, as app-set.ts sets them; null when it may have set one not known */
function afterSet(dp: Dialplan, data: string, exten: string, vars: Known): Known | null {
  const eq = data.indexOf('=');
  const dollar = data.indexOf('$');
  // a name built by the call (`Set(${NAME}=1)`): it may be any variable
  if (dollar >= 0 && (eq < 0 || dollar < eq)) return null;
  // no name: the engine logs it and sets nothing
  if (eq <= 0) return vars;
  const name = data.slice(0, eq).trim().replace(INHERIT_PREFIX, '');
  // CALLERID(name), TIMEOUT(), MESSAGE() and a bad name set nothing ${NAME} reads
  if (!PLAIN_NAME.test(name)) return CALLER_NUMBER.test(name) ? null : vars;
  // the value as written, spaces kept; an empty one clears the variable, and the global of that name shows again
  let value = workedOut(data.slice(eq + 1), exten, vars);
  if (value === '') value = dp.globals.get(name) ?? '';
  const next = new Map(vars);
  if (value === null || value.length > VALUE_MAX || value.includes('$')) next.delete(name);
  else next.set(name, value);
  return next;
}

/**
 * The variables known at step `until` of `e`, entered as `from` says: null
 * when a step before it may jump, end the call or change a variable in a way
 * not followed (or the call does not come to it from there).
 */
function varsAt(dp: Dialplan, e: Extension, exten: string, from: Entry, until: number): Known | null {
  let vars = from.vars;
  if (vars === null || until < from.index) return null;
  for (let i = from.index; i < until && vars !== null; i++) {
    const st = e.steps[i]!;
    // the next priority missing: the call ends after this one
    if (e.steps[i + 1]!.priority !== st.priority + 1) return null;
    const app = st.app.toLowerCase();
    if (app === 'set') vars = afterSet(dp, st.data, exten, vars);
    else if (!QUIET.has(app)) return null;
  }
  return vars;
}

/** the entry of a jump from `from` to `to`: the variables go along an unconditional Goto() that lands on a priority `to` has */
function enterBy(dp: Dialplan, from: Extension, exten: string, s: Entry, jump: JumpStep, to: Extension): Entry {
  if (s.vars === null || from.steps[jump.step]!.app.toLowerCase() !== 'goto') return LOST;
  const step = DIGITS.test(jump.priority) ? to.byPriority.get(Number(jump.priority)) : to.byLabel.get(jump.priority);
  const index = step ? to.steps.indexOf(step) : -1;
  const vars = index < 0 ? null : varsAt(dp, from, exten, s, jump.step);
  return vars ? { index, vars } : LOST;
}

/** per dialplan, per list of applications (its identity: callers pass one constant), per number */
const reached = new WeakMap<Dialplan, WeakMap<readonly string[], Map<string, AppReached | null>>>();

/**
 * The first of `apps` (lower-case) a call to `number` reaches through its
 * extension's steps and the jumps the dialplan decides by itself (written
 * out, or made of the number), with ${EXTEN} in its arguments worked out:
 * `_7XXX => Pickup(${EXTEN:1})` dialled as 7102 reaches Pickup(102). So are
 * the variables Set() gave on the call's one straight way there (its steps in
 * order, through Goto()s): `Set(T=${EXTEN:2})`, then `Pickup(${T})`; a value
 * made of text, ${EXTEN} and variables so known, pieces too (`${T:1}`).
 * Null when none is reached or its arguments hold anything else: a
 * variable the call decides (a Read(), a database answer, a function), or one
 * set after a step that may jump or whose effect is not followed (GotoIf,
 * ExecIf, Gosub...). Remembered per number (bounded).
 */
export function appReached(dp: Dialplan, number: string, apps: readonly string[]): AppReached | null {
  let perApps = reached.get(dp);
  if (!perApps) reached.set(dp, (perApps = new WeakMap()));
  let memo = perApps.get(apps);
  if (!memo) perApps.set(apps, (memo = new Map()));
  const key = number;
  const have = memo.get(key);
  if (have !== undefined) return have;
  const g = graphOf(dp);
  // the first of `apps` among the extension's steps, its arguments worked out; null (go on) when it runs none
  const runs = (e: Extension, exten: string, s: Entry): AppReached | false | null => {
    for (let i = 0; i < e.steps.length; i++) {
      const st = e.steps[i]!;
      const app = st.app.toLowerCase();
      if (!apps.includes(app)) continue;
      // ${EXTEN} alone, else with the variables the Set() steps on the way gave
      const data = workedOut(st.data, exten, null) ?? workedOut(st.data, exten, varsAt(dp, e, exten, s, i));
      // an argument not known: reached, but not known (false stops the walk)
      return data === null ? false : { app, data };
    }
    return null;
  };
  const enter = (from: Extension, exten: string, s: Entry, jump: JumpStep, to: Extension): Entry => enterBy(dp, from, exten, s, jump, to);
  const walk = (e: Extension, exten: string): AppReached | null => walkJumps(dp, g, e, exten, runs, START, enter) || null;
  let found: AppReached | null = null;
  for (const c of dp.contexts.values()) {
    const e = find(dp, c, number, new Set());
    found = e ? walk(e, number) : null;
    if (found) break;
  }
  if (memo.size >= ASKED_MAX) memo.delete(memo.keys().next().value!);
  memo.set(key, found);
  return found;
}

/** `[context,]${EXTEN[:offset[:length]]}[,priority]` with a written-out context: a jump made of the number (made at `step`) */
function numberJump(parts: string[], step: number): NumberJump | null {
  if (parts.length < 2) return null;
  const exten = parts[parts.length - 2]!;
  const m = /^\$\{EXTEN(?::(-?\d+)(?::(-?\d+))?)?\}$/.exec(exten);
  if (!m) return null;
  const context = parts.length >= 3 ? parts[0]! : null;
  if (context?.includes('$')) return null;
  if (parts[parts.length - 1]!.includes('$')) return null;
  return { context, offset: m[1] === undefined ? 0 : Number(m[1]), length: m[2] === undefined ? undefined : Number(m[2]), step, priority: parts[parts.length - 1]! };
}

/** every extension a call in this context can be sent to by a key: its own and those of its includes */
function reachable(dp: Dialplan, c: Context, seen: Set<string>): Extension[] {
  if (seen.has(c.name)) return [];
  seen.add(c.name);
  const out = [...c.extensions.values()];
  for (const inc of c.includes) {
    const ic = dp.contexts.get(inc.context);
    if (ic) out.push(...reachable(dp, ic, seen));
  }
  return out;
}

/** the worker that holds what `number` leads to (BusHomes: application → worker), or -1 */
export function homeOfNumber(homes: ReadonlyMap<string, number>, dp: Dialplan, number: string): number {
  for (const [worker, apps] of byWorker(homes)) if (numbersRunning(dp, apps).has(number)) return worker;
  return -1;
}

/** the worker that holds what a call started at `context,exten` leads to, or -1 */
export function homeOfTarget(homes: ReadonlyMap<string, number>, dp: Dialplan, context: string, exten: string): number {
  for (const [worker, apps] of byWorker(homes)) if (numbersRunning(dp, apps).leadsFrom(context, exten)) return worker;
  return -1;
}

const grouped = new WeakMap<ReadonlyMap<string, number>, { size: number; groups: Array<[number, string[]]> }>();

/** the applications grouped by the worker that holds them (each list sorted, so it keys the cache alike) */
function byWorker(homes: ReadonlyMap<string, number>): Array<[number, string[]]> {
  const have = grouped.get(homes);
  if (have && have.size === homes.size) return have.groups;
  const m = new Map<number, string[]>();
  for (const [app, w] of homes) m.set(w, [...(m.get(w) ?? []), app].sort());
  const groups = [...m];
  grouped.set(homes, { size: homes.size, groups });
  return groups;
}

/** the targets of a jump step ([context, exten, priority] parts, 1 to 3), variables still in them */
function jumpTargets(app: string, data: string): string[][] {
  let branches: string[];
  if (app === 'gotoif' || app === 'gosubif') {
    // the condition and the branches split where no ${...} or $[...] holds the '?' or ':'
    const q = topLevelIndex(data, '?');
    if (q < 0) return [];
    const rest = data.slice(q + 1);
    const colon = topLevelIndex(rest, ':');
    branches = colon < 0 ? [rest] : [rest.slice(0, colon), rest.slice(colon + 1)];
  } else branches = [data];
  const out: string[][] = [];
  for (const b of branches) {
    // Gosub(ctx,exten,prio(args)): the arguments are not part of the target
    const label = b.replace(/\(.*\)\s*$/, '').trim();
    if (label === '') continue;
    out.push(label.split(',').map((x) => x.trim()));
  }
  return out;
}

/** where a jump with a variable in its target may land */
function variableLanding(dp: Dialplan, ctx: Context, from: Extension, parts: string[]): Extension[] | 'anywhere' {
  // the first part a variable: the context, or the whole target (a variable may hold commas)
  if (parts[0]!.includes('$')) return 'anywhere';
  // a written-out context, its extension a variable: any extension there
  if (parts.length >= 3 && parts[1]!.includes('$')) {
    const c = dp.contexts.get(parts[0]!);
    return c ? reachable(dp, c, new Set()) : [];
  }
  // only the priority a variable: the written-out extension
  const t = resolve(dp, ctx, from, parts);
  return t ? [t] : [];
}

/** the extension a jump lands in: the same one (priority only), one of this context, or one of another */
function resolve(dp: Dialplan, ctx: Context, from: Extension, parts: string[]): Extension | undefined {
  if (parts.length < 2) return from;
  const [c, exten] = parts.length >= 3 ? [dp.contexts.get(parts[0]!), parts[1]!] : [ctx, parts[0]!];
  if (!c) return undefined;
  return find(dp, c, exten, new Set());
}

/** an extension every caller may get (no caller-ID match written after its name) */
const noCallerIdMatch = (e: Extension): boolean => e.cid === null;

/** the extension of that name in the context or those it includes: exact first, then the best pattern that matches it */
function find(dp: Dialplan, c: Context, exten: string, seen: Set<string>): Extension | undefined {
  if (seen.has(c.name)) return undefined;
  seen.add(c.name);
  // the extension the engine picks (exact, then the best pattern: engine.ts resolveIn) for a caller no
  // caller-ID match applies to; else one kept under a caller-ID key ("100/_10XX"), which some callers get
  const hit = c.matcher.match(exten, noCallerIdMatch) ?? c.matcher.match(exten);
  if (hit) return hit;
  for (const inc of c.includes) {
    const ic = dp.contexts.get(inc.context);
    const hit = ic ? find(dp, ic, exten, seen) : undefined;
    if (hit) return hit;
  }
  return undefined;
}
