// Voicemail messages on disk, in the layout Asterisk administrators know:
//
//   SPOOL/CONTEXT/MAILBOX/INBOX/ID.wav + ID.json   new messages
//   SPOOL/CONTEXT/MAILBOX/Old/ID.wav   + ID.json   heard or saved
//   SPOOL/CONTEXT/MAILBOX/greet/unavail.wav|busy.wav|name.wav
//   SPOOL/CONTEXT/MAILBOX/pin.json                  a PIN its owner changed (scrypt)
//   SPOOL/CONTEXT/MAILBOX/tmp/                      recordings in progress
//
// The .json file is the index entry: a message exists once its .json is in a
// folder. Every write lands in tmp/ first and is renamed into place (rename is
// atomic within a file system), WAV before JSON, so a kill -9 at any instant
// leaves either no message or a whole one; recover() at start-up finishes or
// undoes whatever a crash interrupted.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;

export type Folder = 'INBOX' | 'Old';
export const FOLDERS: readonly Folder[] = ['INBOX', 'Old'];
export type GreetingKind = 'unavail' | 'busy' | 'name';

export interface MailboxRef {
  context: string;
  number: string;
}

export interface MessageMeta {
  id: string;
  mailbox: string;
  context: string;
  callerIdNum: string;
  callerIdName: string;
  /** epoch ms */
  origTime: number;
  durationMs: number;
  urgent: boolean;
  /** the channel that left it, for the log and the admin */
  channel: string;
}

export interface StoredMessage extends MessageMeta {
  folder: Folder;
  wavPath: string;
}

export interface MessageCounts {
  newCount: number;
  oldCount: number;
  urgentNew: number;
  urgentOld: number;
}

export class MailboxStore {
  constructor(readonly spoolDir: string) {}

  boxDir(b: MailboxRef): string {
    return join(this.spoolDir, safe(b.context), safe(b.number));
  }

  /** a fresh path under tmp/ for a recording in progress */
  async tempPath(b: MailboxRef, ext = '.wav'): Promise<string> {
    const dir = join(this.boxDir(b), 'tmp');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return join(dir, `${Date.now()}-${randomBytes(4).toString('hex')}${ext}`);
  }

  /** moves a finished recording into INBOX: WAV first, then its index entry */
  async commit(b: MailboxRef, tmpWav: string, meta: Omit<MessageMeta, 'id' | 'mailbox' | 'context'>): Promise<StoredMessage> {
    const id = `${meta.origTime.toString().padStart(14, '0')}-${randomBytes(3).toString('hex')}`;
    const full: MessageMeta = { id, mailbox: b.number, context: b.context, ...meta };
    const folderDir = join(this.boxDir(b), 'INBOX');
    await mkdir(folderDir, { recursive: true, mode: 0o700 });
    await fsyncFile(tmpWav);
    const wavPath = join(folderDir, `${id}.wav`);
    await rename(tmpWav, wavPath);
    await writeAtomic(join(this.boxDir(b), 'tmp'), join(folderDir, `${id}.json`), JSON.stringify(full));
    return { ...full, folder: 'INBOX', wavPath };
  }

  async list(b: MailboxRef, folder: Folder): Promise<StoredMessage[]> {
    const dir = join(this.boxDir(b), folder);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: StoredMessage[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      try {
        const meta = JSON.parse(await readFile(join(dir, n), 'utf8')) as MessageMeta;
        out.push({ ...meta, folder, wavPath: join(dir, `${meta.id}.wav`) });
      } catch {
        /* an index entry removed between readdir and read */
      }
    }
    return out.sort((a, b) => a.origTime - b.origTime || (a.id < b.id ? -1 : 1));
  }

  async counts(b: MailboxRef): Promise<MessageCounts> {
    const inbox = await this.list(b, 'INBOX');
    const old = await this.list(b, 'Old');
    return {
      newCount: inbox.length,
      oldCount: old.length,
      urgentNew: inbox.filter((m) => m.urgent).length,
      urgentOld: old.filter((m) => m.urgent).length,
    };
  }

  async find(b: MailboxRef, id: string): Promise<StoredMessage | null> {
    if (!/^[0-9a-f-]+$/.test(id)) return null;
    for (const f of FOLDERS) {
      const m = (await this.list(b, f)).find((x) => x.id === id);
      if (m) return m;
    }
    return null;
  }

  /** INBOX → Old (heard or saved); WAV first so recover() can finish a half move */
  async move(m: StoredMessage, to: Folder): Promise<StoredMessage> {
    if (m.folder === to) return m;
    const b = { context: m.context, number: m.mailbox };
    const dest = join(this.boxDir(b), to);
    await mkdir(dest, { recursive: true, mode: 0o700 });
    const wavPath = join(dest, `${m.id}.wav`);
    await rename(m.wavPath, wavPath);
    await rename(join(this.boxDir(b), m.folder, `${m.id}.json`), join(dest, `${m.id}.json`));
    return { ...m, folder: to, wavPath };
  }

