// Runs a call through the dialplan, priority by priority, as Asterisk's PBX
// loop does: find the extension (the context first, then its includes in
// order), run the application of the current priority, go on with the next
// one unless the application jumped. Falling off the end hangs up; after a
// hang-up the `h` extension runs once. A bound on steps per call stops an
// endless loop. Each call keeps the dialplan it started with, so a reload
// never changes a call in progress.
import type { Channel, HangupCause } from '../channel/channel.js';
import type { ChannelMedia } from '../channel/channel-media.js';
import { DialplanRegistry } from './dialplan-registry.js';
import type { AppOutcome, CallState, DialplanLog } from './app-types.js';
import { splitArgs } from './app-args.js';
import type { DataSources } from './datasources.js';
import type { Context, Dialplan, Extension, Include } from './dialplan-types.js';
import { timeMatches } from './time-spec.js';
import { extensionMatches } from './matcher.js';
import { substitute } from './substitute.js';
import { strftime } from './funcs/func-strftime.js';
import type { PinOutcome, PinOutcomeSink } from '../core/pin-outcome.js';

export interface StepRecord {
  context: string;
  exten: string;
  priority: number;
  app: string;
  /** the data after substitution */
  data: string;
}

export interface EngineOptions {
  /** at most this many applications per call (h included); default 10,000 */
  maxSteps?: number;
  log?: DialplanLog;
  datasources?: DataSources | null;
  /** where relative Record()/MixMonitor() names land */
  recordingsDir?: string;
  /** wait for each further digit of an extension typed during Background/WaitExten; default 3 s */
  digitTimeoutMs?: number;
  /** called before each application runs (CDR lastapp/lastdata, tracing) */
  onStep?(channel: Channel, step: StepRecord): void;
  /** PINs checked during calls (Authenticate(), ReportAuthFailure()): main.ts hands them to the defences */
  pinOutcome?: PinOutcomeSink;
  /** the applications and functions calls run: the same registry the parser checked against; default: the built-in ones */
  registry?: DialplanRegistry;
  /** the wall clock time conditions (GotoIfTime, time-restricted includes) are judged by; default Date.now */
  now?: () => number;
}

/** Asterisk refuses deeper Gosub nesting too; a runaway recursion ends the call. */
const GOSUB_MAX_DEPTH = 100;

/** Entries kept in ${DIALPLAN_PATH}: the most recent ones. */
const PATH_KEEP = 200;

const silentLog: DialplanLog = { info() {}, warn() {} };

/** Log text that may contain caller input: every digit becomes '#', so no PIN or ID reaches a log. */
export function maskDigits(s: string): string {
  return s.replace(/[0-9]/g, '#');
}

interface Found {
  ctx: Context;
  ext: Extension;
}

/** Finds the extension for `exten` in `context`, then in its includes (depth first, in order, each context once). */
/** is this include in force at `now`? (`include => ctx,times,weekdays,mdays,months[,tz]`) */
function includeOpen(inc: Include, now: number): boolean {
  return inc.time === undefined || timeMatches(inc.time, now);
}

function resolveIn(dp: Dialplan, context: string, exten: string, callerId: string, now: number, seen: Set<string> = new Set()): Found | null {
  if (seen.has(context)) return null;
  seen.add(context);
  const ctx = dp.contexts.get(context);
  if (!ctx) return null;
  const ext = ctx.matcher.match(exten, (e) => e.cid === null || extensionMatches(e.cid, callerId));
  if (ext) return { ctx, ext };
  for (const inc of ctx.includes) {
    if (!includeOpen(inc, now)) continue;
    const f = resolveIn(dp, inc.context, exten, callerId, now, seen);
    if (f) return f;
  }
  return null;
}

function canMatchMoreIn(dp: Dialplan, context: string, prefix: string, now: number, seen: Set<string> = new Set()): boolean {
  if (seen.has(context)) return false;
  seen.add(context);
  const ctx = dp.contexts.get(context);
  if (!ctx) return false;
  if (ctx.matcher.canMatchMore(prefix)) return true;
  return ctx.includes.some((inc) => includeOpen(inc, now) && canMatchMoreIn(dp, inc.context, prefix, now, seen));
}

