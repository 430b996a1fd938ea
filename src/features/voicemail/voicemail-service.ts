// The voicemail system behind the two dialplan applications and MWI: the
// configured mailboxes, their messages on disk, the e-mail to the owner and
// the "messages waiting" signal. Applications and the admin socket both go
// through deposit()/remove()/markOld() so every change notifies MWI once.
import { rm } from 'node:fs/promises';
import type { MailboxConfig, VoicemailConfig } from '../../config/config-types.js';
import type { Logger } from '../../observability/logger.js';
import { MailboxStore, type MailboxRef, type MessageCounts, type StoredMessage } from './mailbox-store.js';
import { readWavInfo } from './wav-info.js';

/** one e-mail as the mail spool takes it; the spool copies the attachment when it takes the mail */
export interface VoicemailMail {
  /** undefined: the mail section's from */
  from?: string;
  to: string;
  subject: string;
  text: string;
  attachments: Array<{ filename: string; path: string; contentType: string }>;
}

/**
 * The persistent mail spool (src/mail/). enqueue resolves once the mail is
 * safely on disk; delivery and its retries happen afterwards, so an SMTP
 * server that is down never loses a message.
 */
export interface MailQueue {
  enqueue(mail: VoicemailMail): Promise<void>;
}

export interface DepositInput {
  /** a WAV under the store's tmp/ (or anywhere on the same file system); moved, not copied */
  tmpWav: string;
  callerIdNum: string;
  callerIdName: string;
  channel: string;
  urgent?: boolean;
  /** epoch ms; now by default */
  origTime?: number;
}

export type MwiListener = (box: MailboxRef, counts: MessageCounts) => void;

export class VoicemailService {
  readonly store: MailboxStore;
  private readonly boxes = new Map<string, MailboxConfig>();
  private readonly listeners = new Set<MwiListener>();

  constructor(
    readonly cfg: VoicemailConfig,
    private readonly mail: MailQueue | null,
    private readonly log: Logger,
    /** an extension's e-mail from palisade.yaml when voicemail.conf gives none */
    private readonly extensionEmail: (number: string) => string | null = () => null,
  ) {
    this.store = new MailboxStore(cfg.spoolDir);
    for (const b of cfg.mailboxes) this.boxes.set(key(b), b);
  }

  /**
   * The mailboxes of extensions imported into the database (`palisade users
   * import`), replacing the previous set: at start, and on reload-extensions
   * so a running server takes new ones at once. A configured mailbox of the
   * same number wins, as a configured extension wins over an imported one.
   * Calls in progress keep the mailbox they found.
   */
  setImportedMailboxes(boxes: readonly MailboxConfig[]): void {
    this.boxes.clear();
    for (const b of this.cfg.mailboxes) this.boxes.set(key(b), b);
    for (const b of boxes) if (!this.boxes.has(key(b))) this.boxes.set(key(b), b);
  }

  /** finish or undo what a crash interrupted (see MailboxStore.recover) */
  async start(): Promise<void> {
    const r = await this.store.recover([...this.boxes.values()]);
    if (r.discarded > 0 || r.repaired > 0) this.log.warn('spool-recovered', r);
  }

  /** "756", "756@default" → the mailbox, or undefined */
  mailbox(spec: string, defaultContext = 'default'): MailboxConfig | undefined {
    const at = spec.indexOf('@');
    const number = at >= 0 ? spec.slice(0, at) : spec;
    const context = at >= 0 ? spec.slice(at + 1) : defaultContext;
    return this.boxes.get(`${number}@${context}`);
  }

  mailboxes(): MailboxConfig[] {
    return [...this.boxes.values()];
  }

