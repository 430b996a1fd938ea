// A real SMTP listener (the smtp-server package, speaking SMTP over a TCP
// socket on loopback) that keeps what it receives, and a small MIME reader
// for the tests to look at subjects, bodies and attachments.
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Map<string, string>;
  subject: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
}

export interface SmtpSink {
  port: number;
  host: string;
  mails: ReceivedMail[];
  /** resolves when at least n mails have arrived */
  waitFor(n: number, timeoutMs: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { host?: string; port?: number } = {}): Promise<SmtpSink> {
  const host = opts.host ?? '127.0.0.1';
  const mails: ReceivedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push(
          parseMail(
            raw,
            from,
            session.envelope.rcptTo.map((r) => r.address),
          ),
        );
        for (const w of waiters.splice(0)) w();
        callback();
      });
    },
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? 0, host, () => res());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    host,
    mails,
    async waitFor(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${n} mail(s) within ${timeoutMs} ms, got ${mails.length}`);
        await new Promise<void>((res) => {
          const t = setTimeout(res, left);
          waiters.push(() => {
            clearTimeout(t);
            res();
          });
        });
      }
      return mails;
    },
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

function splitHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  // RFC 5322 §2.2.3: folded header lines continue with whitespace
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return headers;
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    const s = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(s, 'latin1');
  }
  return Buffer.from(body, 'latin1');
}

/** RFC 2047 encoded words, as nodemailer writes non-ASCII subjects */
function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function param(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  const m = new RegExp(`${name}\\*?=("([^"]*)"|[^;\\s]+)`, 'i').exec(value);
  return m ? (m[2] ?? m[1]) : undefined;
}

function parseMail(raw: string, from: string, to: string[]): ReceivedMail {
  const sep = raw.search(/\r?\n\r?\n/);
  const headers = splitHeaders(sep < 0 ? raw : raw.slice(0, sep));
  const body = sep < 0 ? '' : raw.slice(sep).replace(/^\r?\n\r?\n/, '');
  const mail: ReceivedMail = { from, to, raw, headers, subject: decodeWords(headers.get('subject') ?? ''), text: '', attachments: [] };
  walkPart(headers, body, mail);
  return mail;
}

function walkPart(headers: Map<string, string>, body: string, mail: ReceivedMail): void {
  const ctype = headers.get('content-type') ?? 'text/plain';
  const boundary = param(ctype, 'boundary');
  if (ctype.toLowerCase().startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`);
    for (const part of parts.slice(1)) {
      if (part.startsWith('--')) break;
      const p = part.replace(/^\r?\n/, '');
      const s = p.search(/\r?\n\r?\n/);
      const h = splitHeaders(s < 0 ? p : p.slice(0, s));
      const b =
        s < 0
          ? ''
          : p
              .slice(s)
              .replace(/^\r?\n\r?\n/, '')
              .replace(/\r?\n$/, '');
      walkPart(h, b, mail);
    }
    return;
  }
  const disposition = headers.get('content-disposition');
  const filename = param(disposition, 'filename') ?? param(ctype, 'name');
  const content = decodeBody(body, headers.get('content-transfer-encoding'));
  if (filename || disposition?.toLowerCase().startsWith('attachment')) {
    mail.attachments.push({ filename: filename ?? '', contentType: ctype.split(';')[0]!.trim(), content });
  } else if (ctype.toLowerCase().startsWith('text/plain') && mail.text === '') {
    mail.text = content.toString('utf8');
  }
}
