import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuthenticator, computeDigestResponse, type DigestAuthenticatorOptions } from './digest.js';
import { computeHa1, type DigestAlgorithm } from './ha1.js';
import { parseAuthHeader } from '../../sip-message/auth-header.js';

const REALM = 'pbx.test';
const USERS: Record<string, string> = { '1001': 'Secret-1001', '1002': 'Other-1002' };

// HA1s computed once, as the extension store holds them: a lookup costs a map read
const HA1S = new Map(Object.entries(USERS).map(([u, pw]) => [u, { md5: computeHa1('MD5', u, REALM, pw), sha256: computeHa1('SHA-256', u, REALM, pw) }]));
function lookup(user: string) {
  return HA1S.get(user);
}

function make(extra: Partial<DigestAuthenticatorOptions> = {}, clock?: { now: number }) {
  return new DigestAuthenticator({ realm: REALM, lookupHa1: lookup, clock: clock ? () => clock.now : undefined, ...extra });
}

/** a client answering the first challenge of `alg`, as a phone would */
function answer(
  challenges: Array<[string, string]>,
  o: { user: string; password: string; alg?: DigestAlgorithm; method?: string; uri?: string; nc?: number; realm?: string; qop?: boolean },
): string {
  const alg = o.alg ?? 'SHA-256';
  const ch = challenges.map(([, v]) => parseAuthHeader(v)).find((c) => c.params.algorithm === alg);
  assert.ok(ch, `no ${alg} challenge`);
  const realm = o.realm ?? ch.params.realm!;
  const nonce = ch.params.nonce!;
  const uri = o.uri ?? 'sip:pbx.test';
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = 'abc123';
  const qop = o.qop === false ? undefined : 'auth';
  const ha1 = computeHa1(alg, o.user, realm, o.password);
  const response = computeDigestResponse({ algorithm: alg, ha1, method: o.method ?? 'REGISTER', uri, nonce, nc, cnonce, qop });
  const q = qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '';
  return `Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${alg}${q}`;
}

const OPTS = { proxy: false, requestUri: 'sip:pbx.test' };

test('RFC 2617 §3.5 example vector (MD5, qop=auth)', () => {
  const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
  const r = computeDigestResponse({
    algorithm: 'MD5',
    ha1,
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    nc: '00000001',
    cnonce: '0a4f113b',
    qop: 'auth',
  });
  assert.equal(r, '6629fae49393a05397450978507c4ef1');
});

