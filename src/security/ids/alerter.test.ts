import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecurityAlerter } from './alerter.js';
import { securityEvent } from './event-levels.js';

test('alerts are batched: one mail per batch, at most one per interval, concise', async () => {
  const mails: Array<{ subject: string; text: string }> = [];
  const a = new SecurityAlerter({ level: 10, delayMs: 100, intervalMs: 400, send: async (subject, text) => void mails.push({ subject, text }) });
  for (let i = 0; i < 200; i++) a.handle(securityEvent('InvalidPassword', { remote: { transport: 'udp', address: '192.0.2.1', port: 1 } }));
  assert.equal(mails.length, 0);
  a.handle(securityEvent('Ban', { remote: { transport: 'udp', address: '192.0.2.1', port: 1 }, detail: '5 auth failures in 60 s', extra: { seconds: 600 } }));
  for (let i = 0; i < 50; i++) a.handle(securityEvent('Flood', { remote: { transport: 'udp', address: '192.0.2.2', port: 1 } }));
  await sleep(200);
  assert.equal(mails.length, 1, 'one mail for the first batch');
  assert.match(mails[0]!.subject, /51 events.*1 ban/);
  assert.match(mails[0]!.text, /Flood\s+50/);
  assert.match(mails[0]!.text, /192\.0\.2\.1 for 600 s: 5 auth failures/);
  assert.ok(mails[0]!.text.split('\n').length < 30, 'concise');
  a.handle(securityEvent('Ban', { remote: { transport: 'udp', address: '192.0.2.3', port: 1 } }));
  await sleep(150);
  assert.equal(mails.length, 1, 'the interval holds the second mail back');
  await sleep(250);
  assert.equal(mails.length, 2);
  a.stop();
});
