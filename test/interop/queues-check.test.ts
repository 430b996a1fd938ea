// `palisade check` reads queues.conf through the queues module's section
// and reports its errors with queues.conf's own file:line:col, alongside the
// YAML's, before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/sipp.js';

const check = (dir: string) =>
  spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'check', '--config', join(dir, 'palisade.yaml')], { cwd: dir, encoding: 'utf8', timeout: 30_000 });

function site(queues: string, extraQueuesYaml = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'queues-check-'));
  writeFileSync(join(dir, 'queues.conf'), queues);
  writeFileSync(join(dir, 'extensions.conf'), '[default]\nexten => 500,1,Queue(support)\n same => n,AddQueueMember(support)\n');
  writeFileSync(
    join(dir, 'palisade.yaml'),
    [
      'sip:',
      '  listen: [udp:127.0.0.1:5099]',
      '  domain: 127.0.0.1',
      'storage:',
      '  driver: sqlite',
      '  path: palisade.db',
      'dialplan:',
      '  file: extensions.conf',
      'queues:',
      '  file: queues.conf',
      extraQueuesYaml,
      '',
    ].join('\n'),
  );
  return dir;
}

test('palisade check accepts a good queues.conf and Queue() in the dialplan', () => {
  const dir = site('[support]\nstrategy = leastrecent\nmember => PJSIP/1001\nmember => SIP/1002,1\n');
  try {
    const r = check(dir);
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('palisade check names queues.conf:line:col for its errors and palisade.yaml:line:col for a misspelled key', () => {
  const dir = site('[support]\nstrategy = roundrobin\nmember => PJSIP/1001\nmember => 1002\n', '  log_fil: x');
  try {
    const r = check(dir);
    assert.equal(r.status, 1);
    const file = join(dir, 'queues.conf');
    assert.ok(r.stderr.includes(`${file}:2:12: strategy = roundrobin: strategy "roundrobin" is unknown; expected one of ringall`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:4:11: member "1002" is not an interface; expected Tech/resource such as PJSIP/1001`), r.stderr);
    assert.match(r.stderr, /palisade\.yaml:11:3: unknown key queues\.log_fil; did you mean log_file\?/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
