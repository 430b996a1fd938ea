// Each check of `palisade audit` on crafted configurations: it fires on the
// weakness it names and stays quiet on the hardened form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressScope, gatherAuditInput, hasCritical, runAudit, CHECKS, type AuditInput } from './index.js';
import { generateSecret } from '../passwords/index.js';
import { generateSelfSigned } from '../../transport/self-signed-cert.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function input(raw: Record<string, unknown>, over: Partial<AuditInput> = {}): AuditInput {
  return { configPath: 'p.yaml', raw, configIssues: [], files: [], mailboxes: [], tlsCertPem: null, live: null, now: Date.now(), ...over };
}

function ids(raw: Record<string, unknown>, over: Partial<AuditInput> = {}): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of runAudit(input(raw, over)).findings) m.set(f.id, [...(m.get(f.id) ?? []), f.severity]);
  return m;
}

const strong = () => generateSecret();
const hardenedExt = (n: string) => ({ number: n, secret: strong(), register_from: ['10.1.0.0/16'], encryption: 'required' });
const HARDENED = {
  sip: { listen: ['tls:10.1.0.5:5061'], domain: 'pbx.example.org' },
  security: { acl: { permit: ['10.1.0.0/16', '192.0.2.10/32'], deny: ['0.0.0.0/0'] }, alerts: { to: ['admin@example.org'] } },
  mail: { from: 'pbx@example.org', smtp: { host: '10.1.0.2' } },
  tls: { cert: 'c.pem', key: 'k.pem' },
  extensions: [hardenedExt('1001'), hardenedExt('1002')],
};

test('every check is listed once with a title', () => {
  assert.equal(new Set(CHECKS.map((c) => c.id)).size, CHECKS.length);
  assert.ok(CHECKS.length >= 15);
  for (const c of CHECKS) assert.ok(c.title.length > 10, c.id);
});

test('address scopes', () => {
  assert.equal(addressScope('127.0.0.1'), 'loopback');
  assert.equal(addressScope('10.2.3.4'), 'private');
  assert.equal(addressScope('172.31.0.1'), 'private');
  assert.equal(addressScope('172.32.0.1'), 'public');
  assert.equal(addressScope('192.168.1.1'), 'private');
  assert.equal(addressScope('203.0.113.7'), 'public');
  assert.equal(addressScope('0.0.0.0'), 'wildcard');
  assert.equal(addressScope('::'), 'wildcard');
  assert.equal(addressScope('::1'), 'loopback');
  assert.equal(addressScope('fd00::5'), 'private');
  assert.equal(addressScope('2001:db8::5'), 'public');
});

test('weak-secret: a secret failing the policy, and an HA1 that hides a guessable one', () => {
  const realm = 'pbx.example.org';
  const raw = {
    sip: { listen: ['udp:127.0.0.1:5060'], domain: realm },
    extensions: [
      { number: '1001', secret: '1001' },
      { number: '1002', ha1_md5: md5(`1002:${realm}:password123`) },
      { number: '1003', ha1_md5: md5(`1003:${realm}:10031003`) },
      { number: '1004', ha1_md5: md5(`1004:${realm}:${strong()}`) },
    ],
  };
  const f = runAudit(input(raw)).findings.filter((x) => x.id === 'weak-secret');
  assert.equal(f.length, 2);
  assert.ok(f.every((x) => x.severity === 'critical'));
  assert.match(f[0]!.what, /1001/);
  assert.match(f[1]!.what, /2 extension\(s\) \(1002, 1003\)/);
  assert.ok(!f.some((x) => x.what.includes('password123')), 'the guessed secret is never printed');
  assert.equal(ids(HARDENED).has('weak-secret'), false);
});

test('plaintext-secret: clear-text secrets are a low finding; HA1 only is quiet', () => {
  assert.deepEqual(ids(HARDENED).get('plaintext-secret'), ['low']);
  const ha1Only = { ...HARDENED, extensions: [{ number: '1001', ha1_md5: md5(`1001:pbx.example.org:${strong()}`), register_from: ['10.0.0.0/8'], encryption: 'required' }] };
  assert.equal(ids(ha1Only).has('plaintext-secret'), false);
});

