import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registrar, type AuthEvent, type RegistrarOptions } from './registrar.js';
import { LocationService, requestTarget, toStored } from './location.js';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { parseAuthHeader } from '../../sip-message/auth-header.js';
import { DigestAuthenticator, computeDigestResponse } from '../auth/digest.js';
import { computeHa1, type DigestAlgorithm } from '../auth/ha1.js';
import type { Remote } from '../../transport/types.js';
import type { LocationPersistence, StoredBinding } from '../../storage/location-types.js';

const REALM = 'pbx.test';
const SECRETS: Record<string, string> = { '1001': 'Secret-1001', '1002': 'Secret-1002' };
const PHONE: Remote = { transport: 'udp', address: '127.0.0.1', port: 40123 };
const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);

class MemoryPersistence implements LocationPersistence {
  rows = new Map<string, StoredBinding>();
  async save(b: StoredBinding) {
    this.rows.set(b.aor + ' ' + b.contactUri, { ...b });
  }
  async remove(aor: string, contactUri: string) {
    this.rows.delete(aor + ' ' + contactUri);
  }
  async removeExpired(now: number) {
    let n = 0;
    for (const [k, r] of this.rows) if (r.expiresAt <= now) this.rows.delete(k), n++;
    return n;
  }
  async loadAll() {
    return [...this.rows.values()];
  }
}

/** how the server is named, as main.ts hands it to the authenticator */
const SERVER = { hosts: ['pbx.test', '192.0.2.10'], ports: [5060, 5061] };

function setup(o: Partial<RegistrarOptions> & { persistence?: LocationPersistence } = {}) {
  const clock = { now: T0 };
  const now = () => clock.now;
  const location = new LocationService({ clock: now, persistence: o.persistence });
  const auth = new DigestAuthenticator({
    realm: REALM,
    clock: now,
    lookupHa1: (u) => {
      const pw = SECRETS[u];
      return pw === undefined ? undefined : { md5: computeHa1('MD5', u, REALM, pw), sha256: computeHa1('SHA-256', u, REALM, pw) };
    },
    server: SERVER,
  });
  const events: AuthEvent[] = [];
  const registrar = new Registrar({
    location,
    auth,
    domain: 'pbx.test',
    minExpires: 60,
    maxExpires: 3600,
    defaultExpires: 1800,
    maxContacts: 3,
    isLocalExtension: (u) => u in SECRETS,
    clock: now,
    server: 'Palisade',
    onAuth: (e) => events.push(e),
    ...o,
  });
  return { clock, location, auth, registrar, events };
}

interface Reg {
  user?: string;
  callId?: string;
  cseq?: number;
  contacts?: string[];
  expires?: number;
  authorization?: string;
  extra?: string[];
  ruri?: string;
}

