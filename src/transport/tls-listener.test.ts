// SIP over TLS: the listener handshakes TLS 1.2+, frames SIP like TCP, answers
// on the phone's own connection, refuses TLS 1.0, and the config names bad
// certificate files by file:line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportLayer } from './transport-layer.js';
import { ensureSelfSignedCert, generateSelfSigned } from './self-signed-cert.js';
import { LogRoot } from '../observability/logger.js';
import { parseConfig } from '../security/config/load-config.js';
import { ConfigError } from '../config/config-error.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import type { Remote } from './types.js';

let dir: string;
let certPem: string;
let keyPem: string;
let layer: TransportLayer;
const inbound: Array<{ msg: SipMessage; remote: Remote }> = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pal-tls-'));
  const files = await ensureSelfSignedCert(dir, ['127.0.0.1', 'localhost']);
  certPem = (await import('node:fs')).readFileSync(files.cert, 'utf8');
  keyPem = (await import('node:fs')).readFileSync(files.key, 'utf8');
  const log = new LogRoot('error', {}, { write: () => {} }).get('sip');
  layer = new TransportLayer([{ transport: 'tls', address: '127.0.0.1', port: 0 }], log);
  layer.tlsCredentials = { certPem, keyPem, caPem: null, minVersion: 'TLSv1.2', ciphers: null, verifyClient: false };
  layer.onMessage((msg, remote) => inbound.push({ msg, remote }));
  await layer.start();
});

after(async () => {
  await layer.close();
  rmSync(dir, { recursive: true, force: true });
});

const port = () => layer.listenPoints[0]!.port;

function options(n: number): string {
  return (
    `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKtls${n};rport\r\n` +
    `From: <sips:probe@127.0.0.1>;tag=t${n}\r\nTo: <sips:127.0.0.1>\r\nCall-ID: tls-${n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`
  );
}

async function waitFor<T>(f: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the self-signed key is written with mode 0600', () => {
  assert.equal(statSync(join(dir, 'tls-key.pem')).mode & 0o777, 0o600);
});

test('a TLS 1.2 client is served; messages split across records are framed; replies reuse its connection', async () => {
  const sock = tls.connect({ host: '127.0.0.1', port: port(), ca: certPem, maxVersion: 'TLSv1.2', servername: 'localhost' });
  await new Promise<void>((r, j) => sock.once('secureConnect', r).once('error', j));
  assert.equal(sock.getProtocol(), 'TLSv1.2');
  assert.equal(sock.authorized, true, 'the client verified the certificate against the CA');
  const text = options(1) + options(2);
  sock.write(text.slice(0, 70));
  await new Promise((r) => setTimeout(r, 30));
  sock.write(text.slice(70));
  const got = await waitFor(() => (inbound.filter((i) => i.msg.callId.startsWith('tls-')).length >= 2 ? inbound : undefined));
  const first = got.find((i) => i.msg.callId === 'tls-1')!;
  assert.equal(first.remote.transport, 'tls');
  assert.ok(first.remote.flow !== undefined);
  assert.equal(first.msg.topVia.params.rport, String(sock.localPort));
  assert.equal(layer.tlsConnections(), 1);
  // the reply (and any request to this phone) goes back on the same TLS flow
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  layer.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), { transport: 'tls', address: '127.0.0.1', port: sock.localPort! });
  await waitFor(() => (Buffer.concat(chunks).includes('200 OK') ? true : undefined));
  assert.equal(layer.tlsConnections(), 1, 'no second connection was opened');
  assert.equal(layer.localFor(first.remote).transport, 'tls');
  sock.destroy();
});

test('TLS 1.3 is served too', async () => {
  const sock = tls.connect({ host: '127.0.0.1', port: port(), ca: certPem, servername: 'localhost' });
  await new Promise<void>((r, j) => sock.once('secureConnect', r).once('error', j));
  assert.equal(sock.getProtocol(), 'TLSv1.3');
  sock.destroy();
});