export class DialplanEngine {
  private dp: Dialplan;
  private readonly maxSteps: number;
  private readonly log: DialplanLog;
  private readonly opts: EngineOptions & { registry: DialplanRegistry };

  constructor(dialplan: Dialplan, opts: EngineOptions = {}) {
    this.opts = { ...opts, registry: opts.registry ?? DialplanRegistry.builtin() };
    this.dp = dialplan;
    this.maxSteps = opts.maxSteps ?? 10_000;
    this.log = opts.log ?? silentLog;
  }

  get dialplan(): Dialplan {
    return this.dp;
  }

  /** the applications and functions this engine runs (a module building a small dialplan of its own parses against it) */
  get registry(): DialplanRegistry {
    return this.opts.registry;
  }

  /** The DBLookup data sources new calls use (the dblookup module attaches them at start, detaches at stop). */
  useDataSources(datasources: DataSources | null): void {
    this.opts.datasources = datasources;
  }

  /** New calls use `dialplan`; calls in progress keep the one they started with. */
  reload(dialplan: Dialplan): void {
    this.dp = dialplan;
  }

  /**
   * Is `exten` written out exactly (not as a pattern) in some context: an IVR,
   * the voicemail number... — a service Palisade answers itself, which the
   * toll-fraud guard counts as internal.
   */
  servesExactly(exten: string): boolean {
    let names = exactNames.get(this.dp);
    if (!names) {
      names = new Set();
      for (const c of this.dp.contexts.values()) for (const e of c.extensions.values()) if (!e.name.startsWith('_')) names.add(e.name);
      exactNames.set(this.dp, names);
    }
    return names.has(exten);
  }

  /**
   * Does a call to `exten` stay inside Palisade, whatever context it starts
   * in and whoever calls? Some extension matches it, and every one that does
   * (exact or pattern, with or without a caller-ID match, in any context)
   * runs only applications that place no call (DialplanApp.placesNoCall),
   * and so does its context's `h`: no Dial(), no jump, no menu. The
   * toll-fraud guard counts such a number as internal, whatever its digits:
   * a feature code by pattern (`_*72X.` to CallForward(), `_*98XXX` to
   * VoiceMailMain(${EXTEN:3})) whose `*` would otherwise class it as
   * international. One extension that may reach a trunk (`_.` to Dial())
   * keeps the number outside.
   */
  staysInside(exten: string): boolean {
    // asked more than once per call (the call gate, the trunks' routing): the answer per number is kept
    // with the loaded dialplan, a bounded number of them (a scanner's endless numbers cannot grow it)
    let numbers = insideNumbers.get(this.dp);
    if (!numbers) insideNumbers.set(this.dp, (numbers = new Map()));
    const known = numbers.get(exten);
    if (known !== undefined) return known;
    const v = this.walkInside(exten);
    if (numbers.size >= INSIDE_NUMBERS_KEPT) numbers.clear();
    numbers.set(exten, v);
    return v;
  }

  private walkInside(exten: string): boolean {
    let verdicts = insideVerdicts.get(this.dp);
    if (!verdicts) insideVerdicts.set(this.dp, (verdicts = new Map()));
    const registry = this.opts.registry;
    const inside = (e: Extension): boolean => {
      let v = verdicts.get(e);
      if (v === undefined) {
        v = e.steps.every((st) => registry.findApp(st.app)?.placesNoCall === true);
        verdicts.set(e, v);
      }
      return v;
    };
    let matched = false;
    let outside = false;
    for (const ctx of this.dp.contexts.values()) {
      let here = false;
      // accept nothing: the matcher offers every extension that matches, best first
      ctx.matcher.match(exten, (e) => {
        here = true;
        if (!inside(e)) outside = true;
        return outside;
      });
      if (outside) return false;
      if (!here) continue;
      matched = true;
      const h = ctx.matcher.match('h');
      if (h && !inside(h)) return false;
    }
    return matched;
  }

