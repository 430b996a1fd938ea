// Call queues with real SIP phones: SIPp agents (registered extensions whose
// contact is a SIPp UAS that answers, or one that only rings) and SIPp
// callers dialling Queue() through a real `palisade start` with
// queues: { file: queues.conf }. Who got each call is read from both sides:
// the order from Palisade's queue_log (CONNECT lines), the counts from each
// agent's own SIPp statistics. The queue_log file is checked field by field
// against Asterisk's format (main/logger.c ast_queue_log and the
// ast_queue_log() calls of apps/app_queue.c), and the queue_log table
// against the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, repoRoot, runSipp, startSipp, type SippProcess, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';

const QUEUES_CONF = `; the queues of this test, in Asterisk's syntax
[general]
persistentmembers = no

[base](!)
timeout = 2
retry = 1
wrapuptime = 0

[q-rr](base)
strategy = rrmemory
member => PJSIP/1001
member => PJSIP/1002
member => SIP/1003

[q-linear](base)
strategy = linear
member => PJSIP/1004      ; only rings
member => PJSIP/1002

[q-ringall](base)
strategy = ringall
member => PJSIP/1004
member => PJSIP/1001

[q-least](base)
strategy = leastrecent
member => PJSIP/1001
member => PJSIP/1002
member => PJSIP/1003

[q-fewest](base)
strategy = fewestcalls
member => PJSIP/1001
member => PJSIP/1002

[q-random](base)
strategy = random
member => PJSIP/1001
member => PJSIP/1002

[q-wrandom](base)
strategy = wrandom
member => PJSIP/1001,0
member => PJSIP/1002,9

[q-wrap](base)
strategy = ringall
wrapuptime = 3
member => PJSIP/1003

[q-never](base)
member => PJSIP/1004
`;

const EXTENSIONS_CONF = `[default]
exten => 501,1,Queue(q-rr)
exten => 502,1,Queue(q-linear)
exten => 503,1,Queue(q-ringall)
exten => 504,1,Queue(q-least)
exten => 505,1,Queue(q-fewest)
exten => 506,1,Queue(q-random)
exten => 507,1,Queue(q-wrandom)
exten => 508,1,Queue(q-wrap)
exten => 509,1,Queue(q-never,,,,3)
 same => n,NoOp(\${QUEUESTATUS})
 same => n,Hangup()
exten => 510,1,Queue(q-never)
`;

interface LogLine {
  epoch: number;
  callid: string;
  queue: string;
  agent: string;
  event: string;
  data: string[];
}

/** Asterisk's data fields per event (apps/app_queue.c): their count and what each holds */
const FORMAT: Record<string, RegExp[]> = {
  QUEUESTART: [/^$/],
  ENTERQUEUE: [/^$/, /^15\d\d$/, /^\d+$/], // url|callerid|position
  CONNECT: [/^\d+$/, /^\d+\.q\d+$/, /^\d+$/], // holdtime|bridged uniqueid|ringtime
  COMPLETECALLER: [/^\d+$/, /^\d+$/, /^\d+$/], // holdtime|calltime|origposition
  COMPLETEAGENT: [/^\d+$/, /^\d+$/, /^\d+$/],
  RINGNOANSWER: [/^\d+$/], // ring time in ms
  RINGCANCELED: [/^\d+$/],
  ABANDON: [/^\d+$/, /^\d+$/, /^\d+$/], // position|origposition|waittime
  EXITWITHTIMEOUT: [/^\d+$/, /^\d+$/, /^\d+$/],
  PAUSE: [/^.*$/], // reason
  UNPAUSE: [/^.*$/],
};

