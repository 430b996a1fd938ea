// `palisade users import FILE.csv --config FILE [--context NAME]`:
// provision extensions from `number,secret[,name[,email[,voicemail]]]` lines.
// Every line is validated first (number, password and PIN policy,
// duplicates); if any is bad, nothing is imported. Secrets are stored only as
// HA1 (MD5 and SHA-256) for the configured realm, all rows in one
// transaction. Each extension gets the mailbox of its number in [default]
// (e-mail from the email field) unless its voicemail field says no; a PIN
// the file does not give is generated and shown once on the terminal.
import { readFileSync } from 'node:fs';
import { ConfigError, formatIssue } from '../config/config-error.js';
import { loadServerConfig } from '../host/index.js';
import type { LoadedConfig } from '../security/config/load-config.js';
import { computeHa1 } from '../sip/auth/ha1.js';
import { checkPin, checkSecret, DEFAULT_PIN_MIN_LENGTH, generateSecret } from '../security/passwords/index.js';
import { openDatabase } from '../storage/database.js';
import type { ExtensionRecord, StoredExtension } from '../storage/extension-repo.js';
import type { MailboxConfig } from '../config/config-types.js';
import { parseCommandArgs, stdio, type CliIo } from '../admin/cli-args.js';
import { controlRequest } from '../admin/control-socket.js';
import { credentialLine, newMailboxPin, type NewCredential } from './new-credentials.js';

const USAGE = 'usage: palisade users import FILE.csv --config FILE [--context NAME]\n';

export interface ImportLine {
  line: number; // 1-based line in the file
  number: string;
  secret: string;
  name: string | null;
  email: string | null;
  /** false: the voicemail field said no */
  voicemail: boolean;
  /** the PIN the voicemail field gave; null: keep the mailbox's PIN or generate one */
  pin: string | null;
}

export interface UsersCsvOptions {
  /** voicemail.pin_min_length */
  pinMinLength?: number;
}

const FORMAT = 'number,secret[,name[,email[,voicemail]]]';

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote); null when a quote is unclosed. */
export function splitCsvLine(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return null;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      while (text[i] === ' ' || text[i] === '\t') i++;
      if (i < text.length && text[i] !== ',') return null;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      field = text.slice(i, end).trim();
      i = end;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** Parses and validates the whole file; returns the lines or every error found. */
export function parseUsersCsv(text: string, fileName: string, opts: UsersCsvOptions = {}): { lines: ImportLine[]; errors: string[] } {
  const lines: ImportLine[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  const rows = text.split(/\r?\n/);
  let first = true;
  for (const [idx, raw] of rows.entries()) {
    const at = `${fileName}:${idx + 1}`;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = splitCsvLine(raw.replace(/^\uFEFF/, ''));
    if (fields === null) {
      errors.push(`${at}: unclosed or misplaced quote; quote a whole field as "..." and double a quote inside it ("")`);
      first = false;
      continue;
    }
    if (first && fields[0]!.toLowerCase() === 'number') {
      first = false;
      continue;
    }
    first = false;
    if (fields.length < 2 || fields.length > 5) {
      errors.push(`${at}: has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected ${FORMAT}`);
      continue;
    }
    const [number, secret, name, email, voicemail = ''] = fields as [string, string, string | undefined, string | undefined, string | undefined];
    if (!/^[0-9]{1,15}$/.test(number)) {
      errors.push(`${at}: extension number "${number}" is not valid; expected 1 to 15 digits`);
      continue;
    }
    const dup = seen.get(number);
    if (dup !== undefined) {
      errors.push(`${at}: extension ${number} is already on line ${dup}; each number may appear once`);
      continue;
    }
    seen.set(number, idx + 1);
    const nameValue = name ? name : null;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
    if (nameValue !== null && /[\x00-\x1f"\\]/.test(nameValue)) {
      errors.push(`${at}: name for ${number} contains quotes, backslashes or control characters; expected a plain display name`);
    }
    const emailValue = email ? email : null;
    if (emailValue !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(emailValue)) {
      errors.push(`${at}: email for ${number} "${emailValue}" is not an address; expected something like alice@example.org`);
    }
    const vm = parseVoicemailField(voicemail, number, opts.pinMinLength ?? DEFAULT_PIN_MIN_LENGTH);
    if ('error' in vm) errors.push(`${at}: ${vm.error}`);
    const verdict = checkSecret(secret, { kind: 'sip', extension: number, name: nameValue ?? undefined });
    if (!verdict.ok) {
      errors.push(
        `${at}: secret for ${number} is too weak (${verdict.reasons.join('; ')}); use a generated one such as ${generateSecret({ extension: number, name: nameValue ?? undefined })}`,
      );
      continue;
    }
    if ('error' in vm) continue;
    lines.push({ line: idx + 1, number, secret, name: nameValue, email: emailValue, ...vm });
  }
  return { lines, errors };
}

/**
 * The voicemail field: empty or yes (a mailbox; its PIN kept, or generated),
 * no (no mailbox), or the PIN itself. A PIN never appears in a message: a
 * terminal's scrollback and a CI log keep what is printed.
 */
function parseVoicemailField(value: string, number: string, pinMinLength: number): { voicemail: boolean; pin: string | null } | { error: string } {
  const v = value.toLowerCase();
  if (v === '' || v === 'yes') return { voicemail: true, pin: null };
  if (v === 'no') return { voicemail: false, pin: null };
  if (!/^[0-9]+$/.test(value)) {
    return { error: `voicemail for ${number} is neither a PIN nor yes or no; expected digits, empty or yes (a PIN is generated), or no (no mailbox)` };
  }
  const verdict = checkPin(value, { mailbox: number, minLength: pinMinLength });
  if (!verdict.ok) return { error: `voicemail PIN for ${number} is weak (${verdict.reason}); leave the field empty and a PIN is generated` };
  return { voicemail: true, pin: value };
}

export async function runUsersImport(argv: string[], io: CliIo = stdio): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { config: 'string', context: 'string' }, USAGE, 1);
  // the database may be created here: keep its HA1s private to the service's user
  process.umask(0o077);
  const csvPath = positionals[0];
  const cfgPath = values.config;
  if (!csvPath || !cfgPath) {
    io.err(USAGE);
    return 2;
  }
  const context = values.context;
  if (context !== undefined && !/^[A-Za-z0-9_-]+$/.test(context)) {
    io.err(`--context "${context}" is not a context name; expected letters, digits, _ or -\n`);
    return 2;
  }

  let cfg: LoadedConfig;
  try {
    cfg = loadServerConfig(cfgPath);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) io.err(formatIssue(issue) + '\n');
    return 1;
  }

  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (err) {
    io.err(`${csvPath}: cannot be read (${(err as Error).message})\n`);
    return 1;
  }
  const { lines, errors } = parseUsersCsv(text, csvPath, { pinMinLength: cfg.voicemail.pinMinLength });
  errors.push(...pinsShadowedByVoicemailConf(lines, cfg.voicemail.mailboxes, csvPath));
  if (errors.length > 0) {
    for (const e of errors) io.err(e + '\n');
    io.err(`nothing imported: ${errors.length} line${errors.length === 1 ? '' : 's'} to fix\n`);
    return 1;
  }
  if (lines.length === 0) {
    io.err(`${csvPath}: no extensions found; expected lines ${FORMAT}\n`);
    return 1;
  }

  const db = await openDatabase(cfg.storage);
  let shown: NewCredential[];
  try {
    await db.migrate();
    const existing = new Map((await db.extensions.list()).map((e) => [e.number, e]));
    const r = toRecords(lines, existing, cfg, context);
    shown = r.generated;
    await db.extensions.upsertMany(r.records);
  } finally {
    await db.close();
  }
  io.out(`imported ${lines.length} extension${lines.length === 1 ? '' : 's'}\n`);
  // only once they are stored: a PIN shown for a failed import would not work
  if (shown.length > 0) {
    io.err(['', 'Voicemail PINs, shown this once (owners can change theirs in VoiceMailMain, 0 then 5):', ...shown.map(credentialLine), ''].join('\n') + '\n');
  }
  // A running server picks the new extensions and mailboxes up at once; when none runs, the next start does.
  try {
    const r = (await controlRequest(cfg.control.socket, 'reload-extensions', {}, 3000)) as { extensions: number; mailboxes?: number };
    io.out(`the running server now has ${r.extensions} extensions${r.mailboxes !== undefined ? ` and ${r.mailboxes} mailboxes` : ''}\n`);
  } catch {
    /* not running: nothing to tell */
  }
  return 0;
}

