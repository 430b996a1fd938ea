// RFC 3263 resolution of a trunk's host against a real DNS server (Debian's
// dnsmasq on a loopback port, serving NAPTR, SRV, A and AAAA records).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { createSocket } from 'node:dgram';
import { orderSrv, resolveSipTargets } from './sip-target.js';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startDns(lines: string[]): Promise<{ resolver: Resolver; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dnsmasq-'));
  const port = await freeUdpPort();
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(conf, ['no-resolv', 'no-hosts', 'bind-interfaces', 'listen-address=127.0.0.1', `port=${port}`, 'log-queries', ...lines, ''].join('\n'));
  const child = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=' + conf, '--pid-file=' + join(dir, 'pid'), '--user=root', '--log-facility=-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const resolver = new Resolver({ timeout: 500, tries: 2 });
  resolver.setServers([`127.0.0.1:${port}`]);
  // ready once it answers
  for (let i = 0; ; i++) {
    try {
      await resolver.resolve4('ready.test');
      break;
    } catch {
      if (i > 40 || child.exitCode !== null) throw new Error(`dnsmasq did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    resolver,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('RFC 3263 against dnsmasq: NAPTR → SRV (priority order) → A/AAAA; SRV without NAPTR; A/AAAA with a given port; an address needs no DNS', async () => {
  const dns = await startDns([
    'address=/ready.test/127.0.0.9',
    // provider.test: NAPTR for UDP and TCP, the UDP SRV has two priorities
    'naptr-record=provider.test,10,50,s,SIP+D2T,,_sip._tcp.provider.test',
    'naptr-record=provider.test,20,50,s,SIP+D2U,,_sip._udp.provider.test',
    'srv-host=_sip._udp.provider.test,sip-b.provider.test,5070,20,10',
    'srv-host=_sip._udp.provider.test,sip-a.provider.test,5060,10,10',
    'srv-host=_sip._tcp.provider.test,sip-a.provider.test,5062,10,10',
    'host-record=sip-a.provider.test,127.0.0.21',
    'host-record=sip-b.provider.test,127.0.0.22,::1',
    // srvonly.test: no NAPTR, SRV only
    'srv-host=_sip._udp.srvonly.test,box.srvonly.test,5099,0,0',
    'host-record=box.srvonly.test,127.0.0.31',
    // plain.test: an A record only
    'host-record=plain.test,127.0.0.41',
  ]);
  try {
    const r = dns.resolver;
    assert.deepEqual(await resolveSipTargets({ host: 'provider.test', port: 5060, portGiven: false, transport: 'udp' }, r), [
      { transport: 'udp', address: '127.0.0.21', port: 5060 },
      { transport: 'udp', address: '127.0.0.22', port: 5070 },
      { transport: 'udp', address: '::1', port: 5070 },
    ]);
    assert.deepEqual(await resolveSipTargets({ host: 'provider.test', port: 5060, portGiven: false, transport: 'tcp' }, r), [
      { transport: 'tcp', address: '127.0.0.21', port: 5062 },
    ]);
    assert.deepEqual(await resolveSipTargets({ host: 'srvonly.test', port: 5060, portGiven: false, transport: 'udp' }, r), [
      { transport: 'udp', address: '127.0.0.31', port: 5099 },
    ]);
    assert.deepEqual(await resolveSipTargets({ host: 'plain.test', port: 5060, portGiven: false, transport: 'udp' }, r), [{ transport: 'udp', address: '127.0.0.41', port: 5060 }]);
    // §4.2: a port given means no SRV look-up, A/AAAA with that port
    assert.deepEqual(await resolveSipTargets({ host: 'sip-b.provider.test', port: 5080, portGiven: true, transport: 'udp' }, r), [
      { transport: 'udp', address: '127.0.0.22', port: 5080 },
      { transport: 'udp', address: '::1', port: 5080 },
    ]);
    assert.deepEqual(await resolveSipTargets({ host: 'nothing.test', port: 5060, portGiven: false, transport: 'udp' }, r), []);
    assert.deepEqual(await resolveSipTargets({ host: '127.0.0.5', port: 5099, portGiven: true, transport: 'udp' }, r), [{ transport: 'udp', address: '127.0.0.5', port: 5099 }]);
  } finally {
    await dns.stop();
  }
});

test('RFC 2782 order: lower priority first; within a priority the weights decide (running sum against a random draw)', () => {
  const recs = [
    { name: 'c', priority: 20, weight: 0 },
    { name: 'a', priority: 10, weight: 60 },
    { name: 'b', priority: 10, weight: 40 },
  ];
  // random 0 picks the first by running sum (sorted by weight: b 40, a 60)
  assert.deepEqual(
    orderSrv(recs, () => 0).map((r) => r.name),
    ['b', 'a', 'c'],
  );
  assert.deepEqual(
    orderSrv(recs, () => 0.99).map((r) => r.name),
    ['a', 'b', 'c'],
  );
});