  /** Does `exten` exist in `context` (or its includes) for this caller? */
  has(context: string, exten: string, callerId = ''): boolean {
    return resolveIn(this.dp, context, exten, callerId, (this.opts.now ?? Date.now)()) !== null;
  }

  /**
   * Runs the call from its context and dialled number until it ends (h
   * included); `start` begins elsewhere instead, as Goto(context,exten,priority)
   * would (an inbound route's destination). A start that does not exist ends
   * the call as an unknown extension does.
   */
  async run(channel: Channel, media: ChannelMedia, start?: { context: string; exten: string; priority: string }): Promise<void> {
    const call = new CallRun(this.dp, channel, media, this.opts, this.log, this.maxSteps);
    if (start) {
      const why = call.goto([start.context, start.exten, start.priority]);
      if (why !== null) {
        this.log.warn('dialplan.start_missing', { channel: channel.name, reason: why });
        if (!channel.hungUp) await channel.hangup('unallocated').catch(() => {});
        return;
      }
    }
    try {
      await call.run();
      // the way the call went through the dialplan (context,exten,priority:App),
      // for the operator reading the log and for tests proving a branch
      this.log.info('dialplan.ended', { channel: channel.name, path: channel.vars.get('DIALPLAN_PATH') ?? '' });
    } catch (e) {
      // a failing channel operation outside an application (hangup, a hook): never escape to the caller
      this.log.warn('dialplan.run_failed', { channel: channel.name, error: (e as Error).message });
      if (!channel.hungUp) await channel.hangup('failure').catch(() => {});
    }
  }
}

/** exact extension names per loaded dialplan (a reload brings a new Dialplan object) */
const exactNames = new WeakMap<Dialplan, Set<string>>();
/** per dialplan: whether each extension's steps place no call (staysInside) */
const insideVerdicts = new WeakMap<Dialplan, Map<Extension, boolean>>();
/** per dialplan: staysInside's answer per number dialled, at most INSIDE_NUMBERS_KEPT (then forgotten all at once) */
const insideNumbers = new WeakMap<Dialplan, Map<string, boolean>>();
const INSIDE_NUMBERS_KEPT = 4096;

class CallRun implements CallState {
  context: string;
  exten: string;
  priority = 1;
  private jumped = false;
  private steps = 0;
  private readonly path: string[] = [];
  private readonly stack: Array<{ context: string; exten: string; priority: number; saved: Map<string, string | undefined>; argCount: number }> = [];
  private argCount = 0;
  readonly vars: Map<string, string>;
  readonly datasources: DataSources | null;
  readonly recordingsDir: string;
  readonly digitTimeoutMs: number;

  constructor(
    private readonly dp: Dialplan,
    readonly channel: Channel,
    readonly media: ChannelMedia,
    private readonly opts: EngineOptions & { registry: DialplanRegistry },
    readonly log: DialplanLog,
    private readonly maxSteps: number,
  ) {
    this.context = channel.context;
    this.exten = channel.dialed;
    this.vars = channel.vars;
    this.datasources = opts.datasources ?? null;
    this.recordingsDir = opts.recordingsDir ?? process.cwd();
    this.digitTimeoutMs = opts.digitTimeoutMs ?? 3000;
  }

  /** the wall clock of time conditions (EngineOptions.now) */
  now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private callerId(): string {
    return this.vars.get('CALLERID(num)') ?? this.channel.callerIdNum;
  }

  getVar = (name: string): string => {
    switch (name) {
      case 'EXTEN':
        return this.exten;
      case 'CONTEXT':
        return this.context;
      case 'PRIORITY':
        return String(this.priority);
      case 'UNIQUEID':
        return this.channel.id;
      case 'CHANNEL':
        return this.channel.name;
      case 'EPOCH':
        return String(Math.floor(Date.now() / 1000));
      case 'DATETIME':
        return strftime(Date.now(), '', '%d%m%Y-%H:%M:%S');
      case 'TIMESTAMP':
        return strftime(Date.now(), '', '%Y%m%d-%H%M%S');
      case 'CALLERIDNUM':
        return this.callerId();
      case 'CALLERIDNAME':
        return this.vars.get('CALLERID(name)') ?? this.channel.callerIdName;
    }
    return this.vars.get(name) ?? this.dp.globals.get(name) ?? '';
  };