function register(r: Reg): SipMessage {
  const user = r.user ?? '1001';
  const lines = [
    `REGISTER ${r.ruri ?? 'sip:pbx.test'} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-test1;rport',
    'Max-Forwards: 70',
    `From: <sip:${user}@pbx.test>;tag=fromtag1`,
    `To: <sip:${user}@pbx.test>`,
    `Call-ID: ${r.callId ?? 'call-1@10.0.0.5'}`,
    `CSeq: ${r.cseq ?? 1} REGISTER`,
    'User-Agent: TestPhone/1.0',
    ...(r.contacts ?? ['<sip:1001@10.0.0.5:5060>']).map((c) => `Contact: ${c}`),
    ...(r.expires !== undefined ? [`Expires: ${r.expires}`] : []),
    ...(r.authorization ? [`Authorization: ${r.authorization}`] : []),
    ...(r.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  const p = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.ok(p.ok, p.ok ? '' : p.error);
  return p.msg;
}

let ncCounter = 0;
/** answer a 401 the way a phone does */
function authorize(res: SipMessage, user: string, password: string, o: { alg?: DigestAlgorithm; uri?: string } = {}): string {
  const alg = o.alg ?? 'SHA-256';
  const ch = res
    .getAll('www-authenticate')
    .map(parseAuthHeader)
    .find((c) => c.params.algorithm === alg)!;
  const uri = o.uri ?? 'sip:pbx.test';
  const nc = '00000001';
  const cnonce = `cn${++ncCounter}`;
  const ha1 = computeHa1(alg, user, ch.params.realm!, password);
  const response = computeDigestResponse({ algorithm: alg, ha1, method: 'REGISTER', uri, nonce: ch.params.nonce!, nc, cnonce, qop: 'auth' });
  return `Digest username="${user}", realm="${ch.params.realm}", nonce="${ch.params.nonce}", uri="${uri}", response="${response}", algorithm=${alg}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

/** REGISTER, get challenged, answer: returns the final response */
function registerWithAuth(registrar: Registrar, r: Reg, password?: string, remote: Remote = PHONE): SipMessage {
  const user = r.user ?? '1001';
  const cseq = r.cseq ?? 1;
  const first = registrar.handleRegister(register({ ...r, cseq }), remote);
  assert.equal(first.status, 401);
  const authorization = authorize(first, user, password ?? SECRETS[user] ?? 'x');
  return registrar.handleRegister(register({ ...r, cseq: cseq + 1, authorization }), remote);
}

function contactsOf(res: SipMessage): string[] {
  return res.getAll('contact');
}

test('REGISTER without credentials is challenged: 401, SHA-256 then MD5 (RFC 8760 §2.4), To tag, nothing stored', () => {
  const { registrar, location } = setup();
  const res = registrar.handleRegister(register({}), PHONE);
  assert.equal(res.status, 401);
  const ch = res.getAll('www-authenticate').map(parseAuthHeader);
  assert.deepEqual(
    ch.map((c) => c.params.algorithm),
    ['SHA-256', 'MD5'],
  );
  assert.match(res.get('to')!, /;tag=[0-9a-f]{12}$/);
  assert.equal(res.get('call-id'), 'call-1@10.0.0.5');
  assert.equal(res.get('server'), 'Palisade');
  assert.equal(contactsOf(res).length, 0);
  assert.equal(location.count(), 0);
});

test('the Date of a 200 follows the clock: the same second gives the same text, the next second the next', () => {
  const { registrar, clock } = setup();
  clock.now = T0 + 999;
  assert.equal(registerWithAuth(registrar, { cseq: 1 }).get('date'), 'Mon, 15 Jan 2024 12:00:00 GMT');
  clock.now = T0 + 1000;
  assert.equal(registerWithAuth(registrar, { cseq: 2 }).get('date'), 'Mon, 15 Jan 2024 12:00:01 GMT');
  clock.now = T0 + 86_400_000;
  assert.equal(registerWithAuth(registrar, { cseq: 3 }).get('date'), 'Tue, 16 Jan 2024 12:00:00 GMT');
});

test('full flow: 401 -> REGISTER with digest -> 200 listing the contact with expires, and Date (RFC 3261 §10.3 step 8)', () => {
  const { registrar, location, events } = setup();
  const res = registerWithAuth(registrar, {});
  assert.equal(res.status, 200);
  assert.deepEqual(contactsOf(res), ['<sip:1001@10.0.0.5:5060>;expires=1800']);
  assert.equal(res.get('date'), 'Mon, 15 Jan 2024 12:00:00 GMT');
  const [b] = location.lookup('1001');
  assert.ok(b);
  // the source of the REGISTER, not the private Contact address (RFC 3581)
  assert.deepEqual(b.received, PHONE);
  assert.equal(b.contactHeader, '<sip:1001@10.0.0.5:5060>');
  assert.equal(b.userAgent, 'TestPhone/1.0');
  assert.equal(b.cseq, 2);
  assert.equal(b.expiresAt, T0 + 1800_000);
  assert.deepEqual(
    events.map((e) => e.ok),
    [false, true],
  );
  assert.equal(events[0]!.reason, 'missing');
});

test('MD5 answers work too', () => {
  const { registrar } = setup();
  const first = registrar.handleRegister(register({}), PHONE);
  const res = registrar.handleRegister(register({ cseq: 2, authorization: authorize(first, '1001', 'Secret-1001', { alg: 'MD5' }) }), PHONE);
  assert.equal(res.status, 200);
});

test('unknown extension gets exactly the wrong-password answer (byte-compare, nonce and tag masked)', () => {
  const { registrar, events } = setup();
  const mask = (m: SipMessage) =>
    m
      .toString()
      .replace(/nonce="[^"]+"/g, 'nonce="N"')
      .replace(/(\r\nTo: [^\r]*;tag=)[0-9a-f]+/, '$1T');

  // no credentials at all
  const a0 = registrar.handleRegister(register({ user: '1001' }), PHONE);
  const b0 = registrar.handleRegister(register({ user: '7777' }), PHONE);
  assert.equal(mask(a0).replace(/1001/g, 'U'), mask(b0).replace(/7777/g, 'U'));

  // credentials: wrong password for a real extension vs any password for a missing one
  const wrong = registrar.handleRegister(register({ user: '1001', cseq: 2, authorization: authorize(a0, '1001', 'guess') }), PHONE);
  const unknown = registrar.handleRegister(register({ user: '7777', cseq: 2, authorization: authorize(b0, '7777', 'guess') }), PHONE);
  assert.equal(wrong.status, 401);
  assert.equal(mask(wrong).replace(/1001/g, 'U'), mask(unknown).replace(/7777/g, 'U'));
  assert.ok(!/stale/.test(wrong.toString()));
  // only the internal event tells them apart, for the intrusion detection
  assert.deepEqual(
    events.slice(-2).map((e) => [e.aor, e.reason]),
    [
      ['1001', 'bad-password'],
      ['7777', 'unknown-user'],
    ],
  );
});

test('an authenticated user may not register another extension (403), existing or not', () => {
  const { registrar, location } = setup();
  for (const target of ['1002', '7777']) {
    const first = registrar.handleRegister(register({ user: target }), PHONE);
    const res = registrar.handleRegister(register({ user: target, cseq: 2, authorization: authorize(first, '1001', 'Secret-1001') }), PHONE);
    assert.equal(res.status, 403, target);
  }
  assert.equal(location.count(), 0);
});

test('a To host that is not ours is refused after authentication', () => {
  const { registrar } = setup();
  const first = registrar.handleRegister(register({}), PHONE);
  const m = register({ cseq: 2, authorization: authorize(first, '1001', 'Secret-1001') });
  m.set('to', '<sip:1001@elsewhere.example>');
  assert.equal(registrar.handleRegister(m, PHONE).status, 403);
  // an IP literal is accepted (phones configured with the PBX address)
  const first2 = registrar.handleRegister(register({}), PHONE);
  const m2 = register({ cseq: 3, authorization: authorize(first2, '1001', 'Secret-1001') });
  m2.set('to', '<sip:1001@127.0.0.1>');
  assert.equal(registrar.handleRegister(m2, PHONE).status, 200);
});

test('an expired nonce with the right password gets 401 stale=true, and the retry succeeds', () => {
  const { registrar, clock } = setup();
  const first = registrar.handleRegister(register({}), PHONE);
  clock.now += 301_000;
  const res = registrar.handleRegister(register({ cseq: 2, authorization: authorize(first, '1001', 'Secret-1001') }), PHONE);
  assert.equal(res.status, 401);
  assert.equal(parseAuthHeader(res.get('www-authenticate')!).params.stale, 'true');
  const ok = registrar.handleRegister(register({ cseq: 3, authorization: authorize(res, '1001', 'Secret-1001') }), PHONE);
  assert.equal(ok.status, 200);
});

test('a replayed REGISTER (same nonce, same nc) is challenged again', () => {
  const { registrar } = setup();
  const first = registrar.handleRegister(register({}), PHONE);
  const authorization = authorize(first, '1001', 'Secret-1001');
  assert.equal(registrar.handleRegister(register({ cseq: 2, authorization }), PHONE).status, 200);
  assert.equal(registrar.handleRegister(register({ cseq: 3, authorization }), PHONE).status, 401);
});

test('digest uri naming another server -> 400 Digest URI Mismatch (RFC 2617 §3.2.2.5), logged as a failure', () => {
  for (const uri of ['sip:other.test', 'sip:pbx.test:5070', 'sip:1002@pbx.test']) {
    const { registrar, events } = setup();
    const first = registrar.handleRegister(register({}), PHONE);
    const res = registrar.handleRegister(register({ cseq: 2, authorization: authorize(first, '1001', 'Secret-1001', { uri }) }), PHONE);
    assert.equal(res.status, 400, uri);
    assert.equal(res.reason, 'Digest URI Mismatch');
    assert.deepEqual(
      events.map((e) => e.reason),
      ['missing', 'uri-mismatch'],
      uri,
    );
  }
});

test('digest uri naming this server with its port (SIPp, several phones) is accepted: 200 and a successful login (RFC 3261 §22.4 item 6)', () => {
  for (const uri of ['sip:pbx.test:5060', 'sip:192.0.2.10:5060', 'sip:192.0.2.10', 'sip:pbx.test;transport=tcp', 'sips:pbx.test:5061']) {
    const { registrar, events, location } = setup();
    const first = registrar.handleRegister(register({ ruri: 'sip:pbx.test' }), PHONE);
    const res = registrar.handleRegister(register({ ruri: 'sip:pbx.test', cseq: 2, authorization: authorize(first, '1001', 'Secret-1001', { uri }) }), PHONE);
    assert.equal(res.status, 200, `${uri}: ${res.status} ${res.reason}`);
    assert.deepEqual(
      events.map((e) => [e.ok, e.reason]),
      [
        [false, 'missing'],
        [true, undefined],
      ],
      uri,
    );
    assert.equal(location.lookup('1001').length, 1);
  }
});

test('423 Interval Too Brief with Min-Expires below the minimum; nothing stored', () => {
  const { registrar, location } = setup();
  const res = registerWithAuth(registrar, { expires: 30 });
  assert.equal(res.status, 423);
  assert.equal(res.get('min-expires'), '60');
  const res2 = registerWithAuth(registrar, { contacts: ['<sip:1001@10.0.0.5>;expires=59'], cseq: 10 });
  assert.equal(res2.status, 423);
  assert.equal(location.count(), 0);
});

test('expiry: contact param beats Expires header beats default; capped at the maximum', () => {
  const { registrar } = setup();
  assert.deepEqual(contactsOf(registerWithAuth(registrar, { contacts: ['<sip:1001@10.0.0.5:5060>;expires=120'], expires: 600 })), ['<sip:1001@10.0.0.5:5060>;expires=120']);
  assert.deepEqual(contactsOf(registerWithAuth(registrar, { cseq: 10, expires: 600 })), ['<sip:1001@10.0.0.5:5060>;expires=600']);
  assert.deepEqual(contactsOf(registerWithAuth(registrar, { cseq: 20, expires: 86400 })), ['<sip:1001@10.0.0.5:5060>;expires=3600']);
});

test('bindings expire with the clock; the 200 shows the remaining time; a query lists current bindings', () => {
  const { registrar, location, clock } = setup();
  registerWithAuth(registrar, { expires: 600 });
  clock.now += 100_000;
  const q = registerWithAuth(registrar, { cseq: 10, contacts: [] });
  assert.equal(q.status, 200);
  assert.deepEqual(contactsOf(q), ['<sip:1001@10.0.0.5:5060>;expires=500']);
  clock.now += 500_000;
  assert.equal(location.lookup('1001').length, 0);
  assert.equal(location.sweep(), 1);
  assert.deepEqual(contactsOf(registerWithAuth(registrar, { cseq: 20, contacts: [] })), []);
});

test('several contacts per AOR; expires=0 removes one; Contact * with Expires 0 removes all', () => {
  const { registrar, location } = setup();
  registerWithAuth(registrar, { contacts: ['<sip:1001@10.0.0.5:5060>', '<sip:1001@10.0.0.6:5060>;q=0.5'], expires: 600 });
  registerWithAuth(registrar, { callId: 'other-phone', contacts: ['<sip:1001@10.0.0.7:5060>'], expires: 600 });
  assert.equal(location.lookup('1001').length, 3);
  const res = registerWithAuth(registrar, { cseq: 10, contacts: ['<sip:1001@10.0.0.6:5060>;expires=0'] });
  assert.deepEqual(contactsOf(res).sort(), ['<sip:1001@10.0.0.5:5060>;expires=600', '<sip:1001@10.0.0.7:5060>;expires=600']);
  const all = registerWithAuth(registrar, { cseq: 20, contacts: ['*'], expires: 0 });
  assert.equal(all.status, 200);
  assert.deepEqual(contactsOf(all), []);
  assert.equal(location.count(), 0);
});

test('Contact * is only valid alone and with Expires: 0 (400 otherwise, before any challenge)', () => {
  const { registrar } = setup();
  assert.equal(registrar.handleRegister(register({ contacts: ['*'], expires: 60 }), PHONE).status, 400);
  assert.equal(registrar.handleRegister(register({ contacts: ['*'] }), PHONE).status, 400);
  assert.equal(registrar.handleRegister(register({ contacts: ['*', '<sip:1001@10.0.0.5>'], expires: 0 }), PHONE).status, 400);
});

test('same Call-ID with a CSeq not above the stored one fails with 500 and changes nothing (§10.3 steps 6-7)', () => {
  const { registrar, location } = setup();
  registerWithAuth(registrar, { cseq: 10, expires: 600 }); // stored cseq 11
  const before = location.lookup('1001')[0]!;
  const first = registrar.handleRegister(register({ cseq: 5 }), PHONE);
  const stale = registrar.handleRegister(register({ cseq: 6, expires: 0, authorization: authorize(first, '1001', 'Secret-1001') }), PHONE);
  assert.equal(stale.status, 500);
  assert.equal(location.lookup('1001')[0], before);
  const first2 = registrar.handleRegister(register({ cseq: 5 }), PHONE);
  const wild = registrar.handleRegister(register({ cseq: 6, contacts: ['*'], expires: 0, authorization: authorize(first2, '1001', 'Secret-1001') }), PHONE);
  assert.equal(wild.status, 500);
  assert.equal(location.count(), 1);
  // another Call-ID may update it whatever its CSeq
  assert.equal(registerWithAuth(registrar, { callId: 'new-call', cseq: 1, expires: 0 }).status, 200);
  assert.equal(location.count(), 0);
});

test('beyond maxContacts the oldest binding is replaced; more contacts than allowed in one request -> 403', () => {
  const { registrar, location, clock } = setup();
  for (let i = 0; i < 4; i++) {
    clock.now += 1000;
    registerWithAuth(registrar, { callId: `phone-${i}`, contacts: [`<sip:1001@10.0.0.${10 + i}:5060>`] });
  }
  assert.deepEqual(
    location
      .lookup('1001')
      .map((b) => b.contactUri)
      .sort(),
    ['sip:1001@10.0.0.11:5060', 'sip:1001@10.0.0.12:5060', 'sip:1001@10.0.0.13:5060'],
  );
  const res = registerWithAuth(registrar, { callId: 'x', contacts: ['<sip:1001@10.0.1.1>', '<sip:1001@10.0.1.2>', '<sip:1001@10.0.1.3>', '<sip:1001@10.0.1.4>'] });
  assert.equal(res.status, 403);
  assert.equal(location.count(), 3);
});

test('a new contact with the same +sip.instance and reg-id replaces the old binding (RFC 5626)', () => {
  const { registrar, location } = setup();
  const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
  const r1 = registerWithAuth(registrar, { contacts: [`<sip:1001@10.0.0.5:5060>;${inst}`], expires: 600 });
  assert.deepEqual(contactsOf(r1), ['<sip:1001@10.0.0.5:5060>;expires=600;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1']);
  registerWithAuth(registrar, { cseq: 10, contacts: [`<sip:1001@10.0.0.99:5060>;${inst}`], expires: 600 }, undefined, {
    transport: 'tcp',
    address: '127.0.0.2',
    port: 50000,
    flow: 4,
  });
  const bs = location.lookup('1001');
  assert.equal(bs.length, 1);
  assert.equal(bs[0]!.contactUri, 'sip:1001@10.0.0.99:5060');
  assert.deepEqual(bs[0]!.received, { transport: 'tcp', address: '127.0.0.2', port: 50000, flow: 4 });
  assert.equal(bs[0]!.regId, 1);
});

test('Require with any option tag -> 420 listing it as Unsupported (§10.3 step 2)', () => {
  const { registrar } = setup();
  const res = registrar.handleRegister(register({ extra: ['Require: foo'] }), PHONE);
  assert.equal(res.status, 420);
  assert.equal(res.get('unsupported'), 'foo');
});

test('malformed REGISTERs get 400 without a challenge', () => {
  const { registrar } = setup();
  const bad = register({});
  bad.set('contact', '<sip:1001@10.0.0.5');
  assert.equal(registrar.handleRegister(bad, PHONE).status, 400);
  const noUser = register({});
  noUser.set('to', '<sip:pbx.test>');
  assert.equal(registrar.handleRegister(noUser, PHONE).status, 400);
  const badExp = register({});
  badExp.set('expires', 'soon');
  assert.equal(registrar.handleRegister(badExp, PHONE).status, 400);
  const tel = register({ contacts: ['<tel:+15551234>'] });
  assert.equal(registrar.handleRegister(tel, PHONE).status, 400);
});

test('restart: bindings come back from persistence and keep their expiry', async () => {
  const db = new MemoryPersistence();
  const a = setup({ persistence: db });
  registerWithAuth(a.registrar, { expires: 600 });
  registerWithAuth(a.registrar, { user: '1002', callId: 'c2', contacts: ['<sip:1002@10.0.0.8:5062>'], expires: 900 }, undefined, { transport: 'udp', address: '::1', port: 5099 });
  await a.location.flush();
  assert.equal(db.rows.size, 2);

  const b = setup({ persistence: db });
  b.clock.now = T0 + 60_000;
  assert.equal(await b.location.restore(), 2);
  assert.deepEqual(b.location.lookup('1002')[0]!.received, { transport: 'udp', address: '::1', port: 5099 });
  const q = registerWithAuth(b.registrar, { cseq: 30, contacts: [] });
  assert.deepEqual(contactsOf(q), ['<sip:1001@10.0.0.5:5060>;expires=540']);
  // the restored Call-ID/CSeq still guards against an out-of-order request
  const first = b.registrar.handleRegister(register({ cseq: 1 }), PHONE);
  assert.equal(b.registrar.handleRegister(register({ cseq: 2, expires: 0, authorization: authorize(first, '1001', 'Secret-1001') }), PHONE).status, 500);
});

test('Path (RFC 3327): stored with the binding as its route set, echoed in the 200 only to a phone that supports it; Require: path is accepted', () => {
  const { registrar, location } = setup();
  const proxy: Remote = { transport: 'udp', address: '192.0.2.20', port: 5060 };
  const path = '<sip:192.0.2.20:5060;lr;received=sip:198.51.100.7:40000%3Btransport%3Dtcp>';
  const res = registerWithAuth(registrar, { extra: [`Path: ${path}`, 'Supported: path'] }, undefined, proxy);
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('path'), [path]);
  const [b] = location.lookup('1001');
  assert.deepEqual(b!.path, [path]);
  assert.deepEqual(toStored(b!).path, [path], 'stored (and carried to the other nodes) with the binding');
  // the first hop of the Path is where requests to the phone go
  assert.deepEqual(requestTarget(b!), { transport: 'udp', address: '192.0.2.20', port: 5060 });

  // no Supported: path: still stored (the proxy needs it), not echoed
  const quiet = registerWithAuth(registrar, { callId: 'p2', contacts: ['<sip:1002@10.0.0.6:5060>'], user: '1002', extra: [`Path: ${path}`] }, SECRETS['1002'], proxy);
  assert.equal(quiet.status, 200);
  assert.deepEqual(quiet.getAll('path'), []);
  assert.deepEqual(location.lookup('1002')[0]!.path, [path]);

  // Require: path is an extension we implement now
  const req = registerWithAuth(registrar, { callId: 'p3', cseq: 5, extra: [`Path: ${path}`, 'Supported: path', 'Require: path'] }, undefined, proxy);
  assert.equal(req.status, 200);
  // a Path that is not a name-addr is refused
  const bad = registrar.handleRegister(register({ callId: 'p4', cseq: 6, extra: ['Path: sip:192.0.2.20;lr'] }), proxy);
  assert.equal(bad.status, 400);
});
