// Voicemail to e-mail end to end: a running Palisade files a message and a
// real SMTP listener (smtp-server on loopback) receives the owner's mail with
// the recording attached as a valid WAV of the right length. With the SMTP
// server down at deposit time, the mail survives a kill -9 of Palisade and
// arrives once the listener is up (the mail spool retries).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { controlRequest as controlCommand } from '../../src/admin/control-socket.js';
import { parseWavHeader, pcmToWav, tone } from '../../src/features/voicemail/wav-info.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-vm-mail-'));
const procs: PalisadeProcess[] = [];
const sinks: SmtpSink[] = [];
after(async () => {
  for (const p of procs) await p.stop(2000);
  for (const s of sinks) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

writeFileSync(join(dir, 'voicemail.conf'), '[default]\n3001 => 582914,Jane Doe,jane@example.org\n3002 => 691735,John Roe,john@example.org\n');
// 2.5 s of 440 Hz, 8 kHz mono 16-bit: what a phone's message looks like after recording
const recording = pcmToWav(tone(440, 2500));
writeFileSync(join(dir, 'message.wav'), recording);

function yaml(smtpPort: number, tag: string): string {
  return [
    'registrar:',
    '  qualify_interval: 0',
    'mail:',
    '  from: pbx@example.org',
    `  spool_dir: ${join(dir, `mail-${tag}`)}`,
    '  retry_seconds: 1',
    '  smtp:',
    '    host: 127.0.0.1',
    `    port: ${smtpPort}`,
    'voicemail:',
    `  file: ${join(dir, 'voicemail.conf')}`,
    `  spool_dir: ${join(dir, `vm-${tag}`)}`,
    '  email_from: voicemail@example.org',
    '  email_subject: "Voicemail from ${VM_CALLERID} for ${VM_NAME} (${VM_DUR})"',
  ].join('\n');
}

const ctl = (p: PalisadeProcess, cmd: string, args: Record<string, unknown> = {}) => controlCommand(join(p.dir, 'control.sock'), cmd, args);

function checkAttachment(mail: { attachments: Array<{ filename: string; contentType: string; content: Buffer }> }): void {
  assert.equal(mail.attachments.length, 1);
  const a = mail.attachments[0]!;
  assert.match(a.filename, /^msg-300\d-.*\.wav$/);
  assert.match(a.contentType, /^audio\/wav/);
  assert.equal(a.content.toString('latin1', 0, 4), 'RIFF');
  assert.equal(a.content.toString('latin1', 8, 12), 'WAVE');
  const info = parseWavHeader(a.content);
  assert.ok(info, 'the attachment parses as WAV');
  assert.deepEqual({ rate: info.sampleRate, channels: info.channels, bits: info.bitsPerSample, format: info.format }, { rate: 8000, channels: 1, bits: 16, format: 1 });
  assert.equal(info.durationMs, 2500);
  assert.ok(a.content.equals(recording), 'the attachment is the recording, byte for byte');
}

describe('voicemail e-mail through a real SMTP listener', () => {
  test('a deposited message reaches the owner with the WAV attached', { timeout: 40_000 }, async () => {
    const sink = await startSmtpSink();
    sinks.push(sink);
    const pal = await startPalisade({ extraYaml: yaml(sink.port, 'up') });
    procs.push(pal);
    await ctl(pal, 'voicemail-deposit', { mailbox: '3001', wav: join(dir, 'message.wav'), callerid: '1001', callername: 'Bob' });
    const [mail] = await sink.waitFor(1, 15_000);
    assert.deepEqual(mail!.to, ['jane@example.org']);
    assert.equal(mail!.from, 'voicemail@example.org');
    // (smtp-sink unfolds a folded header into two spaces; compare words)
    assert.equal(mail!.subject.replace(/\s+/g, ' '), 'Voicemail from "Bob" <1001> for Jane Doe (0:03)');
    assert.match(mail!.text, /Dear Jane Doe,/);
    checkAttachment(mail!);
    const list = (await ctl(pal, 'voicemail-list')) as Array<{ mailbox: string; new: number }>;
    assert.equal(list.find((b) => b.mailbox === '3001@default')?.new, 1, 'the message also stays in the mailbox');
    await pal.stop();
  });

  test('SMTP down at deposit, Palisade killed (-9) and restarted: the mail arrives once the listener starts', { timeout: 60_000 }, async () => {
    const [port] = await freeLocalPorts(1);
    const first = await startPalisade({ extraYaml: yaml(port!, 'down') });
    procs.push(first);
    await ctl(first, 'voicemail-deposit', { mailbox: '3002', wav: join(dir, 'message.wav'), callerid: '1001' });
    await first.waitForEvent((e) => e.event === 'mail-retry', 10_000);
    process.kill(first.pid, 'SIGKILL');
    const exit = await first.stop();
    assert.equal(exit.signal, 'SIGKILL');

    const second = await startPalisade({ extraYaml: yaml(port!, 'down') });
    procs.push(second);
    // still down: the restarted Palisade finds the spooled mail and keeps trying
    await second.waitForEvent((e) => e.event === 'mail-retry', 10_000);
    const sink = await startSmtpSink({ port });
    sinks.push(sink);
    const [mail] = await sink.waitFor(1, 20_000);
    assert.deepEqual(mail!.to, ['john@example.org']);
    checkAttachment(mail!);
    await second.waitForEvent((e) => e.event === 'mail-sent', 5000);
    const list = (await ctl(second, 'voicemail-list')) as Array<{ mailbox: string; new: number }>;
    assert.equal(list.find((b) => b.mailbox === '3002@default')?.new, 1, 'the message survived the kill in the mailbox too');
    assert.equal(readFileSync(join(dir, 'message.wav')).length, recording.length);
    await second.stop();
  });
});
