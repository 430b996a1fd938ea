// Outgoing e-mail with a spool: a message handed to send() is written to disk
// (atomically: temp file, fsync, rename) before send() resolves, then
// delivered over SMTP. Delivery failures are retried with growing delays for
// as long as it takes, across restarts, so a voicemail or an alert is never
// lost because the mail server was down. Only a permanent refusal (SMTP 5xx)
// moves a message aside, to failed/, where the operator can look at it.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** implicit TLS (port 465 style); otherwise STARTTLS is used when offered */
  secure: boolean;
  /** refuse to send unless STARTTLS succeeds */
  requireTls: boolean;
  user: string | null;
  password: string | null;
  /** verify the server certificate (off only for test servers with self-signed certificates) */
  verifyCertificate: boolean;
}

export interface MailerOptions {
  smtp: SmtpSettings;
  from: string;
  /** spool directory; queue/ and failed/ are created inside */
  spoolDir: string;
  /** first retry delay; doubles per attempt up to maxRetryMs */
  retryMs?: number;
  maxRetryMs?: number;
  /** how many messages are delivered at once */
  concurrency?: number;
}

export interface MailAttachment {
  filename: string;
  /** a file to attach (copied into the spool at send() time) */
  path?: string;
  content?: Buffer | string;
  contentType?: string;
}

export interface MailMessage {
  /** sender for this message (e.g. voicemail.email_from); the mailer's from otherwise */
  from?: string;
  to: string | string[];
  subject: string;
  text: string;
  attachments?: MailAttachment[];
}

/** what the spool keeps per message */
interface Spooled {
  id: string;
  queuedAt: number;
  attempts: number;
  from?: string;
  to: string[];
  subject: string;
  text: string;
  attachments: Array<{ filename: string; file: string; contentType?: string }>;
}

/** anything that can deliver one message; nodemailer in production */
export interface MailTransport {
  sendMail(msg: { from: string; to: string[]; subject: string; text: string; attachments: Array<{ filename: string; path: string; contentType?: string }> }): Promise<unknown>;
  close?(): void;
}

export class Mailer {
  private readonly queueDir: string;
  private readonly failedDir: string;
  private readonly transport: MailTransport;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly concurrency: number;
  private readonly inFlight = new Set<string>();
  /** id → when it may be tried next */
  private readonly due = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly idleWaiters: Array<() => void> = [];
  readonly stats = { sent: 0, retried: 0, failed: 0 };

  constructor(
    private readonly opts: MailerOptions,
    private readonly log: Logger,
    transport?: MailTransport,
  ) {
    this.queueDir = join(opts.spoolDir, 'queue');
    this.failedDir = join(opts.spoolDir, 'failed');
    mkdirSync(this.queueDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.failedDir, { recursive: true, mode: 0o700 });
    this.retryMs = opts.retryMs ?? 5_000;
    this.maxRetryMs = opts.maxRetryMs ?? 600_000;
    this.concurrency = opts.concurrency ?? 2;
    this.transport = transport ?? createSmtpTransport(opts.smtp);
  }

  /** picks up what an earlier run left in the spool and starts delivering */
  start(): void {
    this.running = true;
    for (const name of readdirSync(this.queueDir)) {
      if (name.endsWith('.json')) this.due.set(name.slice(0, -5), Date.now());
    }
    // a crash between writing an attachment and the message file leaves
    // attachment folders without a message: nothing refers to them, drop them
    for (const name of readdirSync(this.queueDir)) {
      if (!name.endsWith('.json') && !name.endsWith('.tmp') && !this.due.has(name)) rmSync(join(this.queueDir, name), { recursive: true, force: true });
    }
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.transport.close?.();
  }

  /** messages waiting in the spool (including ones being delivered now) */
  pending(): number {
    return this.due.size;
  }

