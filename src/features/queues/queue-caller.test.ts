// Queue() through the real dialplan engine with the in-memory channel
// double: members are "rung" by the double's Dial(), which the test
// answers, refuses or lets time out, so who is rung, in which order and
// what lands in the queue_log is checked exactly. (The same flows with
// SIPp phones through a real Palisade: test/interop/queues-sipp.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DialOptions, DialResult, DialTarget } from '../../channel/channel.js';
import { DialplanRegistry } from '../../dialplan/dialplan-registry.js';
import { DialplanEngine } from '../../dialplan/engine.js';
import { parseExtensionsConfText } from '../../dialplan/parse-extensions-conf.js';
import { LogRoot } from '../../observability/logger.js';
import { MemoryChannel } from '../../../test/support/memory-channel.js';
import { parseQueuesConf } from './queues-conf.js';
import { QueueLog, parseQueueLogLine, type QueueLogEntry } from './queue-log.js';
import { QueueService } from './queue-service.js';
import type { DeviceState } from './queue-state.js';
import { queueApps, queueFunctions } from './queue-apps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** what a member does when rung: answer after ms and talk for talkMs, or refuse */
type Behaviour = { answerMs: number; talkMs: number; agentHangsUp?: boolean } | 'busy' | 'noanswer';

interface Rig {
  svc: QueueService;
  devices: Map<string, DeviceState>;
  /** every ring: the members rung together, when */
  rings: Array<{ at: number; members: string[]; caller: string }>;
  behave: Map<string, Behaviour>;
  call(callerId: string, exten?: string, vars?: Record<string, string>): { ch: MemoryChannel; done: Promise<void> };
  lines(): QueueLogEntry[];
  close(): void;
}