test('TLS 1.0 and 1.1 clients are refused (node client)', async () => {
  for (const v of ['TLSv1', 'TLSv1.1'] as const) {
    const before = layer.tlsHandshakeErrors();
    const sock = tls.connect({ host: '127.0.0.1', port: port(), rejectUnauthorized: false, minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' });
    const err = await new Promise<Error | null>((r) => sock.once('secureConnect', () => r(null)).once('error', r));
    assert.ok(err, `${v} handshake must fail`);
    sock.destroy();
    await waitFor(() => (layer.tlsHandshakeErrors() > before ? true : undefined));
  }
});

test('openssl s_client: TLS 1.2 handshakes, TLS 1.0 gets a protocol_version alert', async () => {
  // async: the server under test runs in this process's event loop
  const run = (args: string[]) =>
    new Promise<{ status: number; out: string }>((resolve) => {
      const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port()}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (out += c.toString()));
      p.stdin.end();
      p.on('close', (code) => resolve({ status: code ?? -1, out }));
    });
  const ok = await run(['-tls1_2', '-CAfile', join(dir, 'tls-cert.pem')]);
  assert.match(ok.out, /New, TLSv1\.2, Cipher is ECDHE-/);
  assert.match(ok.out, /Verify return code: 0 \(ok\)/);
  const old = await run(['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']);
  assert.notEqual(old.status, 0);
  assert.match(old.out, /alert protocol version/i);
  assert.match(old.out, /Cipher is \(NONE\)/);
});

test('plain SIP on the TLS port does not reach the SIP layer', async () => {
  const net = await import('node:net');
  const n = inbound.length;
  const s = net.connect({ host: '127.0.0.1', port: port() });
  await new Promise<void>((r) => s.once('connect', r));
  s.write(options(9));
  await new Promise((r) => s.once('close', r));
  assert.equal(inbound.length, n);
});

test('a source the packet gate refuses is cut off before the TLS handshake', async () => {
  layer.gate = { admit: (address) => address !== '127.0.0.2' };
  try {
    const refused = () => (layer as unknown as { tls: Array<{ refused: number }> }).tls[0]!.refused;
    const before = refused();
    const errorsBefore = layer.tlsHandshakeErrors();
    const sock = tls.connect({ host: '127.0.0.1', port: port(), localAddress: '127.0.0.2', rejectUnauthorized: false } as tls.ConnectionOptions);
    const err = await new Promise<Error | null>((r) =>
      sock
        .once('secureConnect', () => r(null))
        .once('error', r)
        .once('close', () => r(new Error('closed'))),
    );
    assert.ok(err, 'no handshake');
    sock.destroy();
    assert.equal(refused(), before + 1);
    // an admitted source still gets through
    const ok = tls.connect({ host: '127.0.0.1', port: port(), ca: certPem, servername: 'localhost' });
    await new Promise<void>((r, j) => ok.once('secureConnect', r).once('error', j));
    ok.destroy();
    assert.ok(layer.tlsHandshakeErrors() >= errorsBefore);
  } finally {
    layer.gate = { admit: () => true };
  }
});

