// Anti-enumeration against a running Palisade (docs/architecture.md, Security rules): for REGISTER,
// INVITE, OPTIONS to a user, SUBSCRIBE and MESSAGE, a wrong password for an
// existing extension and any password for a missing one get the same status,
// the same headers in the same order, and the same timing; out-of-dialog
// NOTIFY/REFER are challenged too; OPTIONS to the server itself is answered;
// no version in Server. The security log tells the two cases apart
// (InvalidPassword / InvalidAccountID) and fail2ban's asterisk filter reads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers } from '../helpers/users.js';
import { UdpProbe, parseResponse, optionsRequest } from '../helpers/sip-probe.js';
import { computeDigestResponse } from '../../src/sip/auth/digest.js';
import { computeHa1 } from '../../src/sip/auth/ha1.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';

const users = makeUsers(3, { first: 1000 });
let pal: PalisadeProcess;
let probe: UdpProbe;
let seq = 0;

before(async () => {
  // min_level 0: the challenges are logged too (checked below)
  pal = await startPalisade({ users, transports: ['udp'], extraYaml: 'security:\n  log: { min_level: 0 }' });
  probe = await UdpProbe.open();
});
after(async () => {
  probe?.close();
  await pal?.stop();
});

function request(method: string, user: string, target: string, extra: string[] = [], body = ''): { text: string; callId: string; uri: string } {
  const callId = `enum-${process.pid}-${++seq}`;
  const d = pal.domain;
  const uri = method === 'REGISTER' ? `sip:${d}` : `sip:${target}@${d}`;
  const to = method === 'REGISTER' ? `<sip:${user}@${d}>` : `<sip:${target}@${d}>`;
  const text = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${probe.port};branch=z9hG4bK-${callId};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${d}>;tag=t${seq}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:${user}@127.0.0.1:${probe.port}>`,
    'User-Agent: enum-probe',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return { text, callId, uri };
}

async function exchange(text: string, callId: string): Promise<{ res: SipMessage; ms: number }> {
  const t0 = process.hrtime.bigint();
  probe.send(text, pal.sipPort);
  const ok = await probe.waitFor((g) => g.some((r) => r.data.includes(callId) && /^SIP\/2\.0 [2-6]/.test(r.data.toString('latin1'))), 3000);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ok, `no final answer to ${text.split('\r\n')[0]}`);
  const got = probe.received.filter((r) => r.data.includes(callId) && /^SIP\/2\.0 [2-6]/.test(r.data.toString('latin1')));
  return { res: parseResponse(got[got.length - 1]!.data), ms };
}

const EXTRA: Record<string, { headers: string[]; body: string }> = {
  REGISTER: { headers: ['Expires: 300'], body: '' },
  INVITE: { headers: ['Content-Type: application/sdp'], body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n' },
  OPTIONS: { headers: ['Accept: application/sdp'], body: '' },
  SUBSCRIBE: { headers: ['Event: presence', 'Expires: 600', 'Accept: application/pidf+xml'], body: '' },
  MESSAGE: { headers: ['Content-Type: text/plain'], body: 'hello' },
};

/** one request with digest credentials for `user`/`password`, answering a fresh challenge */
async function withCredentials(method: string, user: string, password: string): Promise<{ res: SipMessage; ms: number }> {
  const e = EXTRA[method]!;
  const first = request(method, user, '1001', e.headers, e.body);
  const { res: ch } = await exchange(first.text, first.callId);
  const proxy = ch.status === 407;
  assert.ok(ch.status === 401 || ch.status === 407, `${method} without credentials must be challenged, got ${ch.status}`);
  const chal = ch.get(proxy ? 'proxy-authenticate' : 'www-authenticate')!;
  const nonce = /nonce="([^"]+)"/.exec(chal)![1]!;
  const realm = /realm="([^"]+)"/.exec(chal)![1]!;
  const second = request(method, user, '1001', e.headers, e.body);
  const ha1 = computeHa1('MD5', user, realm, password);
  const response = computeDigestResponse({ algorithm: 'MD5', ha1, method, uri: second.uri, nonce, nc: '00000001', cnonce: 'c0ffee', qop: 'auth' });
  const cred = `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${second.uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
  const text = second.text.replace('User-Agent: enum-probe', `User-Agent: enum-probe\r\n${proxy ? 'Proxy-Authorization' : 'Authorization'}: ${cred}`);
  return exchange(text, second.callId);
}

const shape = (r: SipMessage) => ({ status: r.status, reason: r.reason, headers: r.headers.map((h) => h.name) });

for (const method of ['REGISTER', 'INVITE', 'OPTIONS', 'SUBSCRIBE', 'MESSAGE']) {
  test(`${method}: unknown user and wrong password get the same status and headers in the same order`, async () => {
    const wrong = await withCredentials(method, '1000', 'not-the-password-42');
    const unknown = await withCredentials(method, '7777', 'not-the-password-42');
    assert.ok(wrong.res.status === 401 || wrong.res.status === 407, `${method}: refused with a challenge, got ${wrong.res.status}`);
    assert.deepEqual(shape(unknown.res), shape(wrong.res));
    const server = wrong.res.get('server') ?? '';
    assert.ok(!/\d/.test(server), `no version in Server: "${server}"`);
  });
}

test('timing: unknown user and wrong password cannot be told apart (interleaved medians)', async () => {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 30; i++) {
    a.push((await withCredentials('REGISTER', '1000', 'wrong-password-xyz')).ms);
    b.push((await withCredentials('REGISTER', '7777', 'wrong-password-xyz')).ms);
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
  const ma = med(a);
  const mb = med(b);
  assert.ok(Math.abs(ma - mb) < Math.max(1, 0.5 * Math.min(ma, mb)), `median ${ma.toFixed(3)} ms (wrong password) vs ${mb.toFixed(3)} ms (unknown user)`);
});

test('out-of-dialog NOTIFY and REFER are challenged; OPTIONS to the server itself is answered', async () => {
  for (const m of ['NOTIFY', 'REFER']) {
    const r = request(m, '7777', '1001', m === 'NOTIFY' ? ['Event: check-sync', 'Subscription-State: active'] : ['Refer-To: <sip:1002@127.0.0.1>']);
    const { res } = await exchange(r.text, r.callId);
    assert.equal(res.status, 401, `${m} without credentials`);
  }
  const callId = `enum-opt-${process.pid}`;
  const { res } = await exchange(optionsRequest({ domain: pal.domain, localPort: probe.port, callId }), callId);
  assert.equal(res.status, 200);
});

test('the security log tells unknown account from wrong password; fail2ban reads every failure', async () => {
  await new Promise((r) => setTimeout(r, 400)); // the log stream flushes asynchronously
  const file = join(pal.dir, 'var', 'security.log');
  const text = readFileSync(file, 'utf8');
  const ast = text.split('\n').filter((l) => l.includes('res_security_log.c'));
  assert.ok(ast.some((l) => l.includes('SecurityEvent="InvalidAccountID"') && l.includes('AccountID="7777"')));
  assert.ok(ast.some((l) => l.includes('SecurityEvent="InvalidPassword"') && l.includes('AccountID="1000"')));
  assert.ok(ast.some((l) => l.includes('SecurityEvent="ChallengeSent"')));
  assert.ok(!/not-the-password|wrong-password/.test(text), 'no password in the log');
  const failures = ast.filter((l) => /SecurityEvent="(InvalidAccountID|InvalidPassword|FailedACL)"/.test(l)).length;
  const r = spawnSync('fail2ban-regex', ['-o', 'ip', file, '/etc/fail2ban/filter.d/asterisk.conf'], { encoding: 'utf8', timeout: 60_000 });
  const hosts = r.stdout.split('\n').filter((l) => l.trim() !== '');
  assert.equal(hosts.length, failures, 'every failure line matched, nothing else');
  assert.ok(hosts.every((h) => h === '127.0.0.1'));
  // 127.0.0.1 is on the default trusted list: so many failures, no ban
  assert.ok(!text.includes('SecurityEvent="Ban"'));
});