function rig(queuesConf: string, plan = '[c]\nexten => 500,1,Queue(support)\n same => n,Set(AFTER=${QUEUESTATUS})\n'): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'queue-test-'));
  const parsed = parseQueuesConf(queuesConf, 'queues.conf');
  assert.deepEqual(parsed.issues, []);
  const logFile = join(dir, 'queue_log');
  const log = new QueueLog(logFile, null, (w, e) => assert.fail(`${w}: ${e.message}`));
  const devices = new Map<string, DeviceState>();
  const listeners = new Set<() => void>();
  const svc = new QueueService({
    conf: { general: parsed.general, queues: parsed.queues },
    log,
    devices: { state: (_t, r) => devices.get(r) ?? 'idle', onChange: (fn) => (listeners.add(fn), () => listeners.delete(fn)) },
    logger: new LogRoot('error').get('queues'),
    db: null,
  });
  const registry = DialplanRegistry.builtin();
  for (const a of queueApps(() => svc)) registry.registerApp(a.name, a);
  for (const f of queueFunctions(() => svc)) registry.registerFunction(f);
  const engine = new DialplanEngine(parseExtensionsConfText(plan, 'extensions.conf', { registry }), { registry });
  const rings: Rig['rings'] = [];
  const behave = new Map<string, Behaviour>();
  const t0 = Date.now();
  const onDial = async (ch: MemoryChannel, targets: DialTarget[], o: DialOptions): Promise<DialResult> => {
    rings.push({ at: Date.now() - t0, members: targets.map((t) => t.resource), caller: ch.callerIdNum });
    // the first member to answer wins; the others ring on until then
    const plans = targets.map((t) => ({ t, b: behave.get(t.resource) ?? 'noanswer' }));
    const answering = plans.filter((p) => typeof p.b === 'object').sort((a, b) => (a.b as { answerMs: number }).answerMs - (b.b as { answerMs: number }).answerMs)[0];
    const ringFor = answering ? (answering.b as { answerMs: number }).answerMs : o.timeoutMs;
    if (!answering && plans.every((p) => p.b === 'busy')) return { status: 'BUSY' };
    await Promise.race([sleep(ringFor), ch.ended]);
    if (ch.hungUp) return { status: 'CANCEL' };
    if (!answering) return { status: 'NOANSWER' };
    o.onAnswer?.(answering.t);
    const b = answering.b as { talkMs: number; agentHangsUp?: boolean };
    await Promise.race([sleep(b.talkMs), ch.ended]);
    if (!ch.hungUp && !b.agentHangsUp) ch.callerHangup();
    return { status: 'ANSWER', answeredMs: b.talkMs, answeredBy: answering.t };
  };
  return {
    svc,
    devices,
    rings,
    behave,
    call(callerId, exten = '500', vars = {}) {
      const ch: MemoryChannel = new MemoryChannel({ context: 'c', dialed: exten, callerIdNum: callerId, liveMusic: true, onDial: (t, o) => onDial(ch, t, o) });
      for (const [k, v] of Object.entries(vars)) ch.vars.set(k, v);
      return { ch, done: engine.run(ch, ch.media) };
    },
    lines: () =>
      readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => parseQueueLogLine(l)!),
    close() {
      svc.stop();
      void log.close();
      for (const fn of listeners) listeners.delete(fn);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const answer = (answerMs = 50, talkMs = 100): Behaviour => ({ answerMs, talkMs });

test('ringall rings every free member at once; the first to answer gets the caller; queue_log has ENTERQUEUE, CONNECT, COMPLETECALLER', async () => {
  const r = rig('[support]\nstrategy = ringall\ntimeout = 2\nmember => PJSIP/1001\nmember => PJSIP/1002\nmember => SIP/1003\n');
  try {
    r.behave.set('1002', answer(80, 300));
    r.behave.set('1003', answer(200, 300));
    const c = r.call('1500');
    await c.done;
    assert.deepEqual(
      r.rings.map((x) => x.members),
      [['1001', '1002', '1003']],
    );
    const ev = r.lines().filter((l) => l.queue === 'support');
    assert.deepEqual(
      ev.map((l) => [l.callid, l.agent, l.event]),
      [
        [c.ch.id, 'NONE', 'ENTERQUEUE'],
        [c.ch.id, 'PJSIP/1002', 'CONNECT'],
        [c.ch.id, 'PJSIP/1002', 'COMPLETECALLER'],
      ],
    );
    // ENTERQUEUE: url|callerid|position
    assert.deepEqual(ev[0]!.data, ['', '1500', '1']);
    // CONNECT: holdtime|bridged uniqueid|ringtime
    assert.equal(ev[1]!.data.length, 3);
    assert.equal(ev[1]!.data[0], '0');
    assert.match(ev[1]!.data[1]!, /^\d+\.q\d+$/);
    // COMPLETECALLER: holdtime|calltime|origposition
    assert.deepEqual(ev[2]!.data, ['0', '0', '1']);
    assert.equal(c.ch.vars.get('MEMBERINTERFACE'), 'PJSIP/1002');
    const st = r.svc.status('support')[0]!;
    assert.equal(st.answered, 1);
  } finally {
    r.close();
  }
});

test('linear tries members in listed order, each after the previous one timed out; every caller starts from the first', async () => {
  const r = rig('[support]\nstrategy = linear\ntimeout = 1\nretry = 0\nmember => PJSIP/1001\nmember => PJSIP/1002\nmember => PJSIP/1003\n');
  try {
    r.behave.set('1003', answer(30, 50));
    const a = r.call('1500');
    await a.done;
    const b = r.call('1501');
    await b.done;
    assert.deepEqual(
      r.rings.map((x) => `${x.caller}:${x.members.join('&')}`),
      ['1500:1001', '1500:1002', '1500:1003', '1501:1001', '1501:1002', '1501:1003'],
    );
    const rna = r.lines().filter((l) => l.event === 'RINGNOANSWER');
    assert.deepEqual(
      rna.map((l) => l.agent),
      ['PJSIP/1001', 'PJSIP/1002', 'PJSIP/1001', 'PJSIP/1002'],
    );
    for (const l of rna) assert.ok(Number(l.data[0]) >= 900 && Number(l.data[0]) < 3000, `ring time ${l.data[0]} ms`);
  } finally {
    r.close();
  }
});

test('rrmemory goes round the members, remembering where the last caller stopped', async () => {
  const r = rig('[support]\nstrategy = rrmemory\ntimeout = 2\nmember => PJSIP/1001\nmember => PJSIP/1002\nmember => PJSIP/1003\n');
  try {
    for (const m of ['1001', '1002', '1003']) r.behave.set(m, answer(20, 30));
    for (const cid of ['1500', '1501', '1502', '1503']) await r.call(cid).done;
    assert.deepEqual(
      r.rings.map((x) => x.members.join('&')),
      ['1001', '1002', '1003', '1001'],
    );
  } finally {
    r.close();
  }
});

test('fewestcalls and leastrecent pick by the calls members took', async () => {
  const r = rig('[support]\nstrategy = fewestcalls\ntimeout = 2\nwrapuptime = 0\nmember => PJSIP/1001\nmember => PJSIP/1002\n');
  try {
    r.behave.set('1001', answer(10, 20));
    r.behave.set('1002', answer(10, 20));
    await r.call('1500').done; // both 0 calls: the first listed
    await r.call('1501').done; // 1002 has fewer
    await r.call('1502').done; // equal again: 1001
    assert.deepEqual(
      r.rings.map((x) => x.members.join('&')),
      ['1001', '1002', '1001'],
    );
    r.svc.queues.get('support')!.def.strategy = 'leastrecent';
    await sleep(20);
    await r.call('1503').done; // 1002's last call ended longer ago
    assert.equal(r.rings.at(-1)!.members.join('&'), '1002');
  } finally {
    r.close();
  }
});

test('a paused member is not rung; unpausing makes it ringable; PAUSE and UNPAUSE carry the reason', async () => {
  const r = rig('[support]\nstrategy = linear\ntimeout = 1\nretry = 0\nmember => PJSIP/1001\nmember => PJSIP/1002\n');
  try {
    r.behave.set('1001', answer(20, 30));
    r.behave.set('1002', answer(20, 30));
    assert.equal(r.svc.setPaused('support', 'PJSIP/1001', true, 'lunch'), true);
    await r.call('1500').done;
    assert.deepEqual(
      r.rings.map((x) => x.members.join('&')),
      ['1002'],
    );
    r.svc.setPaused('support', 'PJSIP/1001', false);
    await r.call('1501').done;
    assert.deepEqual(
      r.rings.map((x) => x.members.join('&')),
      ['1002', '1001'],
    );
    const p = r.lines().filter((l) => l.event === 'PAUSE' || l.event === 'UNPAUSE');
    assert.deepEqual(
      p.map((l) => [l.queue, l.callid, l.agent, l.event, ...l.data]),
      [
        ['support', 'NONE', 'PJSIP/1001', 'PAUSE', 'lunch'],
        ['support', 'NONE', 'PJSIP/1001', 'UNPAUSE', ''],
      ],
    );
  } finally {
    r.close();
  }
});

test('wrap-up: a member who just finished a call is not rung until wrapuptime has passed', async () => {
  const r = rig('[support]\nstrategy = ringall\ntimeout = 5\nwrapuptime = 1\nmember => PJSIP/1001\n');
  try {
    r.behave.set('1001', answer(10, 50));
    await r.call('1500').done;
    const t = Date.now();
    await r.call('1501').done;
    const waited = Date.now() - t;
    assert.equal(r.rings.length, 2);
    assert.ok(waited >= 900, `the second caller was connected after ${waited} ms`);
  } finally {
    r.close();
  }
});

test('a caller who hangs up while waiting is logged ABANDON position|origposition|waittime', async () => {
  const r = rig('[support]\ntimeout = 1\nmember => PJSIP/1001\n');
  try {
    r.devices.set('1001', 'inuse'); // on another call: not rung (ringinuse = no)
    const c = r.call('1500');
    await sleep(1200);
    c.ch.callerHangup();
    await c.done;
    assert.equal(r.rings.length, 0);
    const ab = r.lines().find((l) => l.event === 'ABANDON')!;
    assert.deepEqual([ab.callid, ab.queue, ab.agent], [c.ch.id, 'support', 'NONE']);
    assert.deepEqual(ab.data, ['1', '1', '1']);
  } finally {
    r.close();
  }
});

test('the timeout argument ends the wait: EXITWITHTIMEOUT and QUEUESTATUS=TIMEOUT; the dialplan goes on', async () => {
  const r = rig(
    '[support]\ntimeout = 1\nretry = 0\nmember => PJSIP/1001\n',
    '[c]\nexten => 500,1,Queue(support,,,,2)\n same => n,Set(AFTER=${QUEUESTATUS})\n same => n,Hangup()\n',
  );
  try {
    const c = r.call('1500');
    await c.done;
    assert.equal(c.ch.vars.get('AFTER'), 'TIMEOUT');
    const ex = r.lines().find((l) => l.event === 'EXITWITHTIMEOUT')!;
    assert.deepEqual(ex.data, ['1', '1', '2']);
    assert.ok(r.rings.length >= 1, 'the member was rung meanwhile');
  } finally {
    r.close();
  }
});

test('joinempty and leavewhenempty: JOINEMPTY without usable members, EXITEMPTY when the last one pauses', async () => {
  const r = rig(
    '[support]\njoinempty = paused,unavailable\nleavewhenempty = paused\ntimeout = 1\nmember => PJSIP/1001\n[sales]\njoinempty = no\nmember => PJSIP/1002\n',
    '[c]\nexten => 500,1,Queue(support)\n same => n,Set(AFTER=${QUEUESTATUS})\nexten => 501,1,Queue(sales,,,,1)\n same => n,Set(AFTER=${QUEUESTATUS})\n',
  );
  try {
    r.devices.set('1001', 'unavailable');
    const a = r.call('1500');
    await a.done;
    assert.equal(a.ch.vars.get('AFTER'), 'JOINEMPTY');
    r.devices.set('1001', 'inuse');
    const b = r.call('1501');
    await sleep(300);
    r.svc.setPaused('support', 'PJSIP/1001', true, 'break');
    r.svc.dispatchAll();
    b.ch.vars.set('X', '1');
    await b.done;
    assert.equal(b.ch.vars.get('AFTER'), 'LEAVEEMPTY');
    assert.ok(r.lines().some((l) => l.event === 'EXITEMPTY' && l.callid === b.ch.id));
  } finally {
    r.close();
  }
});

test('QUEUE_PRIO: a higher-priority caller who arrives later is served first', async () => {
  const r = rig('[support]\ntimeout = 5\nmember => PJSIP/1001\n');
  try {
    r.devices.set('1001', 'inuse');
    const low = r.call('1500');
    await sleep(50);
    const high = r.call('1501', '500', { QUEUE_PRIO: '10' });
    await sleep(50);
    const st = r.svc.status('support')[0]! as { callers: Array<{ callerid: string }> };
    assert.deepEqual(
      st.callers.map((c) => c.callerid),
      ['1501', '1500'],
    );
    r.behave.set('1001', answer(10, 30));
    r.devices.set('1001', 'idle');
    r.svc.dispatchAll();
    await high.done;
    await low.done;
    assert.deepEqual(
      r.rings.map((x) => x.caller),
      ['1501', '1500'],
    );
  } finally {
    r.close();
  }
});

test('penalties: members of a higher penalty are rung only when no lower one is free', async () => {
  const r = rig('[support]\nstrategy = ringall\ntimeout = 1\nretry = 0\nmember => PJSIP/1001,0\nmember => PJSIP/1002,0\nmember => PJSIP/1003,2\n');
  try {
    r.behave.set('1003', answer(10, 20));
    r.behave.set('1001', answer(10, 20));
    await r.call('1500').done;
    assert.deepEqual(r.rings[0]!.members, ['1001', '1002']);
    r.devices.set('1001', 'inuse');
    r.devices.set('1002', 'inuse');
    await r.call('1501').done;
    assert.deepEqual(r.rings[1]!.members, ['1003']);
  } finally {
    r.close();
  }
});

test('AddQueueMember / RemoveQueueMember / PauseQueueMember from the dialplan default to the calling phone; ADDMEMBER and REMOVEMEMBER are logged', async () => {
  const r = rig(
    '[support]\nmember => PJSIP/1001\n',
    '[c]\nexten => *45,1,AddQueueMember(support)\n same => n,Set(R=${AQMSTATUS})\nexten => *46,1,RemoveQueueMember(support)\n same => n,Set(R=${RQMSTATUS})\nexten => *47,1,PauseQueueMember(,,,coffee)\n same => n,Set(R=${PQMSTATUS})\nexten => *48,1,Set(N=${QUEUE_MEMBER(support,count)})\n',
  );
  try {
    const add = r.call('1002', '*45');
    await add.done;
    assert.equal(add.ch.vars.get('R'), 'ADDED');
    const again = r.call('1002', '*45');
    await again.done;
    assert.equal(again.ch.vars.get('R'), 'MEMBERALREADY');
    const count = r.call('1002', '*48');
    await count.done;
    assert.equal(count.ch.vars.get('N'), '2');
    const pause = r.call('1002', '*47');
    await pause.done;
    assert.equal(pause.ch.vars.get('R'), 'PAUSED');
    const rm = r.call('1002', '*46');
    await rm.done;
    assert.equal(rm.ch.vars.get('R'), 'REMOVED');
    const rmStatic = r.svc.removeMember('support', 'PJSIP/1001');
    assert.equal(rmStatic, 'notdynamic');
    const ev = r.lines().filter((l) => l.queue !== 'NONE' || l.event === 'PAUSEALL');
    assert.deepEqual(
      ev.map((l) => [l.callid === add.ch.id ? 'ADD-CALL' : l.callid === rm.ch.id ? 'RM-CALL' : l.callid, l.queue, l.agent, l.event, ...l.data]),
      [
        ['ADD-CALL', 'support', 'PJSIP/1002', 'ADDMEMBER', ''],
        ['NONE', 'NONE', 'PJSIP/1002', 'PAUSEALL', 'coffee'],
        ['NONE', 'support', 'PJSIP/1002', 'PAUSE', 'coffee'],
        ['RM-CALL', 'support', 'PJSIP/1002', 'REMOVEMEMBER', ''],
      ],
    );
  } finally {
    r.close();
  }
});

test('announce-frequency: a waiting caller hears its position, then the thank-you, between spells of music', async () => {
  const r = rig('[support]\nannounce-frequency = 1\nmin-announce-frequency = 1\ntimeout = 1\nmember => PJSIP/1001\n');
  try {
    r.devices.set('1001', 'inuse');
    const a = r.call('1500');
    const b = r.call('1501');
    await sleep(1500);
    a.ch.callerHangup();
    b.ch.callerHangup();
    await a.done;
    await b.done;
    assert.ok(a.ch.played.includes('queue-youarenext'), a.ch.events.join(' '));
    const i = b.ch.events.indexOf('play:queue-thereare');
    assert.ok(i >= 0, b.ch.events.join(' '));
    assert.deepEqual(b.ch.events.slice(i, i + 4), ['play:queue-thereare', 'sayNumber:2', 'play:queue-callswaiting', 'play:queue-thankyou']);
    assert.ok(b.ch.events.indexOf('moh:default:0') < i, 'music first');
  } finally {
    r.close();
  }
});

test('maxlen: a full queue turns the caller away with QUEUESTATUS=FULL; the c option carries on after the agent hangs up', async () => {
  const r = rig('[support]\nmaxlen = 1\ntimeout = 2\nmember => PJSIP/1001\n', '[c]\nexten => 500,1,Queue(support,c)\n same => n,Set(AFTER=${QUEUESTATUS})\n');
  try {
    r.devices.set('1001', 'inuse');
    const a = r.call('1500');
    await sleep(50);
    const b = r.call('1501');
    await b.done;
    assert.equal(b.ch.vars.get('AFTER'), 'FULL');
    r.behave.set('1001', { answerMs: 10, talkMs: 50, agentHangsUp: true });
    r.devices.set('1001', 'idle');
    r.svc.dispatchAll();
    await a.done;
    assert.equal(a.ch.vars.get('AFTER'), 'CONTINUE');
    assert.ok(r.lines().some((l) => l.event === 'COMPLETEAGENT' && l.callid === a.ch.id));
  } finally {
    r.close();
  }
});

test('context: a key that is an extension there takes the waiting caller out (EXITWITHKEY)', async () => {
  const r = rig('[support]\ncontext = leave\ntimeout = 1\nmember => PJSIP/1001\n', '[c]\nexten => 500,1,Queue(support)\n[leave]\nexten => 5,1,Set(LEFT=yes)\n');
  try {
    r.devices.set('1001', 'inuse');
    const ch = new MemoryChannel({ context: 'c', dialed: '500', callerIdNum: '1500', script: '5' });
    const engine = new DialplanEngine(
      parseExtensionsConfText('[c]\nexten => 500,1,Queue(support)\n[leave]\nexten => 5,1,Set(LEFT=yes)\n', 'extensions.conf', { registry: regWith(r.svc) }),
      { registry: regWith(r.svc) },
    );
    await engine.run(ch, ch.media);
    assert.equal(ch.vars.get('LEFT'), 'yes');
    const ex = r.lines().find((l) => l.event === 'EXITWITHKEY')!;
    assert.deepEqual([ex.callid, ...ex.data.slice(0, 3)], [ch.id, '5', '1', '1']);
  } finally {
    r.close();
  }
});

function regWith(svc: QueueService): DialplanRegistry {
  const registry = DialplanRegistry.builtin();
  for (const a of queueApps(() => svc)) registry.registerApp(a.name, a);
  return registry;
}