test('RFC 7616 §3.9.1 example vectors (MD5 and SHA-256)', () => {
  const base = {
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    qop: 'auth',
  };
  assert.equal(
    computeDigestResponse({ ...base, algorithm: 'MD5', ha1: computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life') }),
    '8ca523f5e9506fed4657c9700eebdbec',
  );
  assert.equal(
    computeDigestResponse({ ...base, algorithm: 'SHA-256', ha1: computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life') }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

test('challenge: one header per algorithm, SHA-256 first by default (RFC 8760 §2.4), same fresh nonce, qop="auth"', () => {
  const a = make();
  const ch = a.challenge({ proxy: false });
  assert.equal(ch.length, 2);
  assert.deepEqual(
    ch.map(([n]) => n),
    ['www-authenticate', 'www-authenticate'],
  );
  const p = ch.map(([, v]) => parseAuthHeader(v));
  assert.deepEqual(
    p.map((x) => x.params.algorithm),
    ['SHA-256', 'MD5'],
  );
  assert.equal(p[0]!.scheme, 'Digest');
  assert.equal(p[0]!.params.realm, REALM);
  assert.equal(p[0]!.params.qop, 'auth');
  assert.equal(p[0]!.params.nonce, p[1]!.params.nonce);
  assert.equal(p[0]!.params.stale, undefined);
  assert.notEqual(a.challenge({ proxy: false })[0]![1], ch[0]![1]);
  const proxy = a.challenge({ proxy: true, stale: true });
  assert.equal(proxy[0]![0], 'proxy-authenticate');
  assert.equal(parseAuthHeader(proxy[0]![1]).params.stale, 'true');
  const md5only = make({ algorithms: ['MD5'], opaque: 'xyz' }).challenge({ proxy: false });
  assert.equal(md5only.length, 1);
  assert.equal(parseAuthHeader(md5only[0]![1]).params.opaque, 'xyz');
});

test('a correct SHA-256 answer and a correct MD5 answer are accepted', () => {
  const a = make();
  for (const alg of ['SHA-256', 'MD5'] as const) {
    const v = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', alg });
    assert.deepEqual(a.verify('REGISTER', v, OPTS), { ok: true, user: '1001' });
  }
});

test('wrong password is refused; unknown user is refused the same way with its own reason', () => {
  const a = make();
  const wrong = answer(a.challenge({ proxy: false }), { user: '1001', password: 'guess' });
  assert.deepEqual(a.verify('REGISTER', wrong, OPTS), { ok: false, reason: 'bad-password' });
  const unknown = answer(a.challenge({ proxy: false }), { user: '9999', password: 'guess' });
  assert.deepEqual(a.verify('REGISTER', unknown, OPTS), { ok: false, reason: 'unknown-user' });
  // a real password for another user does not work either
  const cross = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Other-1002' });
  assert.deepEqual(a.verify('REGISTER', cross, OPTS), { ok: false, reason: 'bad-password' });
});

test('unknown user does the same digest work as a wrong password (lookup made, same time order)', () => {
  const looked: string[] = [];
  const a = make({ lookupHa1: (u) => (looked.push(u), lookup(u)) });
  const ch = a.challenge({ proxy: false });
  a.verify('REGISTER', answer(ch, { user: '9999', password: 'x' }), OPTS);
  a.verify('REGISTER', answer(ch, { user: '1001', password: 'x' }), OPTS);
  assert.deepEqual(looked, ['9999', '1001']);
  // Interleaved batches, compared by the median ratio, so machine load hits
  // both sides alike; skipping the digest for unknown users would show as a
  // ratio well under 1.
  const known = answer(ch, { user: '1001', password: 'x' });
  const unknown = answer(ch, { user: '9999', password: 'x' });
  const batch = (v: string) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) a.verify('REGISTER', v, OPTS);
    return Number(process.hrtime.bigint() - t0);
  };
  batch(known);
  batch(unknown);
  const ratios: number[] = [];
  for (let k = 0; k < 41; k++) {
    let u: number;
    let kn: number;
    // alternate which side runs first
    if (k % 2) {
      u = batch(unknown);
      kn = batch(known);
    } else {
      kn = batch(known);
      u = batch(unknown);
    }
    ratios.push(u / kn);
  }
  ratios.sort((x, y) => x - y);
  const median = ratios[20]!;
  assert.ok(median > 0.8 && median < 1.25, `unknown/known time ratio ${median}`);
});

test('an expired nonce with the right password is stale; with a wrong password it is just refused', () => {
  const clock = { now: 1_700_000_000_000 };
  const a = make({ nonceLifetimeSec: 300 }, clock);
  const ch = a.challenge({ proxy: false });
  clock.now += 301_000;
  assert.deepEqual(a.verify('REGISTER', answer(ch, { user: '1001', password: 'Secret-1001' }), OPTS), { ok: false, reason: 'stale' });
  assert.deepEqual(a.verify('REGISTER', answer(ch, { user: '1001', password: 'nope' }), OPTS), { ok: false, reason: 'bad-password' });
  assert.deepEqual(a.verify('REGISTER', answer(ch, { user: '9999', password: 'nope' }), OPTS), { ok: false, reason: 'unknown-user' });
});

test('a nonce from another process (before a restart, another worker or node) with the right password is stale', () => {
  const old = make();
  const v = answer(old.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001' });
  assert.deepEqual(make().verify('REGISTER', v, OPTS), { ok: false, reason: 'stale' });
  // credentials one worker accepted, replayed through another: refused there too (its nc record has never seen them)
  const w1 = make();
  const w2 = make();
  const taken = answer(w1.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001' });
  assert.equal(w1.verify('REGISTER', taken, OPTS).ok, true);
  assert.deepEqual(w2.verify('REGISTER', taken, OPTS), { ok: false, reason: 'stale' });
  assert.deepEqual(w1.verify('REGISTER', taken, OPTS), { ok: false, reason: 'replay' });
});

test('replay: the same nc twice is refused; a higher nc on the same nonce is accepted', () => {
  const a = make();
  const ch = a.challenge({ proxy: false });
  const v1 = answer(ch, { user: '1001', password: 'Secret-1001', nc: 1 });
  assert.equal(a.verify('REGISTER', v1, OPTS).ok, true);
  assert.deepEqual(a.verify('REGISTER', v1, OPTS), { ok: false, reason: 'replay' });
  assert.equal(a.verify('REGISTER', answer(ch, { user: '1001', password: 'Secret-1001', nc: 2 }), OPTS).ok, true);
  assert.deepEqual(a.verify('REGISTER', answer(ch, { user: '1001', password: 'Secret-1001', nc: 2 }), OPTS), { ok: false, reason: 'replay' });
});

test('a wrong-password attempt with a high nc does not burn the nonce for its owner', () => {
  const a = make();
  const ch = a.challenge({ proxy: false });
  assert.equal(a.verify('REGISTER', answer(ch, { user: '1001', password: 'x', nc: 99 }), OPTS).ok, false);
  assert.equal(a.verify('REGISTER', answer(ch, { user: '1001', password: 'Secret-1001', nc: 1 }), OPTS).ok, true);
});

test('wrong realm, unsupported algorithm, uri mismatch', () => {
  const a = make();
  const ch = a.challenge({ proxy: false });
  assert.deepEqual(a.verify('REGISTER', answer(ch, { user: '1001', password: 'Secret-1001', realm: 'other' }), OPTS), { ok: false, reason: 'realm' });
  const shaOnly = make({ algorithms: ['SHA-256'] });
  const md5 = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', alg: 'MD5' });
  assert.deepEqual(shaOnly.verify('REGISTER', md5, OPTS), { ok: false, reason: 'algorithm' });
  const sess = answer(ch, { user: '1001', password: 'Secret-1001' }).replace('algorithm=SHA-256', 'algorithm=SHA-512-256');
  assert.deepEqual(a.verify('REGISTER', sess, OPTS), { ok: false, reason: 'algorithm' });
  const other = answer(ch, { user: '1001', password: 'Secret-1001', uri: 'sip:evil.test' });
  assert.deepEqual(a.verify('REGISTER', other, OPTS), { ok: false, reason: 'uri-mismatch' });
});

test('digest uri is compared as a URI, not as text (RFC 2617 §3.2.2.5)', () => {
  const a = make();
  const v = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', uri: 'sip:PBX.test:5060' });
  assert.equal(a.verify('REGISTER', v, { proxy: false, requestUri: 'sip:pbx.test:5060' }).ok, true);
  const v2 = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', uri: 'sip:pbx.test' });
  assert.deepEqual(a.verify('REGISTER', v2, { proxy: false, requestUri: 'sip:pbx.test:5070' }), { ok: false, reason: 'uri-mismatch' });
});

test('one digest-uri rule for every method: the server named with its port is accepted, another port is not (digest-uri.ts)', () => {
  const a = make({ server: { hosts: ['pbx.test', '192.0.2.10'], ports: [5060] } });
  const cases: Array<[method: string, requestUri: string]> = [
    ['REGISTER', 'sip:pbx.test'],
    ['INVITE', 'sip:1002@pbx.test'],
    ['SUBSCRIBE', 'sip:1001@192.0.2.10'],
    ['MESSAGE', 'sip:1002@pbx.test;transport=tcp'],
  ];
  for (const [method, requestUri] of cases) {
    const ok = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', method, uri: 'sip:192.0.2.10:5060' });
    assert.deepEqual(a.verify(method, ok, { proxy: false, requestUri }), { ok: true, user: '1001' }, `${method} ${requestUri}`);
    const other = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', method, uri: 'sip:192.0.2.10:5070' });
    assert.deepEqual(a.verify(method, other, { proxy: false, requestUri }), { ok: false, reason: 'uri-mismatch' }, `${method} ${requestUri}`);
  }
});

test('missing and malformed credentials', () => {
  const a = make();
  assert.deepEqual(a.verify('REGISTER', undefined, OPTS), { ok: false, reason: 'missing' });
  assert.deepEqual(a.verify('REGISTER', '', OPTS), { ok: false, reason: 'missing' });
  for (const bad of [
    'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    'Digest',
    'Digest username="1001", realm="pbx.test"',
    'Digest username="1001", realm="pbx.test", nonce="x", uri="sip:pbx.test", response="0", qop=auth',
    'Digest username="1001", realm="pbx.test", nonce="x", uri="sip:pbx.test", response="0", qop=auth, nc=zz, cnonce="c"',
    'Digest username="1001", realm="pbx.test", nonce="x", uri="sip:pbx.test", response="0", qop=auth-conf, nc=00000001, cnonce="c"',
    'Digest username="1001",, realm="pbx.test"',
    'Digest username="1001", realm="pbx.test", nonce="x", uri="sip:pbx.test", response="0", qop=auth, nc=00000000, cnonce="c"',
  ]) {
    assert.deepEqual(a.verify('REGISTER', bad, OPTS), { ok: false, reason: 'malformed' }, bad);
  }
});

test('RFC 2069 answers (no qop) only when allowed', () => {
  const strict = make();
  const ch = strict.challenge({ proxy: false });
  const v = answer(ch, { user: '1001', password: 'Secret-1001', qop: false });
  assert.deepEqual(strict.verify('REGISTER', v, OPTS), { ok: false, reason: 'malformed' });
  const legacy = make({ allowNoQop: true });
  const v2 = answer(legacy.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', qop: false });
  assert.deepEqual(legacy.verify('REGISTER', v2, OPTS), { ok: true, user: '1001' });
});

test('opaque, when configured, must come back unchanged', () => {
  const a = make({ opaque: 'op1' });
  const ch = a.challenge({ proxy: false });
  const v = answer(ch, { user: '1001', password: 'Secret-1001' });
  assert.deepEqual(a.verify('REGISTER', v, OPTS), { ok: false, reason: 'malformed' });
  assert.equal(a.verify('REGISTER', v + ', opaque="op1"', OPTS).ok, true);
});

test('the method is part of the digest', () => {
  const a = make();
  const v = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', method: 'INVITE' });
  assert.deepEqual(a.verify('REGISTER', v, OPTS), { ok: false, reason: 'bad-password' });
});

test('a user with no HA1 for the chosen algorithm is refused like an unknown user', () => {
  const a = make({ lookupHa1: (u) => (u === '1001' ? { md5: computeHa1('MD5', u, REALM, 'Secret-1001') } : undefined) });
  const v = answer(a.challenge({ proxy: false }), { user: '1001', password: 'Secret-1001', alg: 'SHA-256' });
  assert.deepEqual(a.verify('REGISTER', v, OPTS), { ok: false, reason: 'algorithm' });
});

test('no secret material in failure results', () => {
  const a = make();
  const v = answer(a.challenge({ proxy: false }), { user: '1001', password: 'x' });
  const r = a.verify('REGISTER', v, OPTS);
  assert.deepEqual(Object.keys(r).sort(), ['ok', 'reason']);
});
