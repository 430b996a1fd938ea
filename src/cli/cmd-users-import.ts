// `palisade users import FILE.csv --config FILE [--context NAME]`:
// provision extensions from `number,secret[,name[,email]]` lines. Every line
// is validated first (number, password policy, duplicates); if any is bad,
// nothing is imported. Secrets are stored only as HA1 (MD5 and SHA-256) for
// the configured realm, all rows in one transaction.
import { readFileSync } from 'node:fs';
import { ConfigError, formatIssue } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { PalisadeConfig } from '../config/config-types.js';
import { computeHa1 } from '../security/auth/ha1.js';
import { checkSecret, generateSecret } from '../security/passwords/index.js';
import { openDatabase } from '../storage/database.js';
import type { ExtensionRecord } from '../storage/extension-repo.js';
import { controlRequest } from '../admin/control-socket.js';
import { parseCommandArgs, stdio, type CliIo } from './cli-args.js';

const USAGE = 'usage: palisade users import FILE.csv --config FILE [--context NAME]\n';

export interface ImportLine {
  line: number; // 1-based line in the file
  number: string;
  secret: string;
  name: string | null;
  email: string | null;
}

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
export function parseUsersCsv(text: string, fileName: string): { lines: ImportLine[]; errors: string[] } {
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
    if (fields.length < 2 || fields.length > 4) {
      errors.push(`${at}: has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected number,secret[,name[,email]]`);
      continue;
    }
    const [number, secret, name, email] = fields as [string, string, string | undefined, string | undefined];
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
    const verdict = checkSecret(secret, { kind: 'sip', extension: number, name: nameValue ?? undefined });
    if (!verdict.ok) {
      errors.push(`${at}: secret for ${number} is too weak (${verdict.reasons.join('; ')}); use a generated one such as ${generateSecret()}`);
      continue;
    }
    lines.push({ line: idx + 1, number, secret, name: nameValue, email: emailValue });
  }
  return { lines, errors };
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
  const context = values.context ?? 'default';
  if (!/^[A-Za-z0-9_-]+$/.test(context)) {
    io.err(`--context "${context}" is not a context name; expected letters, digits, _ or -\n`);
    return 2;
  }

  let cfg: PalisadeConfig;
  try {
    cfg = loadConfig(cfgPath);
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
  const { lines, errors } = parseUsersCsv(text, csvPath);
  if (errors.length > 0) {
    for (const e of errors) io.err(e + '\n');
    io.err(`nothing imported: ${errors.length} line${errors.length === 1 ? '' : 's'} to fix\n`);
    return 1;
  }
  if (lines.length === 0) {
    io.err(`${csvPath}: no extensions found; expected lines number,secret[,name[,email]]\n`);
    return 1;
  }

  const realm = cfg.sip.realm;
  const db = await openDatabase(cfg.storage);
  try {
    await db.migrate();
    const existing = new Map((await db.extensions.list()).map((e) => [e.number, e]));
    const records: ExtensionRecord[] = lines.map((l) => {
      const old = existing.get(l.number);
      // Re-importing changes credentials, name and email; the rest an administrator set stays.
      return {
        number: l.number,
        name: l.name ?? old?.name ?? l.number,
        ha1Md5: computeHa1('MD5', l.number, realm, l.secret),
        ha1Sha256: computeHa1('SHA-256', l.number, realm, l.secret),
        realm,
        context: old && values.context === undefined ? old.context : context,
        email: l.email ?? old?.email ?? null,
        voicemail: old?.voicemail ?? false,
        directMedia: old?.directMedia ?? false,
        maxContacts: old?.maxContacts ?? cfg.registrar.maxContacts,
      };
    });
    await db.extensions.upsertMany(records);
  } finally {
    await db.close();
  }
  io.out(`imported ${lines.length} extension${lines.length === 1 ? '' : 's'}\n`);
  // A running server picks the new extensions up at once; when none runs, the next start does.
  try {
    const r = (await controlRequest(cfg.control.socket, 'reload-extensions', {}, 3000)) as { extensions: number };
    io.out(`the running server now has ${r.extensions} extensions\n`);
  } catch {
    /* not running: nothing to tell */
  }
  return 0;
}
