// Alert e-mail (issue 4 proof): two password-guessing runs (SIPp with wrong
// passwords from 127.0.0.2 and 127.0.0.3) get both addresses banned; the
// administrator receives exactly one concise e-mail for the batch, through
// Palisade's mail spool, at a real SMTP listener.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { runSipp } from '../helpers/sipp.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const users = makeUsers(8, { first: 1000 });
let pal: PalisadeProcess;
let smtp: SmtpSink;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ids-alerts-'));
  smtp = await startSmtpSink();
  pal = await startPalisade({
    users,
    transports: ['udp'],
    extraYaml: [
      'mail:',
      '  from: pbx@example.org',
      '  smtp:',
      `    host: 127.0.0.1`,
      `    port: ${smtp.port}`,
      'security:',
      '  alerts:',
      '    to: [admin@example.org]',
      '    delay: 3',
      '    interval: 12',
    ].join('\n'),
  });
});
after(async () => {
  await pal?.stop();
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('password-guessing runs yield exactly one concise alert e-mail per batch', { timeout: 90_000 }, async () => {
  const wrong = join(dir, 'wrong.csv');
  writeFileSync(wrong, sippCsv(users, { wrongPassword: true }));
  // 8 guesses per address; after the 5th it is banned and the rest go unanswered
  const guess = (from: string) =>
    runSipp({ scenario: 'register-wrong-password', target: pal.target, inf: [wrong], calls: 8, rate: 20, timeoutS: 8, dir, extraArgs: ['-i', from, '-timeout', '4'] });
  const t0 = Date.now();
  const first = Promise.all([guess('127.0.0.2'), guess('127.0.0.3')]);
  const [mail] = await smtp.waitFor(1, 20_000);
  const firstAt = Date.now() - t0;
  assert.ok(mail);
  assert.ok(firstAt >= 2500, `the first mail waits the batching delay (${firstAt} ms)`);
  assert.deepEqual(mail.to, ['admin@example.org']);
  assert.match(mail.subject, /security: \d+ events? at level >= 10, 2 bans/);
  assert.match(mail.text, /127\.0\.0\.2 for 600 s: 5 auth failures in 60 s/);
  assert.match(mail.text, /127\.0\.0\.3 for 600 s: 5 auth failures in 60 s/);
  assert.ok(mail.text.split('\n').length < 30, `concise:\n${mail.text}`);
  assert.ok(!mail.text.includes('Wrong-'), 'no password material');
  await first;
  // a second batch: held back until the interval since the first mail has passed
  const third = guess('127.0.0.4');
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(smtp.mails.length, 1, 'the interval holds the next mail back');
  const mails = await smtp.waitFor(2, 20_000);
  const secondAt = Date.now() - t0;
  assert.ok(secondAt - firstAt >= 11_000, `at most one mail per interval (${firstAt} ms, ${secondAt} ms)`);
  assert.match(mails[1]!.subject, /1 ban$/);
  assert.match(mails[1]!.text, /127\.0\.0\.4 for 600 s/);
  assert.ok(!mails[1]!.text.includes('127.0.0.2 for'), 'each batch reports only its own events');
  await third;
  assert.equal(smtp.mails.length, 2);
});
