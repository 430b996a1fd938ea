import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1 } from '../sip/auth/ha1.js';
import { ConfigError } from './index.js';
import { loadConfig, parseConfig } from '../security/config/load-config.js';

const GOOD = `sip:
  listen: [udp:127.0.0.1:5060, tcp:127.0.0.1:5060, "udp:[::1]:5060"]
  domain: pbx.example.org
extensions:
  - number: "1001"
    name: Alice
    secret: "xk4Lm9Qz2Wp8"
    context: internal
    email: alice@example.org
    voicemail: true
    max_contacts: 3
  - number: 0102
    ha1_md5: 0123456789ABCDEF0123456789abcdef
    ha1_sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`;

function errorsOf(text: string): ConfigError {
  try {
    parseConfig(text, 'palisade.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('a minimal config loads with every default filled in', () => {
  const c = parseConfig(GOOD, '/etc/palisade/palisade.yaml');
  assert.equal(c.baseDir, '/etc/palisade');
  assert.deepEqual(c.sip, {
    listen: [
      { transport: 'udp', address: '127.0.0.1', port: 5060 },
      { transport: 'tcp', address: '127.0.0.1', port: 5060 },
      { transport: 'udp', address: '::1', port: 5060 },
    ],
    domain: 'pbx.example.org',
    realm: 'pbx.example.org',
    userAgent: 'Palisade',
    workers: 1,
    udpRecvBuffer: 8388608,
  });
  assert.deepEqual(c.rtp, { portMin: 10000, portMax: 20000, address: '127.0.0.1', advertisedAddress: '127.0.0.1', timeout: 60 });
  assert.deepEqual(c.storage, { driver: 'sqlite', path: '/etc/palisade/var/palisade.db', tablePrefix: '' });
  assert.deepEqual(c.control, { socket: '/etc/palisade/var/palisade.sock' });
  assert.deepEqual(c.log, { level: 'info', levels: {} });
  assert.deepEqual(c.registrar, { minExpires: 60, maxExpires: 7200, defaultExpires: 3600, maxContacts: 10, qualifyInterval: 30 });
  assert.deepEqual(c.auth, { nonceLifetime: 300, algorithms: ['MD5'] });
  assert.deepEqual(c.calls, { ringTimeout: 60, maxDuration: 14400 });
  const [alice, second] = c.extensions;
  assert.equal(alice!.number, '1001');
  assert.equal(alice!.ha1Md5, computeHa1('MD5', '1001', 'pbx.example.org', 'xk4Lm9Qz2Wp8'));
  assert.equal(alice!.ha1Sha256, computeHa1('SHA-256', '1001', 'pbx.example.org', 'xk4Lm9Qz2Wp8'));
  assert.equal(alice!.maxContacts, 3);
  assert.equal(alice!.voicemail, true);
  assert.deepEqual(alice!.contextAt, { file: '/etc/palisade/palisade.yaml', line: 8, col: 14 });
  assert.equal(second!.number, '0102', 'an unquoted number keeps its leading zero');
  assert.equal(second!.name, '0102');
  assert.equal(second!.context, 'default');
  assert.equal(second!.ha1Md5, '0123456789abcdef0123456789abcdef');
  assert.equal(second!.maxContacts, 10);
  assert.ok(!JSON.stringify(c).includes('xk4Lm9Qz2Wp8'), 'the clear secret is not kept in the loaded config');
});

test('every option can be set', () => {
  const c = parseConfig(
    `sip:
  listen: [tcp:10.0.0.1:5070]
  domain: example.org
  realm: voice.example.org
  user_agent: Palisade PBX
  workers: 1
  udp_recv_buffer: 1048576
rtp: { ports: 20000-20003, address: 127.0.0.2, advertised_address: 192.0.2.7, timeout: 0 }
storage: { driver: postgres, url: "postgres://postgres@127.0.0.1/test", table_prefix: pal_ }
control: { socket: /run/palisade.sock }
log: { level: warn, levels: { sip: debug, rtp: error } }
registrar: { min_expires: 30, max_expires: 600, default_expires: 300, max_contacts: 2, qualify_interval: 0 }
auth: { nonce_lifetime: 60, algorithms: [MD5] }
calls: { ring_timeout: 20, max_duration: 0 }
`,
    'p.yaml',
  );
  assert.equal(c.sip.realm, 'voice.example.org');
  assert.equal(c.sip.userAgent, 'Palisade PBX');
  assert.equal(c.sip.workers, 1);
  assert.deepEqual(c.rtp, { portMin: 20000, portMax: 20003, address: '127.0.0.2', advertisedAddress: '192.0.2.7', timeout: 0 });
  assert.deepEqual(c.storage, { driver: 'postgres', url: 'postgres://postgres@127.0.0.1/test', tablePrefix: 'pal_' });
  assert.equal(c.control.socket, '/run/palisade.sock');
  assert.deepEqual(c.log, { level: 'warn', levels: { sip: 'debug', rtp: 'error' } });
  assert.deepEqual(c.registrar, { minExpires: 30, maxExpires: 600, defaultExpires: 300, maxContacts: 2, qualifyInterval: 0 });
  assert.deepEqual(c.auth, { nonceLifetime: 60, algorithms: ['MD5'] });
  assert.deepEqual(c.calls, { ringTimeout: 20, maxDuration: 0 });
});

test('a listen address without a port names file:line:col and the expected form', () => {
  const e = errorsOf(`sip:
  domain: pbx.example.org
  listen:
    - udp:127.0.0.1:5060
    - udp:127.0.0.1
`);
  assert.equal(e.code, 'PAL_ERR_CONFIG');
  assert.equal(e.file, 'palisade.yaml');
  assert.equal(e.line, 5);
  assert.equal(e.col, 7);
  assert.equal(e.message, 'palisade.yaml:5:7: sip.listen[1] "udp:127.0.0.1" lacks a port; expected TRANSPORT:ADDRESS:PORT such as udp:127.0.0.1:5060 or tcp:[::1]:5060');
});

test('all errors are collected, in file order, not just the first', () => {
  const e = errorsOf(`sip:
  listen: ["tcp:::1:5060", wss:127.0.0.1:5061, udp:localhost:5060, udp:127.0.0.1:70000]
  domian: pbx.example.org
rtp:
  ports: 10001-20000
log: { level: verbose }
registrar: { min_expires: 600, max_expires: 60 }
auth: { algorithms: [SHA-256, SHA-512] }
storage: { driver: mysql }
extensions:
  - number: "1006"
    secret: "Zq#8vLw1006kP"
  - number: "1006"
    secret: "xk4Lm9Qz2Wp8"
    colour: red
  - name: nobody
`);
  const lines = e.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
  const expect = [
    /^2:3 sip.domain is required/,
    /^2:12 sip.listen\[0\] "tcp:::1:5060" has an IPv6 address without brackets; write it as tcp:\[::1\]:5060/,
    /^2:28 sip.listen\[1\] "wss:127.0.0.1:5061" has transport "wss"/,
    /^2:48 sip.listen\[2\] "udp:localhost:5060" has "localhost", which is not an IP address/,
    /^2:68 sip.listen\[3\] "udp:127.0.0.1:70000" has port "70000"/,
    /^3:3 unknown key sip.domian; did you mean domain\?/,
    /^5:10 rtp.ports "10001-20000" starts on an odd port/,
    /^6:15 log.level is "verbose"; expected one of debug, info, warn, error/,
    /^7:14 registrar.min_expires 600 is above max_expires 60/,
    /^8:31 auth.algorithms\[1\] "SHA-512" is not supported/,
    /^9:10 storage.url is required; expected a URL such as mysql:\/\//,
    /^12:13 extensions\[0\].secret for 1006 is too weak \(contains the extension number\); use a generated one such as [A-Za-z2-9]{20}$/,
    /^13:13 extensions\[1\].number 1006 is already used by extensions\[0\]/,
    /^15:5 unknown key extensions\[1\].colour; keys allowed in extensions\[1\]: number, name/,
    /^16:5 extensions\[2\].number is required/,
    /^16:5 extensions\[2\] has no secret/,
  ];
  assert.equal(lines.length, expect.length, lines.join('\n'));
  for (const [i, re] of expect.entries()) assert.match(lines[i]!, re);
  assert.equal(e.message.split('\n').length, expect.length);
  assert.ok(e.message.startsWith('palisade.yaml:2:3: '));
});

test('unknown top-level sections and YAML syntax errors are reported with positions', () => {
  const e = errorsOf(`sip: { domain: a.org, listen: [udp:127.0.0.1:5060] }\nextentions: []\n`);
  assert.match(e.message, /^palisade\.yaml:2:1: unknown key extentions; did you mean extensions\?/);
  const s = errorsOf(`sip:\n  domain: a.org\n  domain: b.org\n`);
  assert.match(s.message, /^palisade\.yaml:\d+:\d+: YAML syntax: Map keys must be unique/);
  const t = errorsOf(`sip: [\n`);
  assert.match(t.message, /YAML syntax/);
});

test('type errors say what was found and what is expected', () => {
  const e = errorsOf(`sip:
  listen: udp:127.0.0.1:5060
  domain: a.org
  workers: two
rtp: { timeout: -1, ports: 1000-1001 }
extensions:
  - { number: "12a", secret: "xk4Lm9Qz2Wp8", voicemail: yes, ha1_md5: nothex }
`);
  const m = e.message;
  assert.match(m, /2:11: sip.listen must be a list, found "udp:127.0.0.1:5060"/);
  assert.match(m, /4:12: sip.workers must be a whole number, found "two"; expected 1..64 processes/);
  assert.match(m, /5:17: rtp.timeout -1 is out of range/);
  assert.match(m, /5:28: rtp.ports "1000-1001" must lie within 1024-65535/);
  assert.match(m, /7:15: extensions\[0\].number "12a" is not valid; expected 1 to 15 digits/);
  assert.match(m, /voicemail must be true or false, found "yes"/);
  assert.match(m, /ha1_md5 "nothex" is not valid; expected 32 hex digits/);
});

test('HA1-only extensions need an HA1 for every offered algorithm', () => {
  const base = `sip: { domain: a.org, listen: [udp:127.0.0.1:5060] }\n`;
  const e = errorsOf(`${base}auth: { algorithms: [SHA-256, MD5] }\nextensions:\n  - { number: "1001", ha1_md5: 0123456789abcdef0123456789abcdef }\n`);
  assert.match(e.message, /lacks ha1_sha256 while auth.algorithms offers SHA-256/);
  const ok = parseConfig(`${base}auth: { algorithms: [MD5] }\nextensions:\n  - { number: "1001", ha1_md5: 0123456789abcdef0123456789abcdef }\n`, 'x.yaml');
  assert.equal(ok.extensions[0]!.ha1Sha256, null);
});

test('an unspecified media address must be given an advertised address', () => {
  const e = errorsOf(`sip: { domain: a.org, listen: [udp:0.0.0.0:5060] }\n`);
  assert.match(e.message, /the media address 0.0.0.0 \(from the first sip.listen address\) cannot be put in SDP/);
  const c = parseConfig(`sip: { domain: a.org, listen: [udp:0.0.0.0:5060] }\nrtp: { advertised_address: 192.0.2.1 }\n`, 'x.yaml');
  assert.equal(c.rtp.address, '0.0.0.0');
  assert.equal(c.rtp.advertisedAddress, '192.0.2.1');
});

test('loadConfig resolves paths against the file directory and reports a missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palcfg-'));
  try {
    const file = join(dir, 'palisade.yaml');
    writeFileSync(file, GOOD + 'storage: { path: data/pbx.db }\n');
    const c = loadConfig(file);
    assert.equal(c.storage.driver === 'sqlite' && c.storage.path, join(dir, 'data/pbx.db'));
    assert.throws(
      () => loadConfig(join(dir, 'nope.yaml')),
      (e: unknown) => e instanceof ConfigError && /does not exist/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sip.workers takes a count or auto (one per core); the RTP range must hold 2 pairs per worker', () => {
  const c = (w: string, ports = '10000-10999') => parseConfig(`sip: { domain: a.org, listen: [udp:127.0.0.1:5060], workers: ${w} }\nrtp: { ports: ${ports} }\n`, 'palisade.yaml');
  assert.equal(c('4').sip.workers, 4);
  assert.equal(c('auto').sip.workers, Math.min(64, availableParallelism()));
  assert.match(
    errorsOf(`sip: { domain: a.org, listen: [udp:127.0.0.1:5060], workers: 3 }\nrtp: { ports: 10000-10009 }\n`).message,
    /rtp.ports "10000-10009" is too small for sip.workers 3; each worker needs at least 4 ports, give at least 12/,
  );
});

