// An outbound campaign of 200 contacts through a real `palisade start`,
// against SIPp callees reached through gateway routes: one that answers
// (and hangs up half a second later), one that is busy, one that rings and
// never answers. Answered parties are connected to a queue's agents (SIPp
// UAS registered as extensions). Proven from both sides:
//   - every callee's own SIPp count: the busy and unanswered contacts were
//     tried 1 + retries times, each answered contact once;
//   - the do-not-call numbers and the international numbers never received
//     an INVITE (SIPp's message trace), yet the campaign reached them: their
//     result rows say "dnc" and "refused:class-not-permitted:international";
//   - pacing from Palisade's log timestamps: never more calls at once than
//     max_concurrent, never more starts in a second than cps, retries no
//     sooner than their back-off;
//   - the results CSV has one complete row per contact; the queue_log has a
//     CONNECT per answered contact; an agent's disposition and form reach it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, repoRoot, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';

const ANSWER = Array.from({ length: 120 }, (_, i) => `0201${String(100000 + i)}`);
const BUSY = Array.from({ length: 40 }, (_, i) => `0202${String(100000 + i)}`);
const NOANSWER = Array.from({ length: 20 }, (_, i) => `0203${String(100000 + i)}`);
const DNC = Array.from({ length: 10 }, (_, i) => `0201${String(900000 + i)}`);
const INTL = Array.from({ length: 10 }, (_, i) => `0044207946${String(1000 + i)}`);
const RETRIES = 2;
const RETRY_DELAY_S = 1;
const MAX_CONCURRENT = 12;
const CPS = 25;