test('weak-pin: voicemail.conf and extension PINs through the PIN policy', () => {
  const raw = {
    voicemail: { pin_min_length: 6 },
    extensions: [
      { number: '1001', voicemail_pin: '482913' },
      { number: '1002', pin: '1111' },
    ],
  };
  const r = runAudit(
    input(raw, {
      mailboxes: [
        { number: '756', pin: '1234', where: 'vm.conf:2' },
        { number: '757', pin: '', where: 'vm.conf:3' },
        { number: '758', pin: '758123', where: 'vm.conf:4' },
      ],
    }),
  );
  const f = r.findings.filter((x) => x.id === 'weak-pin');
  assert.equal(f[0]!.severity, 'high');
  assert.match(f[0]!.what, /3 mailbox\(es\): 756 \(must be at least 6 digits\), 758 \(contains the mailbox number\), 1002/);
  assert.ok(!f[0]!.what.includes('1234') && !f[0]!.what.includes('1111'), 'PINs are never printed, only mailboxes');
  assert.equal(f[1]!.severity, 'medium');
  assert.match(f[1]!.what, /757/);
  assert.equal(ids({ extensions: [{ number: '1001', pin: '482913' }] }).has('weak-pin'), false);
});

test('weak-admin-password: defaults and weak admin passwords are critical', () => {
  assert.deepEqual(ids({ admin: { users: [{ name: 'admin', password: 'admin' }] } }).get('weak-admin-password'), ['critical']);
  assert.deepEqual(ids({ admin: { password: 'changeme123!' } }).get('weak-admin-password'), ['critical']);
  assert.equal(ids({ admin: { users: [{ name: 'alice', password: strong() }] } }).has('weak-admin-password'), false);
});

test('config-invalid: real load errors count (typos inside the security sections too); weak secrets have findings of their own', () => {
  const r = (issues: string[]) => ids({}, { configIssues: issues }).get('config-invalid');
  assert.deepEqual(r(['p.yaml:3:3: unknown key sip.domian; did you mean domain?']), ['high']);
  assert.deepEqual(r(['p.yaml:9:5: unknown key security.ids.treshold; did you mean threshold?']), ['high']);
  assert.equal(r(['p.yaml:12:13: extensions[0].secret for 1001 is too weak (contains the extension number)']), undefined);
  assert.equal(r(['vm.conf:2:9: mailbox 1001 has a weak PIN (is a commonly used PIN); choose 4 or more digits']), undefined);
});

test('public-sip-no-acl: public or wildcard listen without a limiting ACL is critical', () => {
  const base = { sip: { listen: ['udp:0.0.0.0:5060'] }, extensions: [{ number: '1001' }] };
  assert.deepEqual(ids(base).get('public-sip-no-acl'), ['critical']);
  assert.deepEqual(ids({ ...base, sip: { listen: ['udp:203.0.113.5:5060'] } }).get('public-sip-no-acl'), ['critical']);
  assert.deepEqual(ids({ ...base, extensions: [{ number: '1001', register_from: ['10.0.0.0/8'] }] }).get('public-sip-no-acl'), ['high']);
  assert.equal(ids({ ...base, security: { acl: { permit: ['198.51.100.0/24'] } } }).has('public-sip-no-acl'), false);
  assert.deepEqual(ids({ ...base, security: { acl: { permit: ['0.0.0.0/0'] } } }).get('public-sip-no-acl'), ['critical']);
  assert.deepEqual(ids({ ...base, security: { acl: { deny: ['198.51.100.0/24'] } } }).get('public-sip-no-acl'), ['critical']);
  assert.equal(ids({ ...base, sip: { listen: ['udp:192.168.1.2:5060'] } }).has('public-sip-no-acl'), false);
});

test('local-networks-wide: the Internet or public ranges counted as internal', () => {
  assert.deepEqual(ids({ security: { local_networks: ['10.0.0.0/8', '0.0.0.0/0'] } }).get('local-networks-wide'), ['critical']);
  assert.deepEqual(ids({ security: { local_networks: ['203.0.113.0/24'] } }).get('local-networks-wide'), ['high']);
  assert.equal(ids({ security: { local_networks: ['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8'] } }).has('local-networks-wide'), false);
});