  onChange(l: MwiListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  counts(b: MailboxRef): Promise<MessageCounts> {
    return this.store.counts(b);
  }

  /** true when the mailbox already holds max_messages */
  async isFull(b: MailboxRef): Promise<boolean> {
    const c = await this.store.counts(b);
    return c.newCount + c.oldCount >= this.cfg.maxMessages;
  }

  /**
   * Files a recording as a new message, queues the e-mail with the WAV
   * attached, and signals MWI. The message is committed before the mail is
   * queued: whatever the mail system does, the message stays in the mailbox
   * (unless delete=yes and the mail spool holds a copy).
   */
  async deposit(box: MailboxConfig, input: DepositInput): Promise<StoredMessage> {
    const info = readWavInfo(input.tmpWav);
    const msg = await this.store.commit(box, input.tmpWav, {
      callerIdNum: input.callerIdNum,
      callerIdName: input.callerIdName,
      origTime: input.origTime ?? Date.now(),
      durationMs: info?.durationMs ?? 0,
      urgent: input.urgent ?? false,
      channel: input.channel,
    });
    this.log.info('message-deposited', { mailbox: key(box), id: msg.id, duration_ms: msg.durationMs, caller: input.callerIdNum });
    let mailed = false;
    const to = box.email ?? this.extensionEmail(box.number);
    if (to && this.mail) {
      try {
        await this.mail.enqueue(await this.buildMail(box, msg, to));
        mailed = true;
        this.log.info('message-mail-queued', { mailbox: key(box), id: msg.id, to });
      } catch (err) {
        // the message is in the mailbox; the owner still gets MWI and the menu
        this.log.error('message-mail-failed', { mailbox: key(box), id: msg.id, error: (err as Error).message });
      }
    }
    if (box.deleteAfterEmail && mailed && box.attach) {
      await this.store.remove(msg);
      this.log.info('message-deleted-after-mail', { mailbox: key(box), id: msg.id });
    }
    await this.changed(box);
    return msg;
  }

  async markOld(m: StoredMessage): Promise<StoredMessage> {
    const moved = await this.store.move(m, 'Old');
    await this.changed({ context: m.context, number: m.mailbox });
    return moved;
  }

  async remove(m: StoredMessage): Promise<void> {
    await this.store.remove(m);
    await this.changed({ context: m.context, number: m.mailbox });
  }

  /** every message of a mailbox, INBOX first (the order VoiceMailMain plays them) */
  async messages(b: MailboxRef): Promise<StoredMessage[]> {
    return [...(await this.store.list(b, 'INBOX')), ...(await this.store.list(b, 'Old'))];
  }

  async discard(tmpWav: string): Promise<void> {
    await rm(tmpWav, { force: true });
  }

  private async changed(b: MailboxRef): Promise<void> {
    const counts = await this.store.counts(b);
    for (const l of this.listeners) {
      try {
        l(b, counts);
      } catch (err) {
        this.log.error('mwi-listener-failed', { error: (err as Error).message });
      }
    }
  }

  private async buildMail(box: MailboxConfig, msg: StoredMessage, to: string): Promise<VoicemailMail> {
    const total = (await this.store.list(box, 'INBOX')).length;
    const vars: Record<string, string> = {
      VM_NAME: box.name,
      VM_MAILBOX: box.number,
      VM_CONTEXT: box.context,
      VM_CALLERID: msg.callerIdName ? `"${msg.callerIdName}" <${msg.callerIdNum}>` : msg.callerIdNum || 'an unknown caller',
      VM_CIDNUM: msg.callerIdNum,
      VM_CIDNAME: msg.callerIdName,
      VM_DUR: formatDuration(msg.durationMs),
      VM_DATE: new Date(msg.origTime).toUTCString(),
      VM_MSGNUM: String(total),
    };
    const fill = (t: string) => t.replace(/\$\{([A-Z_]+)\}/g, (all, name: string) => vars[name] ?? all);
    const attachments: VoicemailMail['attachments'] = [];
    if (box.attach) {
      attachments.push({ filename: `msg-${box.number}-${msg.id}.wav`, path: msg.wavPath, contentType: 'audio/wav' });
    }
    // a header must stay on one line whatever the caller put in its display name
    return { from: this.cfg.emailFrom ?? undefined, to, subject: fill(this.cfg.emailSubject).replace(/[\r\n]+/g, ' '), text: fill(this.cfg.emailBody), attachments };
  }
}

function key(b: MailboxRef): string {
  return `${b.number}@${b.context}`;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