describe('an outbound campaign of 200 contacts against SIPp callees', () => {
  let pal: PalisadeProcess;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-campaign-'));
  const agents = makeUsers(2, { first: 1001 });
  const sipps: Record<'answer' | 'busy' | 'noanswer', SippProcess | null> = { answer: null, busy: null, noanswer: null };
  const agentSipp: SippProcess[] = [];
  const logFile = join(dir, 'queue_log');
  let sock: string;
  const ask = (cmd: string, args: Record<string, unknown> = {}) => controlRequest(sock, cmd, args);
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'campaign', ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 20_000 });

  before(async () => {
    writeFileSync(
      join(dir, 'queues.conf'),
      '[general]\npersistentmembers = no\n\n[sales]\nstrategy = rrmemory\ntimeout = 5\nretry = 0\nringinuse = yes\nmember => PJSIP/1001\nmember => PJSIP/1002\n',
    );
    writeFileSync(
      join(dir, 'extensions.conf'),
      '[campaigns]\nexten => sales,1,Set(X=${CAMPAIGN})\n same => n,Queue(sales)\n same => n,Hangup()\nexten => short,1,Wait(0.3)\n same => n,Hangup()\n',
    );
    pal = await startPalisade({
      users: agents,
      extraYaml: [
        'registrar:',
        '  qualify_interval: 0',
        'dialplan:',
        `  file: ${join(dir, 'extensions.conf')}`,
        'queues:',
        `  file: ${join(dir, 'queues.conf')}`,
        `  log_file: ${logFile}`,
      ].join('\n'),
    });
    sock = join(pal.dir, 'control.sock');
    const ports = await freeLocalPorts(5);
    sipps.answer = await startSipp({ scenario: 'uas-bye', target: '127.0.0.1', port: ports[0]!, pauseMs: 500, traceMsg: true, timeoutS: 600, dir });
    sipps.busy = await startSipp({ scenario: 'uas-busy', target: '127.0.0.1', port: ports[1]!, traceMsg: true, timeoutS: 600, dir });
    sipps.noanswer = await startSipp({ scenario: 'uas-ring-no-answer', target: '127.0.0.1', port: ports[2]!, traceMsg: true, timeoutS: 600, dir });
    for (const [i, a] of agents.entries()) {
      const port = ports[3 + i]!;
      agentSipp.push(await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port, timeoutS: 600, dir }));
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
    await pal.waitForEvent((e) => e.event === 'campaigns-started', 5000);
    const r = cli(
      'create',
      'spring',
      '--exten',
      'sales',
      '--context',
      'campaigns',
      '--max-concurrent',
      String(MAX_CONCURRENT),
      '--cps',
      String(CPS),
      '--retries',
      String(RETRIES),
      '--retry-delay',
      String(RETRY_DELAY_S),
      '--ring-timeout',
      '1',
      '--window',
      '00:00-00:00',
      '--permissions',
      'local,national,mobile',
      '--routes',
      `0201=127.0.0.1:${ports[0]},0202=127.0.0.1:${ports[1]},0203=127.0.0.1:${ports[2]},00=127.0.0.1:${ports[0]}`,
      '--dispositions',
      'sale,callback,not-interested',
      '--form',
      'interest:choice:high|low,notes:text,budget:number',
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  after(async () => {
    for (const s of [...Object.values(sipps), ...agentSipp]) await s?.stop();
    await pal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('CSV import reports each bad line and keeps the good rows', { timeout: 30_000 }, async () => {
    const all = [...ANSWER, ...BUSY, ...NOANSWER, ...DNC, ...INTL];
    // shuffled deterministically so the kinds interleave in the dialling order
    const order = all.map((n, i) => ({ n, k: (i * 7919) % all.length })).sort((a, b) => a.k - b.k);
    const lines = ['number,name,timezone,region'];
    for (const [i, { n }] of order.entries()) lines.push(`${n},"Contact ${i}, Esq.",Europe/London,r${i % 3}`);
    lines.splice(5, 0, 'not-a-number,Bad One,,r0');
    lines.splice(9, 0, '0201555555,Bad Zone,Mars/Olympus,r1');
    const csv = join(dir, 'contacts.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    const r = cli('import', 'spring', csv);
    assert.equal(r.status, 1, 'bad lines make the exit status 1');
    assert.match(r.stdout, /200 contacts imported, 2 bad lines; 200 contacts in spring/);
    assert.match(r.stderr, /contacts\.csv:6: number "not-a-number" is not a phone number/);
    assert.match(r.stderr, /contacts\.csv:10: timezone "Mars\/Olympus" unknown/);
    const dnc = cli('dnc', 'add', ...DNC);
    assert.equal(dnc.status, 0, dnc.stderr);
    assert.match(dnc.stdout, /10 numbers added/);
  });

  test('the dialer: retries, pacing, do-not-call, the call gate, the queue and the results', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const started = cli('start', 'spring');
    assert.equal(started.status, 0, started.stderr);
    await pal.waitForEvent((e) => e.event === 'campaign-done' && e.campaign === 'spring', 200_000);
    const status = cli('status', 'spring');
    const st = (await ask('campaign-status', { campaign: 'spring' })) as Array<Record<string, unknown>>;
    assert.equal(st[0]!.attempts, ANSWER.length + (BUSY.length + NOANSWER.length) * (1 + RETRIES) + INTL.length, 'attempts: every INVITE and the refused tries');
    assert.match(status.stdout, /spring \(done\) \[#{30}\] 100% 200\/200 done, 0 calls now; answered 120, busy 40, noanswer 20, dnc 10, refused 10/);

    // ---- the callees' side: what each SIPp received
    const invitesTo = (s: SippProcess | null, numbers: readonly string[]) => {
      const msgs = readFileSync(join(dir, `sipp-${s!.port}.msg.log`), 'utf8');
      return numbers.reduce((n, num) => n + (msgs.match(new RegExp(`^INVITE sip:${num}@`, 'gm'))?.length ?? 0), 0);
    };
    // the message logs are written as messages arrive; give the last ones a moment
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(invitesTo(sipps.answer, ANSWER), ANSWER.length, 'each answering contact called once');
    assert.equal(invitesTo(sipps.busy, BUSY), BUSY.length * (1 + RETRIES), 'busy contacts tried 1 + retries times');
    assert.equal(invitesTo(sipps.noanswer, NOANSWER), NOANSWER.length * (1 + RETRIES), 'unanswered contacts tried 1 + retries times');
    assert.equal(invitesTo(sipps.answer, DNC), 0, 'no INVITE to a do-not-call number');
    assert.equal(invitesTo(sipps.answer, INTL), 0, 'no INVITE to an international number');

    // ---- pacing, from Palisade's own log with timestamps
    const ev = pal.events().filter((e) => e.campaign === 'spring' && typeof e.contact === 'number');
    const dials = ev.filter((e) => e.event === 'campaign-dial').map((e) => e.at as number);
    assert.equal(dials.length, ANSWER.length + (BUSY.length + NOANSWER.length) * (1 + RETRIES), 'one campaign-dial per INVITE');
    for (let i = 1; i < dials.length; i++) assert.ok(dials[i]! - dials[i - 1]! >= 1000 / CPS, `starts ${dials[i]! - dials[i - 1]!} ms apart (cps ${CPS})`);
    for (let i = 0; i < dials.length; i++) {
      const inSecond = dials.filter((t) => t >= dials[i]! && t < dials[i]! + 1000).length;
      assert.ok(inSecond <= CPS, `${inSecond} starts within a second`);
    }
    // calls at once: +1 at each dial, -1 when its attempt failed or its answered call ended
    const steps = [
      ...dials.map((at) => ({ at, d: 1 })),
      ...ev.filter((e) => e.event === 'campaign-attempt' || e.event === 'campaign-call-ended').map((e) => ({ at: e.at as number, d: -1 })),
    ].sort((a, b) => a.at - b.at || a.d - b.d);
    let now = 0;
    let peak = 0;
    for (const s of steps) {
      now += s.d;
      peak = Math.max(peak, now);
    }
    assert.equal(now, 0, 'every call ended');
    assert.ok(peak <= MAX_CONCURRENT, `peak ${peak} calls at once (max ${MAX_CONCURRENT})`);
    assert.ok(peak >= 2, `the dialer did run calls in parallel (peak ${peak})`);
    // back-off: a contact's second attempt after >= 1 s, the third after >= 2 s more
    const byContact = new Map<number, number[]>();
    for (const e of ev.filter((x) => x.event === 'campaign-dial')) byContact.set(e.contact as number, [...(byContact.get(e.contact as number) ?? []), e.at as number]);
    const ends = new Map<string, number>();
    for (const e of ev.filter((x) => x.event === 'campaign-attempt')) ends.set(`${e.contact}:${e.attempt}`, e.at as number);
    let retried = 0;
    for (const [c, times] of byContact) {
      for (let i = 1; i < times.length; i++) {
        const failedAt = ends.get(`${c}:${i}`)!;
        assert.ok(times[i]! - failedAt >= RETRY_DELAY_S * 1000 * 2 ** (i - 1), `contact ${c} attempt ${i + 1} waited ${times[i]! - failedAt} ms`);
        retried++;
      }
    }
    assert.equal(retried, (BUSY.length + NOANSWER.length) * RETRIES);

    // ---- the call gate refused the international numbers as the campaign's own principal
    const refused = pal.events().filter((e) => e.event === 'campaign-refused');
    assert.equal(refused.length, INTL.length);
    for (const e of refused) assert.equal(e.verdict, 'refused:class-not-permitted:international@campaign:spring');

    // ---- the queue: each answered contact reached an agent
    const connects = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.split('|')[2] === 'sales' && l.split('|')[4] === 'CONNECT');
    assert.equal(connects.length, ANSWER.length, 'a queue CONNECT per answered contact');
    const agentsSeen = new Set(connects.map((l) => l.split('|')[3]));
    assert.deepEqual([...agentsSeen].sort(), ['PJSIP/1001', 'PJSIP/1002']);

    // ---- an agent's disposition and form
    const bad = cli('disposition', 'spring', ANSWER[0]!, 'sale', 'interest=medium');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /form field interest: one of high, low/);
    const ok = cli('disposition', 'spring', ANSWER[0]!, 'sale', 'interest=high', 'budget=1200', 'notes=wants it, "soon"', '--agent', 'PJSIP/1001');
    assert.equal(ok.status, 0, ok.stderr);

    // ---- the results CSV: one complete row per contact
    const out = join(dir, 'results.csv');
    const res = cli('results', 'spring', '--out', out);
    assert.equal(res.status, 0, res.stderr);
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 200);
    assert.deepEqual(Object.keys(rows[0]!), [
      'number',
      'name',
      'timezone',
      'status',
      'attempts',
      'last_result',
      'last_call_at',
      'disposition',
      'agent',
      'form_interest',
      'form_notes',
      'form_budget',
      'region',
    ]);
    const row = (n: string) => rows.find((r) => r.number === n)!;
    for (const n of ANSWER) assert.deepEqual([row(n).status, row(n).attempts, row(n).last_result], ['answered', '1', 'answer'], n);
    for (const n of BUSY) assert.deepEqual([row(n).status, row(n).attempts, row(n).last_result], ['busy', String(1 + RETRIES), 'busy'], n);
    for (const n of NOANSWER) assert.deepEqual([row(n).status, row(n).attempts, row(n).last_result], ['noanswer', String(1 + RETRIES), 'noanswer'], n);
    for (const n of DNC) assert.deepEqual([row(n).status, row(n).attempts, row(n).last_result], ['dnc', '0', 'dnc'], n);
    for (const n of INTL) assert.deepEqual([row(n).status, row(n).last_result], ['refused', 'refused:class-not-permitted:international@campaign:spring'], n);
    for (const r of rows) {
      assert.match(r.name!, /^Contact \d+, Esq\.$/);
      assert.match(r.region!, /^r[012]$/);
      if (r.status !== 'dnc') assert.ok(Date.parse(r.last_call_at!) >= t0 - 1000, `last_call_at ${r.last_call_at}`);
    }
    const sold = row(ANSWER[0]!);
    assert.deepEqual([sold.disposition, sold.agent, sold.form_interest, sold.form_budget, sold.form_notes], ['sale', 'PJSIP/1001', 'high', '1200', 'wants it, "soon"']);
  });

  test('originate to one of our extensions: its registered contact is rung and the answered party runs in the dialplan', { timeout: 60_000 }, async () => {
    const create = cli('create', 'internal', '--exten', 'short', '--permissions', 'internal', '--window', '00:00-00:00', '--cps', '5');
    assert.equal(create.status, 0, create.stderr);
    const csv = join(dir, 'internal.csv');
    writeFileSync(csv, 'number,name\n1002,Agent Two\n');
    assert.equal(cli('import', 'internal', csv).status, 0);
    const before = pal.events().filter((e) => e.event === 'channel-ended' && e.originated === '1002').length;
    assert.equal(cli('start', 'internal').status, 0);
    await pal.waitForEvent((e) => e.event === 'campaign-done' && e.campaign === 'internal', 30_000);
    const ended = await pal.waitForEvent(
      (e) => e.event === 'channel-ended' && e.originated === '1002' && pal.events().filter((x) => x.event === 'channel-ended' && x.originated === '1002').length > before,
      10_000,
    );
    assert.equal(ended.cause, 'normal');
    const res = cli('results', 'internal');
    const rows = parse(res.stdout, { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual([rows[0]!.number, rows[0]!.status, rows[0]!.last_result], ['1002', 'answered', 'answer']);
    const r = (await ask('campaign-status', { campaign: 'internal' })) as Array<Record<string, unknown>>;
    assert.deepEqual([r[0]!.state, r[0]!.answered, r[0]!.attempts], ['done', 1, 1]);
  });
});
