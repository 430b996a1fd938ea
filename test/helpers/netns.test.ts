import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { isLoopbackOnly, netnsSuite, runInNetns } from './netns.js';

function sendTo(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.send(Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'), port, host, (err) => {
      s.close();
      resolve(err ? ((err as NodeJS.ErrnoException).code ?? 'error') : null);
    });
  });
}

test('runInNetns runs a command where only loopback exists', { timeout: 20_000 }, () => {
  const r = runInNetns('ip', ['-o', 'link', 'show'], { timeoutMs: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const ifs = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(':')[1].trim());
  assert.deepEqual(ifs, ['lo']);
  assert.match(r.stdout, /state UNKNOWN|UP/);
});

netnsSuite(import.meta.url, 'inside the namespace', () => {
  test('only loopback is visible', () => {
    assert.equal(isLoopbackOnly(), true);
  });
  test('a packet to an outside address fails with ENETUNREACH', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737), the address RFC 4475 messages name.
    assert.equal(await sendTo('192.0.2.1', 5060), 'ENETUNREACH');
  });
  test('loopback still works', async () => {
    assert.equal(await sendTo('127.0.0.1', 9), null);
  });
});