test('registration-acl-missing: extensions without register_from', () => {
  const raw = { sip: { listen: ['udp:10.0.0.2:5060'] }, extensions: [{ number: '1001' }, { number: '1002', register_from: ['10.0.0.0/8'] }] };
  const f = runAudit(input(raw)).findings.find((x) => x.id === 'registration-acl-missing')!;
  assert.equal(f.severity, 'medium');
  assert.match(f.what, /1 extension\(s\) may register from anywhere: 1001$/);
  assert.equal(ids({ ...raw, sip: { listen: ['udp:127.0.0.1:5060'] } }).get('registration-acl-missing')?.[0], 'low');
  assert.equal(ids(HARDENED).has('registration-acl-missing'), false);
});

test('call-limits-missing: unlimited defaults, extensions or durations', () => {
  assert.deepEqual(ids({ fraud: { defaults: { max_calls: 0 } } }).get('call-limits-missing'), ['high']);
  assert.deepEqual(ids({ extensions: [{ number: '1', calls_per_minute: 0 }] }).get('call-limits-missing'), ['medium']);
  assert.deepEqual(ids({ calls: { max_duration: 0 } }).get('call-limits-missing'), ['medium']);
  assert.equal(ids(HARDENED).has('call-limits-missing'), false);
});

test('toll-fraud-permissions: international/premium granted', () => {
  assert.deepEqual(ids({ fraud: { defaults: { call_permissions: ['internal', 'international'] } } }).get('toll-fraud-permissions'), ['critical']);
  const f = runAudit(input({ extensions: [{ number: '1001', call_permissions: ['internal', 'premium'] }] })).findings.find((x) => x.id === 'toll-fraud-permissions')!;
  assert.equal(f.severity, 'high');
  assert.match(f.what, /1001 \(premium, default spend limit\)/);
  assert.equal(ids({ extensions: [{ number: '1001', call_permissions: ['internal', 'national'] }] }).has('toll-fraud-permissions'), false);
});

test('security-log-off / ids-off: explicit switches off are high', () => {
  const m = ids({ security: { log: { enabled: false }, ids: { enabled: false } } });
  assert.deepEqual(m.get('security-log-off'), ['high']);
  assert.deepEqual(m.get('ids-off'), ['high']);
  assert.equal(ids(HARDENED).has('security-log-off'), false);
  assert.equal(ids(HARDENED).has('ids-off'), false);
});

test('with the server running, the backup check judges the last `palisade backup`: none, fresh, older than 7 days', () => {
  const now = Date.UTC(2026, 11, 4);
  const live = (last_at: number | null) => ({ live: { status: { backup: { last_at, file: null } }, registrations: [] }, now });
  assert.deepEqual(ids({}, live(null)).get('backups-missing'), ['medium']);
  const fresh = ids({}, live(now - 86_400_000));
  assert.equal(fresh.has('backups-missing') || fresh.has('backups-stale'), false, 'a backup of yesterday passes');
  const old = runAudit(input({}, live(now - 10 * 86_400_000))).findings.find((f) => f.id === 'backups-stale')!;
  assert.equal(old.severity, 'medium');
  assert.match(old.what, /10 days old \(2026-11-24\)/);
});

test('alerts-email-missing, and backups-missing as a standing low reminder of what to back up', () => {
  const m = ids({});
  assert.deepEqual(m.get('alerts-email-missing'), ['medium']);
  assert.deepEqual(m.get('backups-missing'), ['low']);
  assert.equal(ids(HARDENED).has('alerts-email-missing'), false);
  // made outside Palisade, so never "passed" — and its fix names no configuration key the loader would refuse
  const b = runAudit(input({ voicemail: { file: 'voicemail.conf' } })).findings.find((f) => f.id === 'backups-missing')!;
  assert.match(b.fix, /voicemail\.spool_dir, mail\.spool_dir, security\.ids\.state_file/);
  assert.doesNotMatch(b.fix, /backup:/);
  const noMail = runAudit(input({ security: { alerts: { to: ['a@example.org'] } } })).findings.find((f) => f.id === 'alerts-email-missing')!;
  assert.match(noMail.what, /no mail: section/);
});

