// Structured logging: one JSON object per line on stdout, written by pino.
// Levels can be set per subsystem ("sip", "rtp", "registrar", ...) and
// changed at a reload. Callers must never pass a secret, HA1, PIN or a whole
// Authorization header; redacting every field named like one (SECRET_NAME,
// nested fields too) is a last line of defence.
//
// A line: {"level":"info","time":"2026-12-06T01:02:03.456Z","worker":1,"sub":"sip","event":"…",…fields}
// ("worker" only with sip.workers > 1).
import { pino, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A field whose name ends like a secret's is never written, at any depth of
 * the fields (nested objects and arrays, 4 levels): `password`, `newPassword`,
 * `trunk.secret`, `voicemail_pin`, `auth_pass`, `ha1_sha256`,
 * `Proxy-Authorization`, `apiKey`, `accessToken` … in any case, with `_` or
 * `-` between the words. Counts and switches named after a secret keep their
 * value (`weakPins`, `pinMinLength`, `secret_set: true`): only the name's end
 * counts, and a boolean is never a secret.
 */
const SECRET_NAME =
  /(?:pass|passwd|password|pass[_-]?phrase|password[_-]?hash|secret|pin|ha1|ha1[_-]?md5|ha1[_-]?sha[_-]?256|authori[sz]ation|token|api[_-]?key|private[_-]?key|master[_-]?key)$/i;
const CENSOR = '[redacted]';
const REDACT_DEPTH = 4;

function secretValue(key: string, value: unknown): boolean {
  return value !== undefined && value !== null && typeof value !== 'boolean' && SECRET_NAME.test(key);
}

/** whether anything in `v` (to REDACT_DEPTH) is a secret by its name: the common answer, no, allocates nothing */
function holdsSecret(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null || depth > REDACT_DEPTH) return false;
  if (Array.isArray(v)) {
    for (const item of v) if (holdsSecret(item, depth + 1)) return true;
    return false;
  }
  if (!isPlain(v)) return false;
  for (const key in v) {
    const value = (v as Record<string, unknown>)[key];
    if (secretValue(key, value) || holdsSecret(value, depth + 1)) return true;
  }
  return false;
}

/** a copy of `v` with every secret-named value replaced (only where holdsSecret found one) */
function redacted(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null || depth > REDACT_DEPTH) return v;
  if (Array.isArray(v)) return v.map((item) => redacted(item, depth + 1));
  if (!isPlain(v)) return v;
  const out: Record<string, unknown> = {};
  for (const key in v) {
    const value = (v as Record<string, unknown>)[key];
    out[key] = secretValue(key, value) ? CENSOR : redacted(value, depth + 1);
  }
  return out;
}

/** a plain object: one of a class (an Error, a Buffer, a Map, one with its own toJSON) is left to pino as it is */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === Object.prototype || proto === null;
}

export interface LogSink {
  write(line: string): void;
}

// One synchronous write per line (stdout to a pipe is write(2) on Linux): a
// line leaves before the packet its handling sends next, so whoever reads the
// log sees it before the far end sees the answer. Sending a loop turn's lines
// in one write saved about 2.5 % of a call's CPU but lost that order.
const stdoutSink: LogSink = { write: (line) => void process.stdout.write(line) };

export class Logger {
  private threshold: number;
  private out: PinoLogger;
  constructor(
    readonly subsystem: string,
    private readonly root: LogRoot,
  ) {
    this.threshold = root.thresholdFor(subsystem);
    this.out = root.childFor(subsystem);
  }

  isEnabled(level: LogLevel): boolean {
    return RANK[level] >= this.threshold;
  }

  debug(event: string, fields?: Record<string, unknown>): void {
    if (RANK.debug >= this.threshold) this.write('debug', event, fields);
  }
  info(event: string, fields?: Record<string, unknown>): void {
    if (RANK.info >= this.threshold) this.write('info', event, fields);
  }
  warn(event: string, fields?: Record<string, unknown>): void {
    if (RANK.warn >= this.threshold) this.write('warn', event, fields);
  }
  error(event: string, fields?: Record<string, unknown>): void {
    if (RANK.error >= this.threshold) this.write('error', event, fields);
  }

  /** re-read the threshold and the root's bindings after they changed */
  refresh(): void {
    this.threshold = this.root.thresholdFor(this.subsystem);
    this.out = this.root.childFor(this.subsystem);
  }

  // pino writes a field it cannot serialise (a cycle, a toJSON that throws) as a placeholder and keeps the line
  private write(level: LogLevel, event: string, fields: Record<string, unknown> | undefined): void {
    if (fields === undefined) return void this.out[level]({ event });
    const safe = holdsSecret(fields, 0) ? (redacted(fields, 0) as Record<string, unknown>) : fields;
    this.out[level]({ event, ...safe });
  }
}

export class LogRoot {
  private loggers = new Map<string, Logger>();
  private out: PinoLogger;
  constructor(
    private level: LogLevel = 'info',
    private levels: Record<string, LogLevel> = {},
    private readonly sink: LogSink = stdoutSink,
  ) {
    this.out = this.make(null);
  }

  get(subsystem: string): Logger {
    let l = this.loggers.get(subsystem);
    if (!l) {
      l = new Logger(subsystem, this);
      this.loggers.set(subsystem, l);
    }
    return l;
  }

  setLevels(level: LogLevel, levels: Record<string, LogLevel> = {}): void {
    this.level = level;
    this.levels = levels;
    for (const l of this.loggers.values()) l.refresh();
  }

  /** several workers (sip.workers > 1): every line this process writes names its worker; null: none */
  setWorker(index: number | null): void {
    this.out = this.make(index);
    for (const l of this.loggers.values()) l.refresh();
  }

  thresholdFor(subsystem: string): number {
    return RANK[this.levels[subsystem] ?? this.level];
  }

  /** @internal the pino logger of one subsystem */
  childFor(subsystem: string): PinoLogger {
    return this.out.child({ sub: subsystem });
  }

  private make(worker: number | null): PinoLogger {
    return pino(
      {
        // each Logger holds its subsystem's threshold (levels change at a reload): pino writes what it is handed
        level: 'debug',
        base: worker === null ? null : { worker },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      this.sink,
    );
  }
}