  substitute(text: string): string {
    return substitute(text, {
      channel: this.channel,
      getVar: this.getVar,
      findFunction: (name) => this.opts.registry.findFunction(name),
      dialplanExists: (context, exten, prio) => {
        if (!this.dp.contexts.has(context)) return false;
        if (exten === null) return true;
        const f = resolveIn(this.dp, context, exten, this.callerId(), this.now());
        if (!f) return false;
        if (prio === null) return true;
        return /^\d+$/.test(prio) ? f.ext.byPriority.has(Number(prio)) : f.ext.byLabel.has(prio);
      },
      // the text may hold caller input (a PIN): digits are masked before it reaches the log
      onError: (what) => this.log.warn('dialplan.substitution_error', { context: this.context, exten: this.exten, priority: this.priority, error: maskDigits(what) }),
    });
  }

  reportPin(o: Omit<PinOutcome, 'call'>): void {
    this.opts.pinOutcome?.({ ...o, call: this.channel });
  }

  runApp(name: string, data: string): Promise<AppOutcome> | null {
    const app = this.opts.registry.findApp(name);
    return app ? app.run(this, splitArgs(data), data) : null;
  }

  hasExten(exten: string, context = this.context): boolean {
    return resolveIn(this.dp, context, exten, this.callerId(), this.now()) !== null;
  }

  canMatchMore(prefix: string, context = this.context): boolean {
    return canMatchMoreIn(this.dp, context, prefix, this.now());
  }

  goto(parts: string[]): string | null {
    const p = parts.map((s) => s.trim());
    if (p.length === 0 || p.length > 3 || p[p.length - 1] === '') return 'expected [[context,]extension,]priority';
    const context = p.length === 3 ? p[0]! : this.context;
    const exten = p.length >= 2 ? p[p.length - 2]! || this.exten : this.exten;
    const prio = p[p.length - 1]!;
    if (!this.dp.contexts.has(context)) return `no context [${context}]`;
    const found = resolveIn(this.dp, context, exten, this.callerId(), this.now());
    if (!found) return `no extension ${exten} in [${context}]`;
    let priority: number;
    if (/^\d+$/.test(prio)) {
      priority = Number(prio);
      if (!found.ext.byPriority.has(priority)) return `no priority ${priority} in extension ${exten} of [${context}]`;
    } else {
      const step = found.ext.byLabel.get(prio);
      if (!step) return `no label ${prio} in extension ${exten} of [${context}]`;
      priority = step.priority;
    }
    this.context = context;
    this.exten = exten;
    this.priority = priority;
    this.jumped = true;
    return null;
  }

  gosub(parts: string[], args: string[]): string | null {
    if (this.stack.length >= GOSUB_MAX_DEPTH) return `Gosub nested more than ${GOSUB_MAX_DEPTH} deep`;
    const ret = { context: this.context, exten: this.exten, priority: this.priority + 1 };
    const err = this.goto(parts);
    if (err) return err;
    // ${ARGn} are local to the subroutine: keep the caller's, restore them on Return
    const saved = new Map<string, string | undefined>();
    const count = Math.max(args.length, this.argCount);
    for (let i = 1; i <= count; i++) saved.set(`ARG${i}`, this.vars.get(`ARG${i}`));
    for (let i = 1; i <= count; i++) {
      if (i <= args.length) this.vars.set(`ARG${i}`, args[i - 1]!);
      else this.vars.delete(`ARG${i}`);
    }
    this.stack.push({ ...ret, saved, argCount: this.argCount });
    this.argCount = args.length;
    return null;
  }

