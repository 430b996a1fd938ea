// The host checks of `palisade audit` against prepared hosts under
// test/fixtures/host-audit/ (sshd_config trees, `nft -j list ruleset` output
// made by nft itself in a scratch network namespace, apt's simulated upgrade,
// chronyc tracking), and against this machine read-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../../test/helpers/paths.js';
import type { AuditInput } from './audit-types.js';
import { filtersNothing, inputChains, parseIptablesSave, parseNftJson, reach, reachRange } from './firewall-rules.js';
import { gatherHostFacts, gatherSsh, parseAptSimulation } from './gather-host.js';
import { systemHostReaders } from './host-readers.js';
import type { ExecResult, HostReaders } from './host-types.js';
import { formatReport, HOST_CHECKS, runAudit } from './run-audit.js';
import { parseSshdConfig, parseSshdT } from './sshd-config.js';

const FIX = join(repoRoot(), 'test', 'fixtures', 'host-audit');
const NOW = Date.parse('2026-12-04T12:00:00Z');
const DAY = 86_400_000;
const GIB = 1024 ** 3;

interface FixtureOptions {
  /** path → mtime (the fixtures' own times are whenever they were checked out) */
  mtimes?: Record<string, number>;
  /** path measured → filesystem */
  disks?: Record<string, { device: number; total: number; available: number }>;
  /** command line → result, replacing commands.json; null: not installed */
  commands?: Record<string, ExecResult | null>;
}

/** readers over a prepared root: files under ROOT/, commands from ROOT/commands.json (absent: not installed) */
function fixtureHost(root: string, opts: FixtureOptions = {}): HostReaders {
  const dir = join(FIX, root);
  const table = existsSync(join(dir, 'commands.json'))
    ? (JSON.parse(readFileSync(join(dir, 'commands.json'), 'utf8')) as Record<string, { stdout?: string; code?: number; stderr?: string }>)
    : {};
  return {
    async exec(file, args) {
      const line = [file, ...args].join(' ');
      if (opts.commands && line in opts.commands) return opts.commands[line]!;
      const c = table[line];
      if (!c) return null;
      return { code: c.code ?? 0, stdout: c.stdout ? readFileSync(join(dir, c.stdout), 'utf8') : '', stderr: c.stderr ?? '' };
    },
    readFile: (p) => readFile(join(dir, p), 'utf8'),
    readDir: (p) => readdir(join(dir, p)),
    mtime: async (p) => opts.mtimes?.[p] ?? statSync(join(dir, p)).mtimeMs,
    async statfs(p) {
      const d = opts.disks?.[p];
      if (!d) throw Object.assign(new Error(`statfs ${p}`), { code: 'EACCES', path: p });
      return d;
    },
    exists: async (p) => existsSync(join(dir, p)),
  };
}

const LISTS = '/var/lib/apt/lists';
/** every package list of a prepared root as last refreshed at t */
const listTimes = (root: string, t: number) => Object.fromEntries(readdirSync(join(FIX, root, LISTS)).map((n) => [`${LISTS}/${n}`, t]));

/** the configuration judged: SIP on every address, TLS, trusted networks, an HTTP port */
const RAW = {
  sip: { listen: ['udp:0.0.0.0:5060', 'udp:[::]:5060', 'tls:0.0.0.0:5061', 'udp:127.0.0.1:5070'], domain: 'pbx.example.org' },
  rtp: { ports: '10000-20000' },
  http: { listen: '0.0.0.0:8443' },
  security: { acl: { permit: ['198.51.100.0/24', '203.0.113.10/32'] } },
  admin: { acl: { permit: ['198.51.100.0/24'] } },
};
const CONFIG_DIR = '/etc/palisade';
const roomy = { device: 1, total: 100 * GIB, available: 60 * GIB };

async function hostInput(readers: HostReaders, raw: Record<string, unknown> = RAW): Promise<AuditInput> {
  const host = await gatherHostFacts(raw, CONFIG_DIR, readers);
  return { configPath: `${CONFIG_DIR}/palisade.yaml`, raw, configIssues: [], files: [], mailboxes: [], tlsCertPem: null, live: null, now: NOW, host };
}