test('verify_client: phones without a certificate from the CA are refused', async () => {
  const { generate } = await import('selfsigned');
  const ca = await generateSelfSigned(['Palisade test CA']);
  const phone = await generate([{ name: 'commonName', value: 'phone-1001' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', ca: { key: ca.key, cert: ca.cert } });
  const log = new LogRoot('error', {}, { write: () => {} }).get('sip');
  const strict = new TransportLayer([{ transport: 'tls', address: '127.0.0.1', port: 0 }], log);
  strict.tlsCredentials = { certPem, keyPem, caPem: ca.cert, minVersion: 'TLSv1.2', ciphers: null, verifyClient: true };
  const got: string[] = [];
  strict.onMessage((msg) => got.push(msg.callId));
  await strict.start();
  try {
    const p = strict.listenPoints[0]!.port;
    const anon = tls.connect({ host: '127.0.0.1', port: p, ca: certPem, servername: 'localhost' });
    anon.on('error', () => undefined);
    await new Promise<void>((r) => anon.once('secureConnect', () => r()).once('error', () => r()));
    anon.write(options(41));
    await new Promise((r) => anon.once('close', r));
    const withCert = tls.connect({ host: '127.0.0.1', port: p, ca: certPem, servername: 'localhost', cert: phone.cert, key: phone.private });
    await new Promise<void>((r, j) => withCert.once('secureConnect', r).once('error', j));
    withCert.write(options(42));
    await waitFor(() => (got.includes('tls-42') ? true : undefined));
    withCert.destroy();
    assert.deepEqual(got, ['tls-42'], 'only the phone with a CA-signed certificate was heard');
  } finally {
    await strict.close();
  }
});

test('a request to a TLS phone without an open flow opens a verified TLS connection', async () => {
  const trusted = await generateSelfSigned(['127.0.0.1']);
  const untrusted = await generateSelfSigned(['127.0.0.1']);
  const log = new LogRoot('error', {}, { write: () => {} }).get('sip');
  const out = new TransportLayer([{ transport: 'tls', address: '127.0.0.1', port: 0 }], log);
  out.tlsCredentials = { certPem, keyPem, caPem: trusted.cert, minVersion: 'TLSv1.2', ciphers: null, verifyClient: false };
  out.onMessage(() => undefined);
  await out.start();
  const phone = async (pems: { cert: string; key: string }) => {
    const got: Buffer[] = [];
    const srv = tls.createServer({ cert: pems.cert, key: pems.key }, (s) => s.on('data', (d: Buffer) => got.push(d)));
    srv.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    return { srv, got, port: (srv.address() as { port: number }).port };
  };
  const good = await phone(trusted);
  const bad = await phone(untrusted);
  try {
    const msg = Buffer.from(options(77));
    out.send(msg, { transport: 'tls', address: '127.0.0.1', port: good.port });
    out.send(msg, { transport: 'tls', address: '127.0.0.1', port: bad.port });
    await waitFor(() => (Buffer.concat(good.got).includes('tls-77') ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bad.got.length, 0, 'nothing is sent to a phone whose certificate the CA does not sign');
  } finally {
    await out.close();
    good.srv.close();
    bad.srv.close();
  }
});

test('config: tls section files are checked with file:line errors', async () => {
  const other = await generateSelfSigned(['other.example']);
  writeFileSync(join(dir, 'other-key.pem'), other.key);
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
  const base = (tlsBlock: string) => `sip:\n  listen: [tls:127.0.0.1:5061]\n  domain: pbx.example.org\n${tlsBlock}`;
  const errs = (text: string) => {
    try {
      parseConfig(text, join(dir, 'p.yaml'));
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    return '';
  };
  assert.match(errs(base('')), /sip.listen has a tls: listen point but there is no tls section/);
  assert.match(errs(base('tls:\n  cert: missing.pem\n  key: tls-key.pem\n')), /p\.yaml:5:9: tls\.cert .*missing\.pem does not exist/);
  assert.match(errs(base('tls:\n  cert: junk.pem\n  key: tls-key.pem\n')), /p\.yaml:5:9: tls\.cert .*junk\.pem is not PEM/);
  assert.match(errs(base('tls:\n  cert: tls-cert.pem\n  key: other-key.pem\n')), /p\.yaml:6:8: tls\.key .*other-key\.pem does not belong to the certificate/);
  assert.match(errs(base('tls:\n  cert: tls-cert.pem\n  key: tls-key.pem\n  min_version: TLSv1.0\n')), /tls\.min_version is "TLSv1\.0"; expected one of TLSv1\.2, TLSv1\.3/);
  assert.match(errs(base('tls:\n  cert: tls-cert.pem\n  key: tls-key.pem\n  verify_client: true\n')), /tls\.verify_client needs tls\.ca/);
  const noTls = `sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\nextensions:\n  - { number: "1001", secret: "xk4Lm9Qz2Wp8Tr", encryption: required }\n`;
  assert.match(errs(noTls), /p\.yaml:5:\d+: extensions\[0\]\.encryption is required but sip\.listen has no tls: listen point/);
  const cfg = parseConfig(base('tls:\n  cert: tls-cert.pem\n  key: tls-key.pem\n'), join(dir, 'p.yaml'));
  assert.equal(cfg.tls?.minVersion, 'TLSv1.2');
  assert.equal(cfg.tls?.keyPem, keyPem);
  assert.equal(cfg.sip.listen[0]?.transport, 'tls');
});