  gosubReturn(value: string): string | null {
    const frame = this.stack.pop();
    if (!frame) return 'Return without Gosub: the stack is empty';
    for (const [k, v] of frame.saved) {
      if (v === undefined) this.vars.delete(k);
      else this.vars.set(k, v);
    }
    this.argCount = frame.argCount;
    this.vars.set('GOSUB_RETVAL', value);
    this.context = frame.context;
    this.exten = frame.exten;
    this.priority = frame.priority;
    this.jumped = true;
    return null;
  }

  async run(): Promise<void> {
    let cause: HangupCause = 'normal';
    if (!this.jumped && (!this.dp.contexts.has(this.context) || !resolveIn(this.dp, this.context, this.exten, this.callerId(), this.now()))) {
      this.log.info('dialplan.no_extension', { channel: this.channel.name, context: this.context, exten: this.exten });
      cause = 'unallocated';
      if (!this.channel.hungUp) await this.channel.hangup(cause);
      return;
    }
    await this.loop(false);
    // autofallthrough: Asterisk hangs up with its best guess from the last Dial
    const ds = this.vars.get('DIALSTATUS');
    if (ds === 'BUSY') cause = 'busy';
    else if (ds === 'CONGESTION' || ds === 'CHANUNAVAIL') cause = 'congestion';
    if (!this.channel.hungUp) await this.channel.hangup(cause);
    // The h extension runs once, in the context the call ended in (Asterisk).
    if (resolveIn(this.dp, this.context, 'h', this.callerId(), this.now())) {
      this.exten = 'h';
      this.priority = 1;
      await this.loop(true);
    }
  }

  private async loop(inH: boolean): Promise<void> {
    for (;;) {
      if (!inH && this.channel.hungUp) return;
      if (this.steps >= this.maxSteps) {
        this.log.warn('dialplan.step_limit', { channel: this.channel.name, context: this.context, exten: this.exten, priority: this.priority, limit: this.maxSteps });
        this.vars.set('DIALPLAN_ERROR', `step limit ${this.maxSteps} reached`);
        if (!this.channel.hungUp) await this.channel.hangup('failure');
        return;
      }
      const found = resolveIn(this.dp, this.context, this.exten, this.callerId(), this.now());
      const step = found?.ext.byPriority.get(this.priority);
      if (!step) return; // fell off the end: hang up (autofallthrough)
      this.steps++;
      const app = this.opts.registry.findApp(step.app);
      const data = this.substitute(step.data);
      const args = splitArgs(data);
      this.record(step.app, app?.sensitiveArgs === 'all' ? '***' : app?.sensitiveArgs && args.length > 1 ? `${args[0]},***` : data);
      let outcome: AppOutcome;
      this.jumped = false;
      if (!app) {
        // registered at load, gone now (a feature unloaded): end the call cleanly
        this.log.warn('dialplan.app_missing', { app: step.app, at: `${step.at.file}:${step.at.line}` });
        outcome = 'hangup';
      } else {
        try {
          outcome = await app.run(this, args, data);
        } catch (e) {
          this.log.warn('dialplan.app_failed', {
            channel: this.channel.name,
            app: step.app,
            at: `${step.at.file}:${step.at.line}`,
            error: (e as Error).message,
          });
          this.vars.set('DIALPLAN_ERROR', `${step.app} failed: ${(e as Error).message}`);
          if (!this.channel.hungUp) await this.channel.hangup('failure').catch(() => {});
          outcome = 'hangup';
        }
      }
      if (outcome === 'hangup') return;
      if (!this.jumped) this.priority++;
    }
  }

  private record(app: string, data: string): void {
    const rec: StepRecord = { context: this.context, exten: this.exten, priority: this.priority, app, data };
    this.vars.set('LASTAPP', app);
    this.vars.set('LASTDATA', data);
    this.path.push(`${this.context},${this.exten},${this.priority}:${app}`);
    if (this.path.length > PATH_KEEP) this.path.shift();
    this.vars.set('DIALPLAN_PATH', this.path.join('|'));
    try {
      this.opts.onStep?.(this.channel, rec);
    } catch (e) {
      this.log.warn('dialplan.on_step_failed', { error: (e as Error).message });
    }
  }
}
