// `palisade audit`, `palisade secret generate` and `palisade pin generate` as
// an administrator runs them: exit codes, human and JSON output, and the
// live check against a running server over its control socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { startPalisade } from '../helpers/palisade-process.js';
import { checkPin, checkSecret, generateSecret } from '../../src/security/passwords/index.js';
import { generateSelfSigned } from '../../src/transport/self-signed-cert.js';

const bin = join(repoRoot(), 'bin', 'palisade.js');
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** async, for when the server under test must keep answering */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (status) => resolve({ status, stdout: out }));
  });
}

test('a weak, demo-like configuration: critical findings, exit 1; --json carries the same', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-audit-cli-'));
  try {
    const cfg = join(dir, 'palisade.yaml');
    writeFileSync(
      cfg,
      [
        'sip:',
        '  listen: [udp:0.0.0.0:5060]',
        '  domain: 127.0.0.1',
        'extensions:',
        `  - { number: "1001", name: Alice, ha1_md5: ${md5('1001:127.0.0.1:1234')}, ha1_sha256: ${'0'.repeat(64)} }`,
        '',
      ].join('\n'),
    );
    chmodSync(cfg, 0o644);
    // the host section (its own test below) is left out: apt-get's simulation alone takes seconds
    const r = cli(['audit', '--config', cfg, '--no-host']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[CRITICAL\] weak-secret: the HA1 of 1 extension\(s\) \(1001\)/);
    assert.match(r.stdout, /\[CRITICAL\] public-sip-no-acl: /);
    assert.match(r.stdout, /\[HIGH\] file-permissions: configuration .* is world-readable \(mode 0644\)/);
    assert.match(r.stdout, /fix: /);
    assert.match(r.stdout, /Score: \d+\/100/);
    const j = cli(['audit', '--config', cfg, '--json', '--no-host']);
    assert.equal(j.status, 1);
    const rep = JSON.parse(j.stdout) as { score: number; findings: Array<{ id: string; severity: string; what: string; fix: string }>; live: boolean };
    assert.ok(rep.score < 40, `score ${rep.score}`);
    assert.equal(rep.live, false);
    assert.ok(rep.findings.every((f) => f.id && f.severity && f.what && f.fix));
    assert.equal(rep.findings[0]!.severity, 'critical');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hardened configuration: high score, exit 0; a missing file is a usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-audit-cli-'));
  try {
    const pems = await generateSelfSigned(['10.1.0.5']);
    writeFileSync(join(dir, 'c.pem'), pems.cert);
    writeFileSync(join(dir, 'k.pem'), pems.key, { mode: 0o600 });
    const cfg = join(dir, 'palisade.yaml');
    writeFileSync(
      cfg,
      [
        'sip:',
        '  listen: [tls:10.1.0.5:5061]',
        '  domain: pbx.example.org',
        'tls: { cert: c.pem, key: k.pem }',
        'security:',
        '  acl: { permit: [10.1.0.0/16], deny: [0.0.0.0/0] }',
        '  alerts: { to: [admin@example.org] }',
        'mail: { from: pbx@example.org, smtp: { host: 10.1.0.2 } }',
        'extensions:',
        `  - { number: "1001", ha1_md5: ${md5(`1001:pbx.example.org:${generateSecret()}`)}, ha1_sha256: ${'a'.repeat(64)}, register_from: [10.1.0.0/16], encryption: required }`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // the configuration alone: this test machine's own host findings are not the configuration's
    const r = cli(['audit', '--config', cfg, '--no-host']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Host checks: skipped \(--no-host\)/);
    const score = Number(/Score: (\d+)\/100/.exec(r.stdout)?.[1]);
    assert.ok(score >= 90, r.stdout);
    assert.equal(cli(['audit', '--config', join(dir, 'nope.yaml')]).status, 2);
    assert.equal(cli(['audit']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the host section: on by default in text and --json, skipped with --no-host; as an unprivileged user the firewall cannot be read and says so', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-audit-cli-'));
  try {
    const cfg = join(dir, 'palisade.yaml');
    writeFileSync(cfg, ['sip:', '  listen: [udp:0.0.0.0:5060]', '  domain: pbx.example.org', 'security:', '  acl: { permit: [198.51.100.0/24] }', ''].join('\n'), { mode: 0o644 });
    type Rep = { host: Array<{ id: string; status: string }> | null; unchecked: Array<{ id: string; status: string; why: string; fix: string }>; passed: string[] };
    const j = cli(['audit', '--config', cfg, '--json']);
    const rep = JSON.parse(j.stdout) as Rep;
    assert.deepEqual(
      rep.host?.map((h) => h.id),
      ['host-ssh', 'host-updates', 'host-firewall', 'host-clock', 'host-disk'],
    );
    for (const h of rep.host!) {
      assert.ok(['pass', 'finding', 'unknown', 'not-installed'].includes(h.status), `${h.id} ${h.status}`);
      // a check that could not judge is listed with its reason and never counted as passed
      if (h.status === 'unknown' || h.status === 'not-installed') {
        assert.ok(rep.unchecked.some((u) => u.id === h.id && u.why && u.fix));
        assert.ok(!rep.passed.includes(h.id));
      }
    }
    const t = cli(['audit', '--config', cfg]);
    assert.match(t.stdout, /Host checks: host-ssh (pass|finding|unknown|not-installed), host-updates /);
    const n = JSON.parse(cli(['audit', '--config', cfg, '--json', '--no-host']).stdout) as Rep;
    assert.equal(n.host, null);
    assert.ok(!n.passed.some((id) => id.startsWith('host-')));

    // nft needs CAP_NET_ADMIN: run as nobody, the ruleset is "cannot be read", never "no firewall" and never passed
    chmodSync(dir, 0o755); // nobody reads the configuration
    if (process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0 && spawnSync('nft', ['--version']).status === 0) {
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, 'audit', '--config', cfg, '--json'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const asNobody = JSON.parse(r.stdout) as Rep;
      assert.equal(asNobody.host?.find((h) => h.id === 'host-firewall')?.status, 'unknown', r.stdout);
      const fw = asNobody.unchecked.find((u) => u.id === 'host-firewall')!;
      assert.match(fw.why, /nft -j list ruleset exited with 1: .*(not permitted|root)/i);
      assert.match(fw.fix, /as root/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the audit asks a running server over its control socket', { timeout: 60_000 }, async () => {
  const pal = await startPalisade({});
  try {
    const r = await cliAsync(['audit', '--config', pal.configPath, '--json']);
    const rep = JSON.parse(r.stdout) as { live: boolean; findings: Array<{ id: string }> };
    assert.equal(rep.live, true);
    assert.ok(rep.findings.some((f) => f.id === 'tls-not-used'));
  } finally {
    await pal.stop();
  }
});

test('secret generate and pin generate offer values that pass the policies', () => {
  const s = cli(['secret', 'generate', '--count', '3']);
  assert.equal(s.status, 0);
  const secrets = s.stdout.trim().split('\n');
  assert.equal(secrets.length, 3);
  for (const x of secrets) assert.equal(checkSecret(x, { kind: 'sip', extension: '1001' }).score, 4);
  const p = cli(['pin', 'generate', '--length', '6', '--mailbox', '1001', '--count', '20']);
  assert.equal(p.status, 0);
  for (const pin of p.stdout.trim().split('\n')) {
    assert.match(pin, /^\d{6}$/);
    assert.deepEqual(checkPin(pin, { mailbox: '1001', minLength: 6 }), { ok: true });
  }
  assert.notEqual(cli(['pin', 'generate', '--length', '3']).status, 0);
});
