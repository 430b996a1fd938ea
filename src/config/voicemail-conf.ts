// voicemail.conf in the form Asterisk administrators know:
//
//   [default]
//   756 => 1234,Jane Doe,jane@example.org[,pager@example.org[,attach=yes|delete=no]]
//
// Only mailbox sections are read; settings that Asterisk keeps in [general]
// live in palisade.yaml's voicemail: section instead, and saying so at load
// beats silently ignoring them. Every problem carries file:line:col; PINs go
// through the same policy as everywhere else (src/security/passwords), handed
// in as opts.weakPin since config/ may not import security/ (docs/architecture.md,
// Layers).
import type { ConfigIssue } from './config-error.js';
import type { MailboxConfig, SourcePos } from './config-types.js';

const CONTEXT_RE = /^[A-Za-z0-9_-]{1,80}$/;
const MAILBOX_RE = /^[0-9]{1,15}$/;
const EMAIL_RE = /^[^\s@,"<>]+@[^\s@,"<>]+\.[^\s@,"<>]+$/;
const OPTIONS = new Set(['attach', 'delete']);

export interface VoicemailConfParse {
  mailboxes: MailboxConfig[];
  issues: ConfigIssue[];
}

export interface VoicemailConfOptions {
  /** voicemail.pin_min_length (4..6) */
  pinMinLength: number;
  /** the PIN policy: why a PIN is weak, or null when it passes */
  weakPin(pin: string, mailbox: string, minLength: number): string | null;
}

/**
 * The mailbox an extension with voicemail has: its number in [default], with
 * its name and e-mail. pin '' (an extension in palisade.yaml) allows no phone
 * login until voicemail.conf or the owner sets a PIN.
 */
export function extensionMailbox(e: { number: string; name: string; email: string | null }, pin: string, at: SourcePos): MailboxConfig {
  return { context: 'default', number: e.number, pin, name: e.name || e.number, email: e.email, pager: null, attach: true, deleteAfterEmail: false, at };
}

export function parseVoicemailConf(text: string, file: string, opts: VoicemailConfOptions): VoicemailConfParse {
  const mailboxes: MailboxConfig[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>(); // "box@context" -> line
  const add = (line: number, col: number, message: string) => issues.push({ file, line, col, message });
  let context: string | null = null;
  /** inside [general]/[zonemessages]: reported once at the header, its lines skipped */
  let skipping = false;

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    // ';' starts a comment, as in every Asterisk .conf file
    const semi = raw.indexOf(';');
    const body = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
    if (body === '') continue;
    const col = raw.indexOf(body[0]!) + 1;

    if (body.startsWith('[')) {
      skipping = false;
      const m = /^\[([^\]]*)\]$/.exec(body);
      if (!m) {
        add(lineNo, col, `section header "${body}" is malformed; expected [context] such as [default]`);
        context = null;
        continue;
      }
      const name = m[1]!.trim();
      if (name === 'general' || name === 'zonemessages') {
        add(lineNo, col, `[${name}] is not read by Palisade; set voicemail options (max_message_seconds, email_from, ...) in palisade.yaml under voicemail:`);
        context = null;
        skipping = true;
        continue;
      }
      if (!CONTEXT_RE.test(name)) {
        add(lineNo, col, `context name "${name}" is invalid; expected letters, digits, _ or - such as default`);
        context = null;
        continue;
      }
      context = name;
      continue;
    }
    if (skipping) continue;

    const arrow = body.indexOf('=>');
    if (arrow < 0) {
      add(lineNo, col, `"${body}" is not a mailbox line; expected MAILBOX => PIN,Full Name,email such as 756 => 3829,Jane Doe,jane@example.org`);
      continue;
    }
    if (context === null) {
      add(lineNo, col, 'mailbox line outside a context; put a [default] line above it');
      continue;
    }
    const box = body.slice(0, arrow).trim();
    const fields = body
      .slice(arrow + 2)
      .split(',')
      .map((f) => f.trim());
    const valueCol = raw.indexOf('=>') + 3;
    if (!MAILBOX_RE.test(box)) {
      add(lineNo, col, `mailbox "${box}" must be 1 to 15 digits`);
      continue;
    }
    const key = `${box}@${context}`;
    if (seen.has(key)) {
      add(lineNo, col, `mailbox ${key} is already defined on line ${seen.get(key)}; each mailbox once per context`);
      continue;
    }
    seen.set(key, lineNo);
    if (fields.length > 5) {
      add(lineNo, valueCol, `mailbox ${key} has ${fields.length} fields; expected PIN,Full Name,email[,pager email[,options]]`);
      continue;
    }
    const [pin = '', name = '', email = '', pager = '', options = ''] = fields;
    let ok = true;
    if (pin === '') {
      add(lineNo, valueCol, `mailbox ${key} has no PIN; expected ${box} => PIN,Full Name,email`);
      ok = false;
    } else {
      const weakness = opts.weakPin(pin, box, opts.pinMinLength);
      if (weakness !== null) {
        // the PIN itself never goes into the message (logs and terminals keep it)
        add(
          lineNo,
          valueCol,
          `mailbox ${key} has a weak PIN (${weakness}); choose ${opts.pinMinLength} or more digits that are not a run, a repetition, a common PIN or the mailbox number, e.g. from palisade pin generate --mailbox ${box}`,
        );
        ok = false;
      }
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
    if (/["\\\x00-\x1f]/.test(name)) {
      add(lineNo, valueCol, `mailbox ${key} name contains quotes or control characters`);
      ok = false;
    }
    if (email !== '' && !EMAIL_RE.test(email)) {
      add(lineNo, valueCol, `mailbox ${key} e-mail "${email}" is not an address such as jane@example.org`);
      ok = false;
    }
    if (pager !== '' && !EMAIL_RE.test(pager)) {
      add(lineNo, valueCol, `mailbox ${key} pager e-mail "${pager}" is not an address such as jane@example.org`);
      ok = false;
    }
    let attach = true;
    let deleteAfterEmail = false;
    for (const opt of options === '' ? [] : options.split('|')) {
      const [k = '', v = ''] = opt.split('=').map((s) => s.trim());
      if (!OPTIONS.has(k) || (v !== 'yes' && v !== 'no')) {
        add(lineNo, valueCol, `mailbox ${key} option "${opt}" is unknown; expected attach=yes|no or delete=yes|no, separated by |`);
        ok = false;
        continue;
      }
      if (k === 'attach') attach = v === 'yes';
      else deleteAfterEmail = v === 'yes';
    }
    if (deleteAfterEmail && (!attach || email === '')) {
      // delete=yes without an attached copy in a mailbox would lose the message
      add(lineNo, valueCol, `mailbox ${key} has delete=yes without attach=yes and an e-mail address; the message would be lost`);
      ok = false;
    }
    if (!ok) continue;
    mailboxes.push({
      context,
      number: box,
      pin,
      name: name || box,
      email: email || null,
      pager: pager || null,
      attach,
      deleteAfterEmail,
      at: { file, line: lineNo, col },
    });
  }
  return { mailboxes, issues };
}