test('mail is off without a mail section, and read with defaults and positions when given', () => {
  assert.equal(parseConfig(GOOD, '/etc/palisade/palisade.yaml').mail, null);
  const c = parseConfig(`${GOOD}mail:\n  from: pbx@example.org\n  smtp:\n    host: 127.0.0.1\n`, '/etc/palisade/palisade.yaml');
  assert.deepEqual(c.mail, {
    from: 'pbx@example.org',
    spoolDir: '/etc/palisade/var/mail',
    retrySeconds: 30,
    smtp: { host: '127.0.0.1', port: 25, secure: false, requireTls: false, user: null, password: null, verifyCertificate: true },
  });
  const e = errorsOf(`${GOOD}mail:\n  from: not-an-address\n  smtp:\n    host: 127.0.0.1\n    user: pbx\n    prot: 25\n`);
  const text = e.message;
  assert.match(text, /palisade\.yaml:16:9: mail\.from "not-an-address" is not valid; expected the sender address/);
  assert.match(text, /palisade\.yaml:19:5: mail\.smtp\.user is set without mail\.smtp\.password/);
  assert.match(text, /palisade\.yaml:20:5: unknown key mail\.smtp\.prot; did you mean.*port/);
  assert.match(errorsOf(`${GOOD}mail:\n  from: a@b.org\n`).message, /mail\.smtp is required/);
});