  /**
   * Spools a message; resolves once it is safely on disk (not when it is
   * delivered) with the spool id. The disk work is asynchronous: an fsync
   * must not stall the event loop that carries SIP and RTP.
   */
  async send(msg: MailMessage): Promise<string> {
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const to = Array.isArray(msg.to) ? msg.to : [msg.to];
    if (to.length === 0) throw new Error('mail without a recipient');
    const attDir = join(this.queueDir, id);
    const attachments: Spooled['attachments'] = [];
    if (msg.attachments?.length) {
      await mkdir(attDir, { mode: 0o700 });
      for (const [i, a] of msg.attachments.entries()) {
        const file = join(attDir, `${i}`);
        if (a.path !== undefined) await copyFile(a.path, file);
        else await writeFile(file, a.content ?? '');
        attachments.push({ filename: a.filename, file, contentType: a.contentType });
      }
    }
    const spooled: Spooled = { id, queuedAt: Date.now(), attempts: 0, from: msg.from, to, subject: msg.subject, text: msg.text, attachments };
    await this.writeSpooled(spooled);
    this.due.set(id, Date.now());
    this.log.info('mail-queued', { id, to: to.join(','), subject: msg.subject, attachments: attachments.length });
    this.kick();
    return id;
  }

  /** resolves when nothing is due right now (for shutdown and tests) */
  idle(): Promise<void> {
    if (this.inFlight.size === 0 && this.nextDue() > Date.now()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async writeSpooled(s: Spooled): Promise<void> {
    const final = join(this.queueDir, `${s.id}.json`);
    const tmp = `${final}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(s));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  }

  private nextDue(): number {
    let min = Infinity;
    for (const [id, t] of this.due) if (!this.inFlight.has(id) && t < min) min = t;
    return min;
  }

  private kick(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    for (const [id, t] of this.due) {
      if (this.inFlight.size >= this.concurrency) break;
      if (t <= now && !this.inFlight.has(id)) void this.deliver(id);
    }
    const next = this.nextDue();
    if (next !== Infinity && this.inFlight.size < this.concurrency) {
      this.timer = setTimeout(() => this.kick(), Math.max(0, next - Date.now()));
      this.timer.unref();
    }
    if (this.inFlight.size === 0 && next > now) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async deliver(id: string): Promise<void> {
    this.inFlight.add(id);
    const file = join(this.queueDir, `${id}.json`);
    let s: Spooled;
    try {
      s = JSON.parse(await readFile(file, 'utf8')) as Spooled;
    } catch (err) {
      this.log.error('mail-spool-unreadable', { id, error: (err as Error).message });
      await rename(file, join(this.failedDir, `${id}.json`)).catch(() => undefined);
      this.due.delete(id);
      this.inFlight.delete(id);
      this.kick();
      return;
    }
    try {
      await this.transport.sendMail({
        from: s.from ?? this.opts.from,
        to: s.to,
        subject: s.subject,
        text: s.text,
        attachments: s.attachments.map((a) => ({ filename: a.filename, path: a.file, contentType: a.contentType })),
      });
      await rm(file, { force: true });
      await rm(join(this.queueDir, id), { recursive: true, force: true });
      this.due.delete(id);
      this.stats.sent++;
      this.log.info('mail-sent', { id, to: s.to.join(','), attempts: s.attempts + 1 });
    } catch (err) {
      const e = err as Error & { responseCode?: number };
      s.attempts++;
      if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600) {
        // the server refused the message itself: retrying would repeat the refusal
        await rename(file, join(this.failedDir, `${id}.json`));
        this.due.delete(id);
        this.stats.failed++;
        this.log.error('mail-refused', { id, to: s.to.join(','), code: e.responseCode, error: e.message, kept_in: this.failedDir });
      } else {
        await this.writeSpooled(s);
        const delay = Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(20, s.attempts - 1));
        this.due.set(id, Date.now() + delay);
        this.stats.retried++;
        this.log.warn('mail-retry', { id, attempts: s.attempts, retry_in_ms: delay, error: e.message });
      }
    } finally {
      this.inFlight.delete(id);
      this.kick();
    }
  }
}

/**
 * nodemailer, loaded on the first message: a server that never mails (no
 * voicemail to e-mail, no alerts) does not carry it in memory.
 */
function createSmtpTransport(smtp: SmtpSettings): MailTransport {
  let made: Promise<{ sendMail(m: unknown): Promise<unknown>; close(): void }> | null = null;
  const transport = () =>
    (made ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: smtp.requireTls,
        auth: smtp.user !== null ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
        tls: { rejectUnauthorized: smtp.verifyCertificate },
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      }),
    ));
  return {
    sendMail: async (m) => (await transport()).sendMail(m),
    close: () => void made?.then((t) => t.close()).catch(() => undefined),
  };
}