  /** index entry first: once it is gone the message is gone, whatever happens to the WAV */
  async remove(m: StoredMessage): Promise<void> {
    const dir = join(this.boxDir({ context: m.context, number: m.mailbox }), m.folder);
    await unlink(join(dir, `${m.id}.json`));
    await rm(m.wavPath, { force: true });
  }

  greetingPath(b: MailboxRef, kind: GreetingKind): string {
    return join(this.boxDir(b), 'greet', `${kind}.wav`);
  }

  async hasGreeting(b: MailboxRef, kind: GreetingKind): Promise<boolean> {
    try {
      return (await stat(this.greetingPath(b, kind))).size > 44;
    } catch {
      return false;
    }
  }

  async saveGreeting(b: MailboxRef, kind: GreetingKind, tmpWav: string): Promise<void> {
    await mkdir(join(this.boxDir(b), 'greet'), { recursive: true, mode: 0o700 });
    await fsyncFile(tmpWav);
    await rename(tmpWav, this.greetingPath(b, kind));
  }

  /** a PIN the owner set through the menu; it replaces voicemail.conf's */
  async setPin(b: MailboxRef, pin: string): Promise<void> {
    const salt = randomBytes(16);
    const hash = await scrypt(pin, salt, 32);
    const body = JSON.stringify({ scheme: 'scrypt', salt: salt.toString('base64'), hash: hash.toString('base64'), changed: new Date().toISOString() });
    await mkdir(this.boxDir(b), { recursive: true, mode: 0o700 });
    await writeAtomic(join(this.boxDir(b), 'tmp'), join(this.boxDir(b), 'pin.json'), body);
  }

  /** compares in constant time against the owner's PIN, else the configured one */
  async verifyPin(b: MailboxRef, configured: string, entered: string): Promise<boolean> {
    let stored: { salt: string; hash: string } | null = null;
    try {
      stored = JSON.parse(await readFile(join(this.boxDir(b), 'pin.json'), 'utf8')) as { salt: string; hash: string };
    } catch {
      stored = null;
    }
    if (stored) {
      const want = Buffer.from(stored.hash, 'base64');
      const got = await scrypt(entered, Buffer.from(stored.salt, 'base64'), want.length);
      return timingSafeEqual(want, got);
    }
    // a mailbox without a PIN (implicit, from an extension) cannot be logged in to
    if (configured === '') return false;
    const a = Buffer.from(configured.padEnd(16, '\0'));
    const c = Buffer.from(entered.padEnd(16, '\0'));
    return a.length === c.length && timingSafeEqual(a, c) && configured.length === entered.length;
  }

  /**
   * Start-up repair after a crash: drop recordings that were never committed,
   * finish a move whose WAV went ahead of its index entry, and remove WAVs
   * that no index entry names.
   */
  async recover(boxes: readonly MailboxRef[]): Promise<{ discarded: number; repaired: number }> {
    let discarded = 0;
    let repaired = 0;
    for (const b of boxes) {
      const root = this.boxDir(b);
      const tmp = join(root, 'tmp');
      for (const n of await names(tmp)) {
        await rm(join(tmp, n), { force: true });
        discarded++;
      }
      const wavs = new Map<Folder, Set<string>>();
      const jsons = new Map<Folder, Set<string>>();
      for (const f of FOLDERS) {
        const ns = await names(join(root, f));
        wavs.set(f, new Set(ns.filter((n) => n.endsWith('.wav')).map((n) => n.slice(0, -4))));
        jsons.set(f, new Set(ns.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5))));
      }
      for (const f of FOLDERS) {
        const other: Folder = f === 'INBOX' ? 'Old' : 'INBOX';
        for (const id of jsons.get(f)!) {
          if (wavs.get(f)!.has(id)) continue;
          if (wavs.get(other)!.has(id)) {
            // a move interrupted between its two renames
            await rename(join(root, f, `${id}.json`), join(root, other, `${id}.json`));
            jsons.get(other)!.add(id);
            repaired++;
          } else {
            await unlink(join(root, f, `${id}.json`));
            discarded++;
          }
        }
      }
      for (const f of FOLDERS) {
        for (const id of wavs.get(f)!) {
          if (jsons.get(f)!.has(id)) continue;
          await rm(join(root, f, `${id}.wav`), { force: true });
          discarded++;
        }
      }
    }
    return { discarded, repaired };
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** path segments come from configuration (digits, context names); refuse anything else */
function safe(seg: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(seg)) throw new Error(`PAL_ERR_VM_PATH: unsafe mailbox path segment "${seg}"`);
  return seg;
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** write to a temporary name in tmpDir, flush, and rename over dest */
async function writeAtomic(tmpDir: string, dest: string, body: string): Promise<void> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir, `.${randomBytes(6).toString('hex')}.part`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, dest);
}