test('tls-not-used / srtp-not-required', () => {
  const m = ids({ sip: { listen: ['udp:127.0.0.1:5060'] }, extensions: [{ number: '1' }] });
  assert.deepEqual(m.get('tls-not-used'), ['medium']);
  assert.deepEqual(m.get('srtp-not-required'), ['medium']);
  assert.deepEqual(ids({ sip: { listen: ['tls:127.0.0.1:5061'] }, extensions: [{ number: '1', encryption: 'required' }, { number: '2' }] }).get('srtp-not-required'), ['low']);
  assert.equal(ids(HARDENED).has('tls-not-used'), false);
  assert.equal(ids(HARDENED).has('srtp-not-required'), false);
});

test('tls-certificate: expired, expiring, self-signed', async () => {
  const { cert } = await generateSelfSigned(['pbx.example.org']);
  const now = Date.now();
  assert.deepEqual(ids({}, { tlsCertPem: cert, now }).get('tls-certificate'), ['low']);
  assert.deepEqual(ids({}, { tlsCertPem: cert, now: now + 820 * 86_400_000 }).get('tls-certificate'), ['medium', 'low']);
  assert.deepEqual(ids({}, { tlsCertPem: cert, now: now + 900 * 86_400_000 }).get('tls-certificate'), ['high', 'low']);
  assert.deepEqual(ids({}, { tlsCertPem: 'garbage' }).get('tls-certificate'), ['high']);
});

test('unused-listeners: live registrations show idle transports; offline, plain listeners beside required encryption', () => {
  const raw = { sip: { listen: ['udp:127.0.0.1:5060', 'tls:127.0.0.1:5061'] }, extensions: [{ number: '1', encryption: 'required' }] };
  assert.deepEqual(ids(raw).get('unused-listeners'), ['low']);
  const live = { status: {}, registrations: [{ aor: '1', received: 'tls:127.0.0.1:40000' }] };
  const f = runAudit(input(raw, { live })).findings.find((x) => x.id === 'unused-listeners')!;
  assert.match(f.what, /udp:127\.0\.0\.1:5060$/);
  assert.equal(ids(raw, { live: { status: {}, registrations: [{ received: 'udp:127.0.0.1:1' }, { received: 'tls:127.0.0.1:2' }] } }).has('unused-listeners'), false);
});

test('server-header-version: a version in the User-Agent/Server header', () => {
  assert.deepEqual(ids({ sip: { user_agent: 'Asterisk PBX 16.2.1' } }).get('server-header-version'), ['low']);
  assert.equal(ids({ sip: { user_agent: 'Palisade' } }).has('server-header-version'), false);
});

test('file-permissions: world-readable config/db, readable or writable TLS key', () => {
  const f = (what: string, mode: number, secret = true) => ({ path: `/x/${what}`, what, mode, secret });
  const m = ids({}, { files: [f('configuration', 0o644), f('database', 0o600), f('TLS private key', 0o604)] });
  assert.deepEqual(m.get('file-permissions'), ['critical', 'high']);
  assert.deepEqual(ids({}, { files: [f('configuration', 0o666)] }).get('file-permissions'), ['critical']);
  assert.deepEqual(ids({}, { files: [f('TLS private key', 0o640)] }).get('file-permissions'), ['medium']);
  assert.equal(ids({}, { files: [f('configuration', 0o600), f('TLS private key', 0o600)] }).has('file-permissions'), false);
  assert.deepEqual(ids({}, { files: [f('control socket', 0o666, false)] }).get('file-permissions'), ['high']);
  assert.equal(ids({}, { files: [f('control socket', 0o600, false)] }).has('file-permissions'), false);
});

