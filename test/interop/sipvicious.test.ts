// sipvicious against a running Palisade (docs/architecture.md, Security rules; issue 4 proof), inside a
// loopback-only network namespace (sipvicious puts outside addresses in its
// requests):
// - svwar with REGISTER, INVITE and OPTIONS finds no extension while 1000-1002
//   exist (scanner user agents only logged here, so the answers themselves
//   are what hides the extensions);
// - svcrack with a 20-word list holding the right password at place 12 is
//   banned after 5 failures, before it reaches it, and gets no further answer;
// - svmap's address is banned at once by its user agent (default config);
// - `palisade bans list|add|remove` over the control socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsSuite } from '../helpers/netns.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers } from '../helpers/users.js';
import { palisadeStatus } from '../helpers/sip-probe.js';
import { repoRoot } from '../helpers/paths.js';

const users = makeUsers(3, { first: 1000 });

function run(cmd: string, args: string[], timeoutMs = 60_000): { out: string; status: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { out: `${r.stdout}\n${r.stderr}`, status: r.status };
}

function cli(pal: PalisadeProcess, args: string[]): { out: string; status: number | null } {
  return run(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', pal.configPath], 15_000);
}

function seclog(pal: PalisadeProcess): string[] {
  try {
    return readFileSync(join(pal.dir, 'var', 'security.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('res_security_log.c'));
  } catch {
    return [];
  }
}

/** the extensions svwar reports in its result table (lines like "| 1000 | reqauth |") */
function foundExtensions(out: string): string[] {
  return [...out.matchAll(/^\|\s*(\d+)\s*\|\s*(\w+)/gm)].map((m) => `${m[1]} ${m[2]}`);
}

/**
 * svwar and svcrack ignore their -b option (sipvicious 0.3.3 never passes it
 * on), so the test picks their source address the kernel's way instead: the
 * preferred source of the namespace's local route to 127.0.0.1. Palisade's
 * own sockets are bound to 127.0.0.1 and are not affected.
 */
function sourceAddress(addr: string): void {
  const r = spawnSync('ip', ['route', 'replace', 'local', '127.0.0.1', 'dev', 'lo', 'src', addr, 'table', 'local'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

netnsSuite(import.meta.url, 'sipvicious against Palisade', () => {
  let pal: PalisadeProcess;
  let crack: PalisadeProcess;
  let strict: PalisadeProcess;
  before(async () => {
    crack = await startPalisade({
      users,
      transports: ['udp'],
      // the user-agent rule off: the failure-count rule alone must stop the guessing;
      // successful logins logged too, to prove none happened
      extraYaml: ['security:', '  log: { min_level: 0 }', '  ids:', '    scanners: { action: log }'].join('\n'),
    });
    strict = await startPalisade({ users, transports: ['udp'] });
    pal = await startPalisade({
      users,
      transports: ['udp'],
      // scanners only logged and failures tolerated: the answers alone must hide the extensions
      extraYaml: ['security:', '  log: { min_level: 0 }', '  ids:', '    scanners: { action: log }', '    auth_failures: { threshold: 10000 }'].join('\n'),
    });
  });
  after(async () => {
    await pal?.stop();
    await crack?.stop();
    await strict?.stop();
    sourceAddress('127.0.0.1');
  });

  for (const method of ['REGISTER', 'INVITE', 'OPTIONS']) {
    test(`svwar -m ${method} finds no extension among 990-1010 (1000-1002 exist), with and without --force`, () => {
      for (const force of [[], ['--force']]) {
        const before = seclog(pal).length;
        sourceAddress('127.0.0.2');
        const r = run('svwar', ['-m', method, '-e', '990-1010', '-p', String(pal.sipPort), ...force, '127.0.0.1'], 120_000);
        assert.deepEqual(foundExtensions(r.out), [], `svwar found extensions:\n${r.out}`);
        assert.match(r.out, /found nothing|authentication request for an unknown extension/, r.out);
        // it did get answers, challenges for extensions that do not exist: nothing to tell them apart
        const lines = seclog(pal)
          .slice(before)
          .filter((l) => l.includes('/127.0.0.2/'));
        assert.ok(
          lines.some((l) => l.includes('SecurityEvent="ChallengeSent"')),
          `Palisade answered svwar:\n${r.out}`,
        );
        assert.ok(
          lines.some((l) => l.includes('SecurityEvent="ScannerDetected"')),
          'the scanner was noticed',
        );
      }
    });
  }

  test('svcrack with 20 passwords (the right one 12th) is banned after 5 failures and gets no further answer', () => {
    const words = Array.from({ length: 20 }, (_, i) => `guess-${i}-Xy9`);
    words[11] = users[0]!.secret;
    const pal = crack;
    const dict = join(pal.dir, 'words.txt');
    sourceAddress('127.0.0.3');
    writeFileSync(dict, words.join('\n') + '\n');
    const r = run('svcrack', ['-u', users[0]!.number, '-d', dict, '-p', String(pal.sipPort), '-b', '127.0.0.3', '127.0.0.1'], 120_000);
    assert.ok(!r.out.includes(users[0]!.secret), `svcrack found the password:\n${r.out}\nsecurity log:\n${seclog(pal).join('\n')}`);
    const lines = seclog(pal).filter((l) => l.includes('/127.0.0.3/'));
    const banAt = lines.findIndex((l) => l.includes('SecurityEvent="Ban"'));
    assert.ok(banAt >= 0, `127.0.0.3 was banned:\n${lines.join('\n')}`);
    const failures = lines.slice(0, banAt).filter((l) => /SecurityEvent="(InvalidPassword|InvalidAccountID)"/.test(l)).length;
    assert.equal(failures, 5, 'banned on the 5th failure');
    assert.ok(!lines.some((l) => l.includes('SuccessfulAuth')), 'the right password never got through');
    // nothing from it was even parsed after the ban
    assert.deepEqual(
      lines.slice(banAt + 1).filter((l) => !l.includes('SecurityEvent="Ban"')),
      [],
    );
    const st = palisadeStatus(pal.configPath) as { packets: { gated: number } };
    assert.ok(st.packets.gated > 0, 'later packets were dropped at the gate');
    const list = cli(pal, ['bans', 'list']);
    assert.equal(list.status, 0, list.out);
    assert.match(list.out, /127\.0\.0\.3\s+\d+\s+1\s+false/);
  });

  test("svmap's address is banned (default config: scanner user agent)", () => {
    sourceAddress('127.0.0.4');
    const r = run('svmap', ['-p', String(strict.sipPort), '-b', '127.0.0.4', '127.0.0.1'], 60_000);
    const list = cli(strict, ['bans', 'list']);
    assert.match(list.out, /127\.0\.0\.4 /, `svmap's address is banned:\n${list.out}\nsvmap:\n${r.out}`);
    assert.ok(seclog(strict).some((l) => l.includes('SecurityEvent="ScannerDetected"') && l.includes('/127.0.0.4/')));
  });

  test('palisade bans add / list / remove', () => {
    const add = cli(strict, ['bans', 'add', '127.0.0.9', '--for', '1h', '--reason', 'test']);
    assert.equal(add.status, 0, add.out);
    assert.match(add.out, /banned 127\.0\.0\.9 for 3600 s/);
    assert.match(cli(strict, ['bans', 'list']).out, /127\.0\.0\.9\s+3\d{3}\s+\d+\s+true/);
    const trusted = cli(strict, ['bans', 'add', '127.0.0.1']);
    assert.notEqual(trusted.status, 0, 'the trusted host cannot be banned');
    const rm = cli(strict, ['bans', 'remove', '127.0.0.9']);
    assert.equal(rm.status, 0, rm.out);
    assert.ok(!cli(strict, ['bans', 'list']).out.includes('127.0.0.9'));
    assert.notEqual(cli(strict, ['bans', 'remove', '127.0.0.9']).status, 0, 'removing a ban that is not there is an error');
  });
});