/** the host checks' findings as id → severities, and each host check's status */
async function judge(readers: HostReaders, raw: Record<string, unknown> = RAW) {
  const r = runAudit(await hostInput(readers, raw), HOST_CHECKS);
  const m = new Map<string, string[]>();
  for (const f of r.findings) m.set(f.id, [...(m.get(f.id) ?? []), f.severity]);
  return { report: r, ids: m, status: Object.fromEntries((r.host ?? []).map((h) => [h.id, h.status])) };
}

test("sshd_config: Include'd drop-ins first, the first obtained value wins, only *.conf, Match blocks apart", async () => {
  const good = await parseSshdConfig('/etc/ssh/sshd_config', fixtureHost('good'));
  assert.deepEqual(good.global.get('permitrootlogin'), ['no'], 'the drop-in is read at the Include, before the later "PermitRootLogin yes"');
  assert.deepEqual(good.global.get('passwordauthentication'), ['no'], '"Keyword=value" form');
  assert.deepEqual(good.global.get('port'), ['2222', '22'], 'Port may be given several times');
  assert.deepEqual(good.files, ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/10-palisade-hardening.conf'], 'README.txt is not a .conf file');
  assert.equal(good.matches.length, 1);
  assert.equal(good.matches[0]!.criteria, 'Group sftponly');
  assert.deepEqual(good.matches[0]!.settings.get('passwordauthentication'), ['no']);

  const bad = await parseSshdConfig('/etc/ssh/sshd_config', fixtureHost('bad'));
  assert.deepEqual(bad.global.get('passwordauthentication'), ['yes'], "cloud-init's drop-in turns passwords on");
  assert.deepEqual(bad.global.get('permitrootlogin'), ['yes']);
  assert.equal(bad.global.has('port'), false, 'commented out: the default applies');
  assert.deepEqual(bad.matches[0]!.settings.get('permitemptypasswords'), ['yes']);
  assert.match(bad.matches[0]!.where, /sshd_config:\d+$/);
});

test('sshd -T is preferred when it runs (root); its failure falls back to the files', async () => {
  const t = parseSshdT(readFileSync(join(FIX, 'good', 'out', 'sshd-T.txt'), 'utf8'));
  assert.deepEqual(t.get('acceptenv'), ['LANG', 'LC_*']);
  const good = await gatherSshOk('good');
  assert.equal(good.source, 'sshd -T');
  assert.deepEqual(good.global.get('port'), ['2222'], "the effective value, not the files' two");
  assert.equal(good.matches.length, 1, 'Match blocks still come from the files');
  const bad = await gatherSshOk('bad');
  assert.match(bad.source, /^\/etc\/ssh\/sshd_config and 1 included file/);
});

async function gatherSshOk(root: string) {
  const f = await gatherSsh(fixtureHost(root));
  assert.equal(f.state, 'read');
  if (f.state !== 'read') throw new Error('unreachable');
  return f;
}

test('nft JSON: policy, established/loopback/ICMP skipped, sources and named sets limit, port sets and ranges, jumps', () => {
  const good = parseNftJson(readFileSync(join(FIX, 'nft', 'good.json'), 'utf8'));
  assert.equal(inputChains(good).length, 2, "inet filter input and the ban table's input");
  assert.equal(reach(good, 'udp', 5060), 'limited', 'ip saddr @sip_trusted4');
  assert.equal(reach(good, 'tcp', 5061), 'limited');
  assert.equal(reach(good, 'udp', 5061), 'closed');
  assert.deepEqual(reachRange(good, 'udp', 10000, 20000), [{ lo: 10000, hi: 20000, reach: 'open' }], 'udp dport @media_ports');
  assert.equal(reach(good, 'tcp', 22), 'closed');
  assert.equal(reach(good, 'tcp', 8443), 'limited');
  assert.equal(filtersNothing(good), false);

  const open = parseNftJson(readFileSync(join(FIX, 'nft', 'open.json'), 'utf8'));
  assert.equal(reach(open, 'udp', 5060), 'open');
  assert.equal(reach(open, 'udp', 5080), 'open', 'udp dport { 5060, 5080 }');
  assert.equal(reach(open, 'tcp', 3306), 'limited', 'jump to a chain accepting 10/8 and returning to policy drop');
  assert.deepEqual(reachRange(open, 'udp', 10000, 20000), [
    { lo: 10000, hi: 15000, reach: 'open' },
    { lo: 15001, hi: 20000, reach: 'closed' },
  ]);

  const accept = parseNftJson(readFileSync(join(FIX, 'nft', 'accept.json'), 'utf8'));
  assert.equal(filtersNothing(accept), true, 'policy accept; the only drop is for banned addresses');
  assert.equal(reach(accept, 'udp', 5060), 'open');
  const empty = parseNftJson(readFileSync(join(FIX, 'nft', 'empty.json'), 'utf8'));
  assert.equal(inputChains(empty).length, 0);
  assert.equal(filtersNothing(empty), true);
  assert.throws(() => parseNftJson('{"nope": 1}'), /nftables/);
});

test('iptables-save: the filter table, multiport, port ranges, a user chain with source accepts', () => {
  const rs = parseIptablesSave(readFileSync(join(FIX, 'iptables-save.txt'), 'utf8'));
  assert.equal(inputChains(rs).length, 1);
  assert.equal(reach(rs, 'udp', 5060), 'limited');
  assert.equal(reach(rs, 'tcp', 5061), 'limited', '-m multiport --dports 5061,8443 -j palisade-sip');
  assert.equal(reach(rs, 'tcp', 8443), 'limited');
  assert.equal(reach(rs, 'udp', 15000), 'open', '--dport 10000:20000');
  assert.equal(reach(rs, 'tcp', 2222), 'limited');
  assert.equal(reach(rs, 'tcp', 22), 'closed', 'the final REJECT');
  assert.equal(filtersNothing(rs), false);
  assert.equal(filtersNothing(parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n')), true);
});

test('apt-get -s: security updates are those offered by a -security suite', () => {
  const bad = parseAptSimulation(readFileSync(join(FIX, 'bad', 'out', 'apt-get-dist-upgrade.txt'), 'utf8'));
  assert.equal(bad.upgradable.length, 6);
  assert.deepEqual(bad.security, ['libgcrypt20', 'libssl3', 'openssl', 'openssh-client', 'openssh-server']);
  const good = parseAptSimulation(readFileSync(join(FIX, 'good', 'out', 'apt-get-dist-upgrade.txt'), 'utf8'));
  assert.deepEqual(good, { upgradable: ['base-files', 'tzdata'], security: [] });
  const ubuntu = parseAptSimulation('Inst libssl3 [3.0.2-0ubuntu1.15] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])\n');
  assert.deepEqual(ubuntu.security, ['libssl3']);
});

test('a prepared bad host yields each host finding, with its fix', async () => {
  const readers = fixtureHost('bad', {
    mtimes: listTimes('bad', NOW - 40 * DAY),
    disks: { '/etc': { device: 1, total: 20 * GIB, available: 0.2 * GIB }, '/var': { device: 2, total: 100 * GIB, available: 6 * GIB } },
  });
  const { ids, status, report } = await judge(readers);
  assert.deepEqual(ids.get('ssh-root-login'), ['critical'], 'root with a password');
  assert.deepEqual(ids.get('ssh-password-auth'), ['high']);
  assert.deepEqual(ids.get('ssh-port-22'), ['low']);
  assert.deepEqual(ids.get('ssh-no-allow-list'), ['low']);
  assert.deepEqual(ids.get('ssh-match-loosens'), ['critical'], 'Match User backup: PermitEmptyPasswords yes');
  assert.deepEqual(ids.get('security-updates-pending'), ['high']);
  assert.deepEqual(ids.get('package-lists-stale'), ['medium']);
  assert.deepEqual(ids.get('automatic-updates-off'), ['low']);
  assert.deepEqual(ids.get('firewall-missing'), ['high']);
  assert.deepEqual(ids.get('clock-not-synchronised'), ['medium']);
  assert.deepEqual(ids.get('disk-space-low'), ['high', 'medium'], '1 % of /etc and 6 % of /var');
  for (const s of Object.values(status)) assert.equal(s, 'finding');
  const updates = report.findings.find((f) => f.id === 'security-updates-pending')!;
  assert.match(updates.what, /5 package\(s\).*openssh-server/);
  assert.match(report.findings.find((f) => f.id === 'package-lists-stale')!.what, /40 days ago/);
  const fw = report.findings.find((f) => f.id === 'firewall-missing')!;
  assert.match(fw.what, /filters nothing/);
  assert.match(fw.fix, /policy drop;/);
  assert.match(fw.fix, /ip saddr \{ 198\.51\.100\.0\/24, 203\.0\.113\.10\/32 \} udp dport 5060 accept/);
  assert.match(fw.fix, /udp dport 10000-20000 accept/);
  assert.match(fw.fix, /ip saddr \{ 198\.51\.100\.0\/24 \} tcp dport 8443 accept/);
  assert.doesNotMatch(fw.fix, /5070/, 'a loopback listener needs no rule');
  const disk = report.findings.find((f) => f.severity === 'high' && f.id === 'disk-space-low')!;
  assert.match(disk.what, /voicemail spool \(\/etc\/palisade\/var\/voicemail\)/);
  assert.ok(report.findings.every((f) => f.fix.length > 10));
  assert.match(formatReport(report), /\[CRITICAL\] ssh-root-login: root may log in over SSH with a password/);
});

test('a firewall that filters, but lets SIP in from everywhere, drops half the RTP range and opens the admin port', async () => {
  const readers = fixtureHost('good', {
    mtimes: listTimes('good', NOW - DAY),
    disks: { '/etc': roomy, '/var': roomy },
    commands: { 'nft -j list ruleset': { code: 0, stdout: readFileSync(join(FIX, 'nft', 'open.json'), 'utf8'), stderr: '' } },
  });
  const { ids, report } = await judge(readers);
  assert.deepEqual(ids.get('firewall-sip-open'), ['medium', 'medium'], 'udp 5060 and tcp 5061 while security.acl.permit names trusted networks');
  assert.deepEqual(ids.get('firewall-blocks-listener'), ['medium']);
  assert.match(report.findings.find((f) => f.id === 'firewall-blocks-listener')!.what, /RTP ports 15001-20000/);
  assert.deepEqual(ids.get('firewall-http-open'), ['medium']);
  assert.match(
    report.findings.find((f) => f.id === 'firewall-sip-open')!.fix,
    /^nft add rule inet filter input ip saddr \{ 198\.51\.100\.0\/24, 203\.0\.113\.10\/32 \} udp dport 5060 accept/,
  );
  // without a trusted list, SIP open to all is only noted
  const { ids: noAcl } = await judge(readers, { ...RAW, security: {} });
  assert.deepEqual(noAcl.get('firewall-sip-open'), ['low', 'low']);
});

test('a prepared good host yields no finding and every host check passes', async () => {
  const readers = fixtureHost('good', { mtimes: listTimes('good', NOW - DAY), disks: { '/etc': roomy, '/var': { ...roomy, device: 2 } } });
  const { report, status } = await judge(readers);
  assert.deepEqual(report.findings, []);
  assert.deepEqual(report.unchecked, []);
  assert.deepEqual(status, { 'host-ssh': 'pass', 'host-updates': 'pass', 'host-firewall': 'pass', 'host-clock': 'pass', 'host-disk': 'pass' });
  // the same host through iptables-save (no nft) passes too
  const ipt = fixtureHost('good', {
    mtimes: listTimes('good', NOW - DAY),
    disks: { '/etc': roomy, '/var': roomy },
    commands: { 'nft -j list ruleset': null, 'iptables-save': { code: 0, stdout: readFileSync(join(FIX, 'iptables-save.txt'), 'utf8'), stderr: '' } },
  });
  assert.deepEqual((await judge(ipt)).report.findings, []);
  // root with a key only is worth knowing, and costs nothing
  const keyOnly = fixtureHost('good', {
    mtimes: listTimes('good', NOW - DAY),
    disks: { '/etc': roomy, '/var': roomy },
    commands: {
      'sshd -T': { code: 0, stdout: readFileSync(join(FIX, 'good', 'out', 'sshd-T.txt'), 'utf8').replace('permitrootlogin no', 'permitrootlogin without-password'), stderr: '' },
    },
  });
  const k = await judge(keyOnly);
  assert.deepEqual(k.ids.get('ssh-root-login'), ['info']);
  assert.equal(k.report.score, 100);
});

test('missing tools and unreadable sources are "unknown" or "not installed", never passed', async () => {
  // a bare root: no programs, no files
  const bare = fixtureHost('nothing-here');
  const { report, status } = await judge(bare);
  assert.deepEqual(status, { 'host-ssh': 'not-installed', 'host-updates': 'unknown', 'host-firewall': 'unknown', 'host-clock': 'unknown', 'host-disk': 'unknown' });
  assert.deepEqual(report.passed, []);
  assert.deepEqual(report.findings, []);
  const why = Object.fromEntries(report.unchecked.map((u) => [u.id, u.why]));
  assert.match(why['host-ssh']!, /sshd is not installed/);
  assert.match(why['host-updates']!, /apt-get is not installed/);
  assert.match(why['host-firewall']!, /neither nft nor iptables-save/);
  assert.match(why['host-clock']!, /none of timedatectl, chronyc or ntpstat/);
  assert.match(formatReport(report), /\[UNKNOWN\] host-firewall: cannot be read: neither nft/);
  assert.match(formatReport(report), /\[NOT INSTALLED\] host-ssh: /);

  // installed, but not readable by this user
  const denied = fixtureHost('good', {
    mtimes: listTimes('good', NOW - DAY),
    disks: { '/etc': roomy },
    commands: {
      'sshd -T': { code: 1, stdout: '', stderr: 'sshd: no hostkeys available -- exiting.\n' },
      'nft -j list ruleset': { code: 1, stdout: '', stderr: 'Operation not permitted (you must be root)\n' },
      'iptables-save': null,
      'apt-get -s -o Debug::NoLocking=1 dist-upgrade': {
        code: 100,
        stdout: '',
        stderr: 'E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n',
      },
      'chronyc -n tracking': { code: 1, stdout: '', stderr: '506 Cannot talk to daemon\n' },
    },
  });
  const readFile = denied.readFile;
  denied.readFile = (p) => (p === '/etc/ssh/sshd_config' ? Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES', path: p })) : readFile(p));
  const d = await judge(denied);
  assert.equal(d.status['host-ssh'], 'unknown');
  assert.equal(d.status['host-firewall'], 'unknown');
  assert.equal(d.status['host-updates'], 'unknown');
  assert.equal(d.status['host-clock'], 'unknown');
  assert.equal(d.status['host-disk'], 'unknown', '/var cannot be measured; /etc can');
  const u = Object.fromEntries(d.report.unchecked.map((x) => [x.id, x]));
  assert.match(u['host-ssh']!.why, /sshd -T exited with 1: sshd: no hostkeys.*permission denied \(\/etc\/ssh\/sshd_config\)/);
  assert.match(u['host-firewall']!.why, /Operation not permitted/);
  assert.match(u['host-firewall']!.fix, /as root/);
  assert.match(u['host-updates']!.why, /Permission denied/);
  assert.match(u['host-clock']!.why, /Cannot talk to daemon/);
  assert.deepEqual(d.report.passed, []);
});

test('this machine, read-only: every host check ends as pass, finding, unknown or not installed, and never throws', { timeout: 120_000 }, async () => {
  const facts = await gatherHostFacts({ sip: { listen: ['udp:0.0.0.0:5060'] } }, '/tmp', systemHostReaders());
  const r = runAudit(
    {
      configPath: '/tmp/p.yaml',
      raw: { sip: { listen: ['udp:0.0.0.0:5060'] } },
      configIssues: [],
      files: [],
      mailboxes: [],
      tlsCertPem: null,
      live: null,
      now: Date.now(),
      host: facts,
    },
    HOST_CHECKS,
  );
  assert.equal(r.host?.length, HOST_CHECKS.length);
  for (const h of r.host!) assert.ok(['pass', 'finding', 'unknown', 'not-installed'].includes(h.status), `${h.id}: ${h.status}`);
  assert.ok(!r.findings.some((f) => /failed:/.test(f.what)), JSON.stringify(r.findings));
  // a check that could not judge says why, and is not among the passed
  for (const u of r.unchecked) {
    assert.ok(u.why.length > 5 && u.fix.length > 5, u.id);
    assert.ok(!r.passed.includes(u.id), u.id);
  }
  // statfs of the real disks (the host's /tmp and /var/log are always there)
  assert.ok(
    facts.disks.every((d) => d.result.state === 'read'),
    JSON.stringify(facts.disks),
  );
  // a source that is there but cannot be read (a directory given as sshd_config) is reported as such
  const sys = systemHostReaders();
  const ssh = await gatherSsh({ ...sys, exec: async () => null, readFile: (p) => sys.readFile(p === '/etc/ssh/sshd_config' ? '/etc' : p) });
  assert.equal(ssh.state, 'unreadable');
  assert.match((ssh as { why: string }).why, /EISDIR|illegal operation on a directory/);
});
