// Ban mirroring into nftables, inside a network namespace of our own (so the
// host's firewall is never touched): with security.ids.nftables enabled, a
// ban puts the address into the set with the ban's timeout, and the kernel
// then drops its packets before Palisade sees them; an unban takes it out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { netnsSuite } from '../helpers/netns.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { optionsRequest, palisadeStatus } from '../helpers/sip-probe.js';
import { repoRoot } from '../helpers/paths.js';

function nft(...args: string[]): string {
  const r = spawnSync('nft', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `nft ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function cli(pal: PalisadeProcess, args: string[]): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 15_000 });
  return { out: r.stdout + r.stderr, status: r.status };
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function sendOptions(pal: PalisadeProcess, from: string): Promise<void> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, from, () => {
      s.send(optionsRequest({ domain: pal.domain, localPort: s.address().port, callId: `nft-${Date.now()}` }), pal.sipPort, '127.0.0.1', () => {
        s.close();
        resolve();
      });
    });
  });
}

const haveNft = spawnSync('nft', ['--version']).status === 0;

netnsSuite(import.meta.url, 'bans mirrored into nftables', () => {
  let pal: PalisadeProcess;
  before(async () => {
    nft('add', 'table', 'inet', 'paltest');
    nft('add', 'set', 'inet', 'paltest', 'bad4', '{ type ipv4_addr; flags timeout; }');
    nft('add', 'set', 'inet', 'paltest', 'bad6', '{ type ipv6_addr; flags timeout; }');
    nft('add', 'chain', 'inet', 'paltest', 'input', '{ type filter hook input priority -10; }');
    nft('add', 'rule', 'inet', 'paltest', 'input', 'ip', 'saddr', '@bad4', 'counter', 'drop');
    pal = await startPalisade({
      transports: ['udp'],
      extraYaml: ['security:', '  ids:', '    nftables: { enabled: true, family: inet, table: paltest, set: bad4, set6: bad6 }'].join('\n'),
    });
  });
  after(async () => {
    await pal?.stop();
  });

  test('a ban adds the address to the set with its timeout; the kernel drops it; unban removes it', { skip: !haveNft && 'nft is not installed' }, async () => {
    assert.equal(cli(pal, ['bans', 'add', '127.0.0.5', '--for', '1h']).status, 0);
    assert.ok(await until(() => nft('list', 'set', 'inet', 'paltest', 'bad4').includes('127.0.0.5'), 5000), nft('list', 'set', 'inet', 'paltest', 'bad4'));
    assert.match(nft('list', 'set', 'inet', 'paltest', 'bad4'), /127\.0\.0\.5 timeout 1h/);
    const before = (palisadeStatus(pal.configPath).packets as { received: number }).received;
    await sendOptions(pal, '127.0.0.5');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((palisadeStatus(pal.configPath).packets as { received: number }).received, before, 'dropped by the kernel: Palisade never saw it');
    assert.match(nft('list', 'chain', 'inet', 'paltest', 'input'), /counter packets [1-9]/);
    assert.equal(cli(pal, ['bans', 'remove', '127.0.0.5']).status, 0);
    assert.ok(await until(() => !nft('list', 'set', 'inet', 'paltest', 'bad4').includes('127.0.0.5'), 5000), 'removed from the set');
  });
});