/**
 * A mailbox voicemail.conf defines wins over an imported one (as configured
 * extensions win over imported ones): a PIN given for it here would never
 * apply, which the administrator should hear before anything is imported.
 */
function pinsShadowedByVoicemailConf(lines: readonly ImportLine[], boxes: readonly MailboxConfig[], csvPath: string): string[] {
  const conf = new Map(boxes.filter((b) => b.context === 'default' && b.pin !== '').map((b) => [b.number, b]));
  return lines.flatMap((l) => {
    const b = conf.get(l.number);
    if (!b || l.pin === null) return [];
    return [`${csvPath}:${l.line}: mailbox ${l.number}@default is defined in ${b.at.file}:${b.at.line}, whose PIN applies; change it there or leave the voicemail field empty`];
  });
}

/**
 * The rows to store. Re-importing changes credentials, name, email and the
 * mailbox; the rest an administrator set stays. A mailbox keeps its PIN
 * unless the file gives one; a new one gets a generated PIN (returned, to
 * be shown once) unless voicemail.conf defines it with its own.
 */
function toRecords(
  lines: readonly ImportLine[],
  existing: ReadonlyMap<string, StoredExtension>,
  cfg: LoadedConfig,
  contextOption: string | undefined,
): { records: ExtensionRecord[]; generated: NewCredential[] } {
  const realm = cfg.sip.realm;
  const conf = new Set(cfg.voicemail.mailboxes.filter((b) => b.context === 'default' && b.pin !== '').map((b) => b.number));
  const generated: NewCredential[] = [];
  const records = lines.map((l): ExtensionRecord => {
    const old = existing.get(l.number);
    const name = l.name ?? old?.name ?? l.number;
    let pin: string | null = null;
    if (l.voicemail) {
      pin = l.pin ?? old?.voicemailPin ?? null;
      if (pin === null && !conf.has(l.number)) {
        pin = newMailboxPin(l.number);
        generated.push({ number: l.number, name, pin });
      }
    }
    return {
      number: l.number,
      name,
      ha1Md5: computeHa1('MD5', l.number, realm, l.secret),
      ha1Sha256: computeHa1('SHA-256', l.number, realm, l.secret),
      realm,
      context: old && contextOption === undefined ? old.context : (contextOption ?? 'default'),
      email: l.email ?? old?.email ?? null,
      voicemail: l.voicemail,
      voicemailPin: pin,
      directMedia: old?.directMedia ?? false,
      maxContacts: old?.maxContacts ?? cfg.registrar.maxContacts,
    };
  });
  return { records, generated };
}