describe('queues with SIPp agents and callers', () => {
  let pal: PalisadeProcess;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-queues-'));
  const agents = makeUsers(4, { first: 1001 });
  const callers = makeUsers(10, { first: 1500 });
  const agentSipp = new Map<string, SippProcess>();
  const logFile = join(dir, 'queue_log');
  const t0 = Math.floor(Date.now() / 1000);
  let sock: string;

  const lines = (): LogLine[] =>
    readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const f = l.split('|');
        return { epoch: Number(f[0]), callid: f[1]!, queue: f[2]!, agent: f[3]!, event: f[4]!, data: f.slice(5) };
      });
  /** the log once `ready` holds: a call's last line (COMPLETECALLER) is
   *  written as its bridge ends, which may be just after SIPp saw its BYE answered */
  const linesWhen = async (ready: (all: LogLine[]) => boolean, ms = 5000): Promise<LogLine[]> => {
    const until = Date.now() + ms;
    for (;;) {
      const all = lines();
      if (ready(all) || Date.now() > until) return all;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const connects = (queue: string): string[] =>
    lines()
      .filter((l) => l.queue === queue && l.event === 'CONNECT')
      .map((l) => l.agent);

  const callersCsv = (users: TestUser[]) => {
    const p = join(dir, `callers-${nextCaller}-${users.length}.csv`);
    writeFileSync(p, sippCsv(users));
    return p;
  };

  /** n calls, one a second, each talking for talkMs, to a queue's extension */
  let nextCaller = 0;
  /** n calls, `rate` a second, each staying talkMs after Queue() answered (waiting, then talking), from callers taken in turn */
  const callQueue = (exten: string, n: number, talkMs: number, scenario = 'call-auth-uac', rate = 1): Promise<SippResult> => {
    const users = Array.from({ length: n }, () => callers[nextCaller++ % callers.length]!);
    return runSipp({
      scenario,
      target: pal.target,
      inf: [callersCsv(users)],
      service: exten,
      calls: n,
      rate,
      pauseMs: talkMs,
      timeoutS: 30 + n * 3 + Math.ceil(talkMs / 1000),
      dir,
    });
  };

  const assertCallers = (r: SippResult, n: number, what: string) => {
    assert.equal(r.stats?.successful, n, `${what}: ${n} calls should succeed; ${JSON.stringify(r.stats)}\n${r.errors.slice(-1500)}`);
    assert.equal(r.stats?.failed, 0, `${what}: failed calls\n${r.errors.slice(-1500)}`);
  };

  before(async () => {
    writeFileSync(join(dir, 'queues.conf'), QUEUES_CONF);
    writeFileSync(join(dir, 'extensions.conf'), EXTENSIONS_CONF);
    pal = await startPalisade({
      users: [...agents, ...callers],
      extraYaml: [
        'registrar:',
        '  qualify_interval: 0', // SIPp's UAS scenarios would abort on an OPTIONS
        'dialplan:',
        `  file: ${join(dir, 'extensions.conf')}`,
        'queues:',
        `  file: ${join(dir, 'queues.conf')}`,
        `  log_file: ${logFile}`,
        'fraud:', // every caller places many test calls
        '  defaults: { calls_per_minute: 100 }',
      ].join('\n'),
    });
    sock = join(pal.dir, 'control.sock');
    const ports = await freeLocalPorts(4);
    for (const [i, a] of agents.entries()) {
      const port = ports[i]!;
      const scenario = a.number === '1004' ? 'uas-ring-no-answer' : 'uas-answer';
      agentSipp.set(a.number, await startSipp({ scenario, target: '127.0.0.1', port, timeoutS: 600, dir }));
      const csv = join(dir, `agent-${a.number}.csv`);
      writeFileSync(csv, sippCsv([a]));
      const r = await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        inf: [csv],
        set: { contact: `127.0.0.1:${port}`, expires: '600' },
        calls: 1,
        rate: 10,
        timeoutS: 20,
        dir,
      });
      assert.equal(r.stats?.successful, 1, `agent ${a.number} registered`);
    }
    await pal.waitForEvent((e) => e.event === 'queues-started', 5000);
  });

  after(async () => {
    for (const s of agentSipp.values()) await s.stop();
    await pal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('rrmemory: each call goes to the next member after the one who took the last', { timeout: 60_000 }, async () => {
    assertCallers(await callQueue('501', 4, 300), 4, 'q-rr');
    assert.deepEqual(connects('q-rr'), ['PJSIP/1001', 'PJSIP/1002', 'SIP/1003', 'PJSIP/1001']);
  });

  test('linear: the first member rings for `timeout`, then the next; every caller starts at the top', { timeout: 60_000 }, async () => {
    // each caller waits about 3 s (1004 rings 2 s, then the retry pause), then talks
    assertCallers(await callQueue('502', 2, 6000, 'call-auth-uac', 0.12), 2, 'q-linear');
    assert.deepEqual(connects('q-linear'), ['PJSIP/1002', 'PJSIP/1002']);
    const completed = (l: LogLine) => l.queue === 'q-linear' && l.event.startsWith('COMPLETE');
    const q = (await linesWhen((all) => all.filter(completed).length >= 2)).filter((l) => l.queue === 'q-linear' && l.agent !== 'NONE');
    assert.deepEqual(
      q.map((l) => `${l.agent} ${l.event}`),
      ['PJSIP/1004 RINGNOANSWER', 'PJSIP/1002 CONNECT', 'PJSIP/1002 COMPLETECALLER', 'PJSIP/1004 RINGNOANSWER', 'PJSIP/1002 CONNECT', 'PJSIP/1002 COMPLETECALLER'],
    );
    for (const l of q.filter((x) => x.event === 'RINGNOANSWER')) assert.ok(Number(l.data[0]) >= 1900 && Number(l.data[0]) < 4000, `rang ${l.data[0]} ms (timeout = 2)`);
    // CONNECT's holdtime: the 2 s of the first member plus the retry pause of 1 s at most
    for (const l of q.filter((x) => x.event === 'CONNECT')) assert.ok(Number(l.data[0]) >= 2 && Number(l.data[0]) <= 4, `held ${l.data[0]} s`);
  });

  test('ringall: every member rings at once; the one who answers gets the call, the other is cancelled', { timeout: 60_000 }, async () => {
    assertCallers(await callQueue('503', 2, 300), 2, 'q-ringall');
    assert.deepEqual(connects('q-ringall'), ['PJSIP/1001', 'PJSIP/1001']);
    assert.equal(lines().filter((l) => l.queue === 'q-ringall' && l.event === 'RINGNOANSWER').length, 0, 'nobody timed out: 1001 answered at once');
  });

  test('leastrecent and fewestcalls pick the member idle longest / with fewest calls', { timeout: 60_000 }, async () => {
    // by now 1001 took the last call (q-ringall), 1002 one before (q-linear), 1003 earlier (q-rr)
    assertCallers(await callQueue('504', 3, 300), 3, 'q-least');
    assert.deepEqual(connects('q-least'), ['PJSIP/1003', 'PJSIP/1002', 'PJSIP/1001']);
    // fewestcalls counts calls in its own queue: 0/0 → 1001, then 1002, then 1001
    assertCallers(await callQueue('505', 3, 300), 3, 'q-fewest');
    assert.deepEqual(connects('q-fewest'), ['PJSIP/1001', 'PJSIP/1002', 'PJSIP/1001']);
  });

  test('random and wrandom ring members of the queue only; wrandom favours the low penalty', { timeout: 120_000 }, async () => {
    // One SIPp run per call, so that no call overlaps the one before: SIPp
    // catches up on its rate after a stall, and a member still on a call is not
    // free, which would skew the draw rather than test it.
    const oneByOne = async (exten: string, n: number, what: string) => {
      for (let i = 0; i < n; i++) assertCallers(await callQueue(exten, 1, 200), 1, `${what} call ${i + 1}`);
    };
    await oneByOne('506', 10, 'q-random');
    const r = connects('q-random');
    assert.equal(r.length, 10);
    assert.ok(
      r.every((a) => a === 'PJSIP/1001' || a === 'PJSIP/1002'),
      r.join(),
    );
    // all ten to one member: probability 2/1024
    assert.equal(new Set(r).size, 2, `ten random picks all went to one member: ${r.join()}`);
    await oneByOne('507', 10, 'q-wrandom');
    const w = connects('q-wrandom');
    assert.equal(w.length, 10);
    // penalty 9 wins a draw with probability 1/20; four or more of ten: about 1/1000
    assert.ok(w.filter((a) => a === 'PJSIP/1001').length >= 7, w.join());
  });

  test('pause (palisade queue pause, with a reason) keeps a member from being rung until unpaused', { timeout: 60_000 }, async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'queue', ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 20_000 });
    const p = cli('pause', 'PJSIP/1001', '--queue', 'q-ringall', '--reason', 'lunch');
    assert.equal(p.status, 0, p.stderr);
    const shown = (await controlRequest(sock, 'queue-show', { queue: 'q-ringall' })) as Array<{ members: Array<{ interface: string; status: string; reason: string }> }>;
    assert.deepEqual(
      shown[0]!.members.map((m) => [m.interface, m.status, m.reason]),
      [
        ['PJSIP/1004', 'free', ''],
        ['PJSIP/1001', 'paused', 'lunch'],
      ],
    );
    const before1004 = lines().filter((l) => l.queue === 'q-ringall' && l.event === 'RINGNOANSWER').length;
    // only 1004 (which never answers) is left: the caller waits, rung round after round, and gives up after 4 s
    assertCallers(await callQueue('503', 1, 4000), 1, 'paused');
    const after = lines().filter((l) => l.queue === 'q-ringall');
    assert.equal(connects('q-ringall').length, 2, 'no call reached the paused member');
    assert.ok(after.filter((l) => l.event === 'RINGNOANSWER').length > before1004, 'the free member was rung meanwhile');
    assert.equal(cli('unpause', 'PJSIP/1001', '--queue', 'q-ringall').status, 0);
    assertCallers(await callQueue('503', 1, 300), 1, 'unpaused');
    assert.equal(connects('q-ringall').at(-1), 'PJSIP/1001');
    const pauses = lines().filter((l) => l.event === 'PAUSE' || l.event === 'UNPAUSE');
    assert.deepEqual(
      pauses.map((l) => [l.queue, l.callid, l.agent, l.event, l.data.join('|')]),
      [
        ['q-ringall', 'NONE', 'PJSIP/1001', 'PAUSE', 'lunch'],
        ['q-ringall', 'NONE', 'PJSIP/1001', 'UNPAUSE', ''],
      ],
    );
  });

  test('wrap-up: the next caller reaches a member only wrapuptime after its last call', { timeout: 60_000 }, async () => {
    // two callers 200 ms apart; the first talks 500 ms, so the second waits for the end of that call + 3 s
    const first = callQueue('508', 1, 500);
    await new Promise((r) => setTimeout(r, 200));
    const second = callQueue('508', 1, 6000);
    assertCallers(await first, 1, 'q-wrap first');
    assertCallers(await second, 1, 'q-wrap second');
    const c = lines().filter((l) => l.queue === 'q-wrap' && l.event === 'CONNECT');
    assert.equal(c.length, 2);
    const held = Number(c[1]!.data[0]);
    assert.ok(held >= 3 && held <= 5, `the second caller waited ${held} s`);
  });

  test('a caller who hangs up while waiting is an ABANDON; Queue() timeout is EXITWITHTIMEOUT and the dialplan goes on', { timeout: 60_000 }, async () => {
    assertCallers(await callQueue('510', 1, 1500), 1, 'abandon');
    // the ABANDON and RINGCANCELED lines are written as the caller's CANCEL is handled: maybe just after SIPp saw its 487
    const abandoned = (all: LogLine[]) => all.some((l) => l.queue === 'q-never' && l.event === 'RINGCANCELED') && all.some((l) => l.queue === 'q-never' && l.event === 'ABANDON');
    const ab = (await linesWhen(abandoned)).filter((l) => l.queue === 'q-never' && l.event === 'ABANDON');
    assert.equal(ab.length, 1);
    assert.deepEqual(ab[0]!.data.slice(0, 2), ['1', '1']);
    assert.ok(['1', '2'].includes(ab[0]!.data[2]!), `waited ${ab[0]!.data[2]} s`);
    assert.equal(lines().filter((l) => l.queue === 'q-never' && l.event === 'RINGCANCELED').length, 1, 'the ringing member was cancelled');
    // Queue(q-never,,,,3): out after 3 s, then Hangup(): the caller gets our BYE
    assertCallers(await callQueue('509', 1, 0, 'call-callee-bye-uac'), 1, 'timeout');
    const ex = (await linesWhen((all) => all.some((l) => l.queue === 'q-never' && l.event === 'EXITWITHTIMEOUT'))).filter(
      (l) => l.queue === 'q-never' && l.event === 'EXITWITHTIMEOUT',
    );
    assert.equal(ex.length, 1);
    assert.deepEqual(ex[0]!.data.slice(0, 2), ['1', '1']);
    assert.ok(['3', '4'].includes(ex[0]!.data[2]!), `left after ${ex[0]!.data[2]} s (Queue timeout 3)`);
  });

  test('queue_log: every line in Asterisk format, field by field; the queue_log table holds the same; agents saw the calls the log says', { timeout: 60_000 }, async () => {
    const all = lines();
    const now = Math.floor(Date.now() / 1000);
    for (const l of all) {
      assert.ok(l.epoch >= t0 - 1 && l.epoch <= now + 1, `epoch ${l.epoch}`);
      const fmt = FORMAT[l.event];
      assert.ok(fmt, `unexpected event ${l.event}`);
      assert.equal(l.data.length, fmt.length, `${l.event} has ${fmt.length} data fields: ${JSON.stringify(l)}`);
      for (const [i, re] of fmt.entries()) assert.match(l.data[i]!, re, `${l.event} field ${i + 1}`);
      if (l.event === 'QUEUESTART') assert.deepEqual([l.callid, l.queue, l.agent], ['NONE', 'NONE', 'NONE']);
      else if (['ENTERQUEUE', 'ABANDON', 'EXITWITHTIMEOUT'].includes(l.event)) assert.equal(l.agent, 'NONE');
      else if (!['PAUSE', 'UNPAUSE'].includes(l.event)) {
        assert.match(l.agent, /^(PJSIP|SIP)\/100\d$/);
        assert.match(l.callid, /^\d+\.c\d+$/, 'the caller channel uniqueid');
      }
    }
    // each call's story: ENTERQUEUE first, then CONNECT then COMPLETE*, or an exit
    const byCall = new Map<string, string[]>();
    for (const l of all.filter((x) => /^\d+\.c\d+$/.test(x.callid))) byCall.set(l.callid, [...(byCall.get(l.callid) ?? []), l.event]);
    for (const [id, ev] of byCall) {
      assert.equal(ev[0], 'ENTERQUEUE', id);
      const done = ev.filter((e) => /^(COMPLETECALLER|COMPLETEAGENT|ABANDON|EXITWITHTIMEOUT)$/.test(e));
      assert.equal(done.length, 1, `${id}: ${ev.join(',')}`);
      if (done[0]!.startsWith('COMPLETE')) assert.equal(ev[ev.indexOf(done[0]!) - 1], 'CONNECT', `${id}: ${ev.join(',')}`);
    }
    // the table: the same rows, in order
    const stats = (await controlRequest(sock, 'queue-stats', { day: 'today' }, 10_000)) as Array<{
      queue: string;
      answered: number;
      abandoned: number;
      timeouts: number;
      agents: Array<{ agent: string; calls: number }>;
    }>;
    const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT epoch, callid, queuename, agent, event, data1, data2, data3 FROM queue_log ORDER BY seq').all() as Array<Record<string, string | number>>;
      assert.equal(rows.length, all.length);
      rows.forEach((r, i) => {
        const l = all[i]!;
        assert.deepEqual(
          [Number(r.epoch), r.callid, r.queuename, r.agent, r.event, r.data1, r.data2, r.data3],
          [l.epoch, l.callid, l.queue, l.agent, l.event, l.data[0] ?? '', l.data[1] ?? '', l.data[2] ?? ''],
        );
      });
    } finally {
      db.close();
    }
    const rr = stats.find((s) => s.queue === 'q-rr')!;
    assert.equal(rr.answered, 4);
    assert.deepEqual(
      rr.agents.map((a) => [a.agent, a.calls]),
      [
        ['PJSIP/1001', 2],
        ['PJSIP/1002', 1],
        ['SIP/1003', 1],
      ],
    );
    assert.equal(stats.find((s) => s.queue === 'q-never')!.abandoned, 1);
    // the operator's view: palisade show queues [QUEUE]
    const show = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'show', 'queues', 'q-rr', '--config', pal.configPath], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /^answered: 4$/m);
    assert.match(show.stdout, /PJSIP\/1001 .*free/);
    const rows = (await controlRequest(sock, 'show-queues')) as Array<{ queue: string; members: number; answered: number }>;
    assert.deepEqual(
      rows.filter((r) => r.queue === 'q-rr').map((r) => [r.members, r.answered]),
      [[3, 4]],
    );
    assert.equal(stats.find((s) => s.queue === 'q-never')!.timeouts, 1);
    // the agents' own count of answered calls matches the CONNECT lines naming them
    const res = new Map<string, SippResult>();
    for (const [n, s] of agentSipp) res.set(n, await s.stop());
    agentSipp.clear();
    for (const n of ['1001', '1002', '1003']) {
      const c = all.filter((l) => l.event === 'CONNECT' && l.agent.endsWith(`/${n}`)).length;
      assert.equal(res.get(n)!.stats?.successful, c, `agent ${n}: SIPp answered ${res.get(n)!.stats?.successful}, queue_log says ${c}`);
    }
    const rung1004 = all.filter((l) => l.agent === 'PJSIP/1004' && (l.event === 'RINGNOANSWER' || l.event === 'RINGCANCELED')).length;
    assert.ok((res.get('1004')!.stats?.created ?? 0) >= rung1004, `1004 saw ${res.get('1004')!.stats?.created} INVITEs, the log ${rung1004} rings`);
  });
});
