// What an application sees of the call it runs in. Applications live in
// apps/app-*.ts (and in features, e.g. voicemail) and talk to the call only
// through the Channel interface, its media services (ChannelMedia) and this
// state; they never see SIP.
import type { Channel } from '../channel/channel.js';
import type { ChannelMedia, MediaCall } from '../channel/channel-media.js';
import type { DataSources } from './datasources.js';
import type { PinOutcome } from '../core/pin-outcome.js';

export interface DialplanLog {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
}

export interface CallState extends MediaCall {
  readonly channel: Channel;
  /** prompts, digits, recording, music, conference: the media services on this channel */
  readonly media: ChannelMedia;
  /** the channel's variables (channel.vars) */
  readonly vars: Map<string, string>;
  readonly context: string;
  readonly exten: string;
  readonly priority: number;
  /** ${...} and $[...] substitution with this call's variables */
  substitute(text: string): string;
  /**
   * Jumps like Goto([[context,]exten,]priority|label). Returns null on
   * success or why the target does not exist; the engine then does not
   * advance to the next priority.
   */
  goto(parts: string[]): string | null;
  /**
   * Gosub: jumps like goto() and remembers the next priority; args become
   * ${ARG1}..${ARGn} until Return. Null on success, else why not.
   */
  gosub(parts: string[], args: string[]): string | null;
  /** Return from the innermost Gosub, setting ${GOSUB_RETVAL}; null on success, else why not */
  gosubReturn(value: string): string | null;
  /** does `exten` exist (exact or pattern) in the context (default: the current one) or its includes? */
  hasExten(exten: string, context?: string): boolean;
  /** could more digits after `prefix` still reach an extension in the context (default: the current one)? */
  canMatchMore(prefix: string, context?: string): boolean;
  /**
   * Runs another application by name with unsplit data (ExecIf); null when
   * no such application is registered.
   */
  runApp(name: string, data: string): Promise<AppOutcome> | null;
  readonly log: DialplanLog;
  /** configured data sources and named queries (DBLookup) */
  readonly datasources: DataSources | null;
  /** directory relative file names (Record, MixMonitor) resolve against */
  readonly recordingsDir: string;
  /** how long to wait for each further digit of an extension typed during Background/WaitExten */
  readonly digitTimeoutMs: number;
  /**
   * Reports a PIN checked during this call (Authenticate(),
   * ReportAuthFailure()) to the defences — IDS, security log, reputation —
   * with this call's caller; nothing happens when none are wired in.
   */
  reportPin(o: Omit<PinOutcome, 'call'>): void;
  /** epoch ms by the engine's clock (GotoIfTime; a fake clock in tests) */
  now(): number;
}

/** 'hangup' ends the call (the h extension still runs); nothing means "go on". */
// biome-ignore lint/suspicious/noConfusingVoidType: an application that simply returns means "go on"
export type AppOutcome = void | 'hangup';

export interface DialplanApp {
  /** canonical name, e.g. 'Playback' */
  readonly name: string;
  /** one line for `palisade check` and hints: the Asterisk synopsis */
  readonly synopsis: string;
  /**
   * Arguments after the first may hold caller secrets (a PIN passed to a
   * look-up): LASTDATA, the CDR and the path trace keep only the first one.
   * 'all': the first one too (Authenticate(PIN)).
   */
  readonly sensitiveArgs?: boolean | 'all';
  /**
   * The application places no call and jumps nowhere: it answers, plays,
   * reads, records, sets, or joins the caller to something already inside
   * Palisade (a voicemail box, a room, a parked or ringing call). A number
   * whose every extension runs only such applications stays inside, and the
   * toll-fraud guard counts it as internal (DialplanEngine.staysInside).
   * Left out, the application is taken to be able to reach a trunk.
   */
  readonly placesNoCall?: true;
  /**
   * args: the data after substitution, split as Asterisk does (app-args.ts);
   * data: the same unsplit (Set() and GotoIf() read it whole).
   */
  run(call: CallState, args: string[], data: string): Promise<AppOutcome>;
}