test('scores: a weak demo-like configuration fails, a hardened one scores high', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-audit-'));
  try {
    // weak: wildcard UDP, guessable HA1 (the demo's form with a bad secret), 0644 files, PIN 1234
    writeFileSync(join(dir, 'vm.conf'), '[default]\n1001 => 1234,Alice\n');
    writeFileSync(
      join(dir, 'weak.yaml'),
      [
        'sip:',
        '  listen: [udp:0.0.0.0:5060, tcp:0.0.0.0:5060]',
        '  domain: 127.0.0.1',
        '  user_agent: Palisade 0.1.0',
        'voicemail:',
        '  file: vm.conf',
        'extensions:',
        `  - { number: "1001", name: Alice, ha1_md5: ${md5('1001:127.0.0.1:1001')}, ha1_sha256: ${'0'.repeat(64)} }`,
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'weak.yaml'), 0o644);
    const weak = runAudit(await gatherAuditInput(join(dir, 'weak.yaml')));
    assert.ok(hasCritical(weak));
    const found = new Set(weak.findings.map((x) => x.id));
    for (const id of ['weak-secret', 'public-sip-no-acl', 'weak-pin', 'file-permissions', 'tls-not-used', 'alerts-email-missing', 'backups-missing', 'server-header-version'])
      assert.ok(found.has(id), id);
    assert.ok(weak.score < 30, `weak score ${weak.score}`);

    const pems = await generateSelfSigned(['10.1.0.5']);
    writeFileSync(join(dir, 'c.pem'), pems.cert);
    writeFileSync(join(dir, 'k.pem'), pems.key, { mode: 0o600 });
    const exts = ['1001', '1002'].map(
      (n) => `  - { number: "${n}", ha1_md5: ${md5(`${n}:pbx.example.org:${strong()}`)}, ha1_sha256: ${'a'.repeat(64)}, register_from: [10.1.0.0/16], encryption: required }`,
    );
    writeFileSync(
      join(dir, 'hard.yaml'),
      [
        'sip:',
        '  listen: [tls:10.1.0.5:5061]',
        '  domain: pbx.example.org',
        'tls:',
        '  cert: c.pem',
        '  key: k.pem',
        'security:',
        '  acl: { permit: [10.1.0.0/16], deny: [0.0.0.0/0] }',
        '  alerts: { to: [admin@example.org] }',
        'mail: { from: pbx@example.org, smtp: { host: 10.1.0.2 } }',
        'extensions:',
        ...exts,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const hard = runAudit(await gatherAuditInput(join(dir, 'hard.yaml')));
    assert.equal(hasCritical(hard), false, JSON.stringify(hard.findings));
    assert.ok(hard.score >= 90, `hardened score ${hard.score}: ${JSON.stringify(hard.findings)}`);
    assert.deepEqual(
      hard.findings.map((x) => x.id),
      ['backups-missing', 'tls-certificate'],
      'only the backup reminder and the self-signed certificate remain',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xmpp-auth-link: Prosody must require TLS and reach Palisade over its Unix socket', () => {
  const prosody = (text: string) => ({ prosody: { path: '/etc/prosody/prosody.cfg.lua', text, authSocket: '/run/palisade/xmpp.sock' } });
  const good = 'c2s_require_encryption = true\nauthentication = "dovecot"\ndovecot_auth_socket = "/run/palisade/xmpp.sock"\n';
  assert.equal(ids({}, prosody(good)).get('xmpp-auth-link'), undefined);
  assert.deepEqual(ids({}, prosody(`${good}allow_unencrypted_plain_auth = true\n`)).get('xmpp-auth-link'), ['critical']);
  assert.deepEqual(ids({}, prosody(`${good}c2s_require_encryption = false -- was true\n`)).get('xmpp-auth-link'), ['high']);
  assert.deepEqual(ids({}, prosody('authentication = "dovecot"\ndovecot_auth_host = "10.0.0.5"\ndovecot_auth_port = "12345"\n')).get('xmpp-auth-link'), ['critical']);
  assert.deepEqual(ids({}, prosody('authentication = "internal_hashed"\n')).get('xmpp-auth-link'), ['medium']);
  // commented out is not set
  assert.equal(ids({}, prosody(`${good}-- allow_unencrypted_plain_auth = true\n`)).get('xmpp-auth-link'), undefined);
  const r = runAudit(input({}, { prosody: { path: '', text: null, authSocket: null } }));
  assert.ok(r.unchecked.some((u) => u.id === 'xmpp-auth-link' && u.status === 'unknown'));
});
