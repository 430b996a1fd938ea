// The mail spool against a real SMTP listener: delivery with an attachment,
// a server that is down when the message is queued, a restart with messages
// still spooled, and a permanent refusal kept aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { Mailer, type SmtpSettings } from '../../src/mail/mailer.js';
import { LogRoot } from '../../src/observability/logger.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const lines: string[] = [];
const logs = new LogRoot('debug', {}, { write: (l) => void lines.push(l) });

function smtp(port: number): SmtpSettings {
  return { host: '127.0.0.1', port, secure: false, requireTls: false, user: null, password: null, verifyCertificate: false };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function until(what: string, pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a spooled message with an attachment reaches a real SMTP server byte for byte', async () => {
  const sink = await startSmtpSink();
  const dir = mkdtempSync(join(tmpdir(), 'palisade-mail-'));
  const att = Buffer.alloc(5000);
  for (let i = 0; i < att.length; i++) att[i] = (i * 7) & 0xff;
  writeFileSync(join(dir, 'msg.wav'), att);
  const mailer = new Mailer({ smtp: smtp(sink.port), from: 'pbx@example.org', spoolDir: join(dir, 'spool') }, logs.get('mail'));
  try {
    mailer.start();
    await mailer.send({
      to: 'owner@example.org',
      subject: 'New voicemail from 1001',
      text: 'You have a new message.',
      attachments: [{ filename: 'msg0001.wav', path: join(dir, 'msg.wav'), contentType: 'audio/wav' }],
    });
    const [m] = await sink.waitFor(1, 10_000);
    assert.equal(m!.subject, 'New voicemail from 1001');
    assert.deepEqual(m!.to, ['owner@example.org']);
    assert.equal(m!.from, 'pbx@example.org');
    assert.match(m!.text, /You have a new message/);
    assert.equal(m!.attachments.length, 1);
    assert.equal(m!.attachments[0]!.filename, 'msg0001.wav');
    assert.equal(m!.attachments[0]!.contentType, 'audio/wav');
    assert.ok(m!.attachments[0]!.content.equals(att), 'attachment bytes survive');
    await until('spool emptied', () => mailer.pending() === 0, 5000);
    assert.deepEqual(readdirSync(join(dir, 'spool', 'queue')), [], 'nothing left in the spool');
  } finally {
    await mailer.stop();
    await sink.close();
  }
});

test('a message queued while the SMTP server is down is delivered once it comes up, across a restart', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'palisade-mail-down-'));
  const spoolDir = join(dir, 'spool');
  const first = new Mailer({ smtp: smtp(port), from: 'pbx@example.org', spoolDir, retryMs: 100, maxRetryMs: 200 }, logs.get('mail'));
  first.start();
  await first.send({ to: 'a@example.org', subject: 'queued while down', text: 'one' });
  await until('a failed attempt', () => first.stats.retried >= 1, 10_000);
  await first.stop();
  // the process "restarts": a new mailer on the same spool
  assert.equal(readdirSync(join(spoolDir, 'queue')).filter((n) => n.endsWith('.json')).length, 1, 'still spooled');
  const second = new Mailer({ smtp: smtp(port), from: 'pbx@example.org', spoolDir, retryMs: 100, maxRetryMs: 200 }, logs.get('mail'));
  second.start();
  await until('another failed attempt', () => second.stats.retried >= 1, 10_000);
  const sink = await startSmtpSink({ port });
  try {
    const [m] = await sink.waitFor(1, 10_000);
    assert.equal(m!.subject, 'queued while down');
    await until('spool emptied', () => second.pending() === 0, 5000);
    assert.equal(sink.mails.length, 1, 'delivered exactly once');
  } finally {
    await second.stop();
    await sink.close();
  }
});

test('a permanent refusal (5xx) is kept in failed/, not retried forever or lost', async () => {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_addr, _session, cb) {
      const err = new Error('no such mailbox') as Error & { responseCode: number };
      err.responseCode = 550;
      cb(err);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-mail-550-'));
  const mailer = new Mailer({ smtp: smtp(port), from: 'pbx@example.org', spoolDir: join(dir, 'spool'), retryMs: 100 }, logs.get('mail'));
  try {
    mailer.start();
    const id = await mailer.send({ to: 'nobody@example.org', subject: 'refused', text: 'x' });
    await until('refusal', () => mailer.stats.failed === 1, 10_000);
    assert.deepEqual(readdirSync(join(dir, 'spool', 'failed')), [`${id}.json`]);
    assert.equal(mailer.pending(), 0);
    assert.ok(
      lines.some((l) => l.includes('"mail-refused"') && l.includes('550')),
      'the refusal is logged with its code',
    );
  } finally {
    await mailer.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
