import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryChannel, type MemoryChannelOptions } from '../../test/support/memory-channel.js';
import { DialplanRegistry } from './dialplan-registry.js';
import { DialplanEngine, type EngineOptions, type StepRecord } from './engine.js';
import { parseExtensionsConfText } from './parse-extensions-conf.js';

// the test applications below join the built-in ones here; parser and engine share it
const registry = DialplanRegistry.builtin();
const registerApp = registry.registerApp.bind(registry);

async function run(conf: string, ch: MemoryChannelOptions, opts: EngineOptions = {}): Promise<MemoryChannel> {
  const engine = new DialplanEngine(parseExtensionsConfText(conf, 'extensions.conf', { registry }), { registry, ...opts });
  const c = new MemoryChannel({ context: 'c', ...ch });
  await engine.run(c, c.media);
  return c;
}

const logs: Array<[string, string, Record<string, unknown> | undefined]> = [];
const log = {
  info: (e: string, f?: Record<string, unknown>) => void logs.push(['info', e, f]),
  warn: (e: string, f?: Record<string, unknown>) => void logs.push(['warn', e, f]),
};

test('priorities run lowest first; falling off the end hangs up; h runs once afterwards', async () => {
  const c = await run(
    ['[c]', 'exten => 100,2,Playback(second)', 'exten => 100,1,Answer()', 'exten => 100,5,Playback(fifth)', 'exten => h,1,NoOp(cleanup)', ' same => n,Set(HRAN=${EXTEN})'].join(
      '\n',
    ),
    { dialed: '100' },
  );
  assert.deepEqual(c.events, ['answer', 'play:second', 'hangup:normal']);
  assert.equal(c.vars.get('HRAN'), 'h');
  assert.equal(c.vars.get('DIALPLAN_PATH'), 'c,100,1:Answer|c,100,2:Playback|c,h,1:NoOp|c,h,2:Set');
});

test('an unknown number hangs up as unallocated without running anything', async () => {
  const c = await run('[c]\nexten => 100,1,Answer()\n', { dialed: '999' });
  assert.deepEqual(c.events, ['hangup:unallocated']);
});

test('patterns set ${EXTEN}; exact beats pattern; includes are searched in order; an include loop is harmless', async () => {
  const conf = [
    '[c]',
    'include => a',
    'include => b',
    'exten => 5000,1,Set(WHO=exact)',
    '[a]',
    'include => c',
    'exten => _5XXX,1,Set(WHO=a:${EXTEN}:${CONTEXT})',
    '[b]',
    'exten => _5XXX,1,Set(WHO=b)',
    'exten => _6XXX,1,Set(WHO=b6:${EXTEN:1})',
  ].join('\n');
  assert.equal((await run(conf, { dialed: '5000' })).vars.get('WHO'), 'exact');
  assert.equal((await run(conf, { dialed: '5123' })).vars.get('WHO'), 'a:5123:c');
  assert.equal((await run(conf, { dialed: '6123' })).vars.get('WHO'), 'b6:123');
  assert.deepEqual((await run(conf, { dialed: '7000' })).events, ['hangup:unallocated']);
});

test('caller-ID matching: exten => 100/1001 only for caller 1001', async () => {
  const conf = '[c]\nexten => 100/_10XX,1,Set(R=vip)\nexten => 100,1,Set(R=normal)\n';
  assert.equal((await run(conf, { dialed: '100', callerIdNum: '1001' })).vars.get('R'), 'vip');
  assert.equal((await run(conf, { dialed: '100', callerIdNum: '2001' })).vars.get('R'), 'normal');
  const engine = new DialplanEngine(parseExtensionsConfText('[c]\nexten => 100/1001,1,NoOp()\n', 'e'));
  assert.equal(engine.has('c', '100', '1001'), true);
  assert.equal(engine.has('c', '100', '1002'), false);
  assert.equal(engine.has('nope', '100', '1001'), false);
});

test('Goto to labels, priorities, extensions and contexts; GotoIf both ways; a bad target ends the call', async () => {
  const conf = [
    '[c]',
    'exten => 1,1,Set(I=0)',
    ' same => n(loop),Set(I=$[${I} + 1])',
    ' same => n,GotoIf($[${I} < 3]?loop)',
    ' same => n,GotoIf($[${I} = 3]?:never)',
    ' same => n,Goto(2,1)',
    ' same => n(never),Set(BAD=1)',
    'exten => 2,1,Goto(other,s,start)',
    'exten => 3,1,Set(WHERE=nowhere)',
    ' same => n,Goto(${WHERE},s,1)',
    ' same => n,Set(AFTER=1)',
    'exten => 4,1,GotoIf(1?5,1:6,1)',
    'exten => 5,1,Set(R=five)',
    'exten => 6,1,Set(R=six)',
    '[other]',
    'exten => s,1,NoOp()',
    ' same => n(start),Set(DONE=${CONTEXT}/${EXTEN}/${PRIORITY})',
  ].join('\n');
  const c = await run(conf, { dialed: '1' });
  assert.equal(c.vars.get('I'), '3');
  assert.equal(c.vars.get('BAD'), undefined);
  assert.equal(c.vars.get('DONE'), 'other/s/2');
  logs.length = 0;
  const bad = await run(conf, { dialed: '3' }, { log });
  assert.equal(bad.vars.get('AFTER'), undefined);
  assert.deepEqual(bad.events, ['hangup:normal']);
  assert.deepEqual(logs.find((l) => l[1] === 'dialplan.goto_failed')?.[2], { app: 'Goto', target: 'nowhere,s,1', reason: 'no context [nowhere]' });
  assert.equal((await run(conf, { dialed: '4' })).vars.get('R'), 'five');
});

test('Answer, Playback (& lists, skip), Progress, Ringing, SayDigits, SayNumber, Wait, NoOp, Verbose, Log', async () => {
  logs.length = 0;
  const c = await run(
    [
      '[c]',
      'exten => s,1,Playback(early,skip)',
      ' same => n,Ringing()',
      ' same => n,Progress()',
      ' same => n,Playback(a&b,noanswer)',
      ' same => n,Answer()',
      ' same => n,SayDigits(${CALLERID(num)})',
      ' same => n,SayNumber(87)',
      ' same => n,SayNumber(eighty)',
      ' same => n,Wait(1.5)',
      ' same => n,NoOp(nothing)',
      ' same => n,Verbose(2,hello ${CALLERID(name)})',
      ' same => n,Log(WARNING,careful)',
    ].join('\n'),
    {},
    { log },
  );
  assert.deepEqual(c.events, ['ring', 'progress', 'play:a', 'play:b', 'answer', 'sayDigits:1001', 'sayNumber:87', 'wait:1500', 'hangup:normal']);
  assert.equal(c.vars.get('PLAYBACKSTATUS'), 'SUCCESS');
  assert.deepEqual(
    logs.filter((l) => l[1] !== 'dialplan.ended').map((l) => [l[0], l[1]]),
    [
      ['warn', 'dialplan.saynumber_not_a_number'],
      ['info', 'dialplan.verbose'],
      ['warn', 'dialplan.log'],
    ],
  );
  assert.equal(logs[1]![2]!.message, 'hello Alice');
});

test('Hangup(cause) maps Q.850 numbers and names; h still runs', async () => {
  const c = await run('[c]\nexten => s,1,Hangup(17)\n same => n,Set(NOT=1)\nexten => h,1,Set(H=${HANGUPCAUSE})\n', {});
  assert.deepEqual(c.events, ['hangup:busy']);
  assert.equal(c.vars.get('H'), 'busy');
  assert.equal(c.vars.get('NOT'), undefined);
  assert.deepEqual((await run('[c]\nexten => s,1,Hangup(congestion)\n', {})).events, ['hangup:congestion']);
});

test('Read: digits until # or maxdigits, the interrupting digit counts, attempts replay the prompt, READSTATUS', async () => {
  const conf = '[c]\nexten => s,1,Read(ID,enter-id,${MAX},,${TRIES},5)\n same => n,Set(DONE=1)\n';
  const a = await run(conf.replace('${MAX}', '0').replace('${TRIES}', '1'), { script: '12345#' });
  assert.equal(a.vars.get('ID'), '12345');
  assert.equal(a.vars.get('READSTATUS'), 'OK');
  assert.deepEqual(a.events.slice(0, 3), ['answer', 'play:enter-id', 'digit:1']);
  const b = await run(conf.replace('${MAX}', '4').replace('${TRIES}', '1'), { script: '987654' });
  assert.equal(b.vars.get('ID'), '9876');
  const t = await run(conf.replace('${MAX}', '4').replace('${TRIES}', '3'), { script: '~~42#' });
  assert.equal(t.played.length, 3);
  assert.equal(t.vars.get('ID'), '42');
  const none = await run(conf.replace('${MAX}', '4').replace('${TRIES}', '2'), { script: '~~~' });
  assert.equal(none.vars.get('READSTATUS'), 'TIMEOUT');
  assert.equal(none.vars.get('ID'), '');
  assert.equal(none.vars.get('DONE'), '1');
  const gone = await run(conf.replace('${MAX}', '4').replace('${TRIES}', '1'), { script: '' });
  assert.equal(gone.vars.get('READSTATUS'), 'HANGUP');
  assert.equal(gone.vars.get('DONE'), undefined);
});

test('Background + WaitExten: typed extensions, multi-digit collection, i with ${INVALID_EXTEN}, t on timeout', async () => {
  const conf = [
    '[c]',
    'exten => s,1,Background(menu)',
    ' same => n,WaitExten(5)',
    'exten => 1,1,Set(R=one)',
    'exten => 12,1,Set(R=twelve)',
    'exten => 3,1,Set(R=three)',
    'exten => i,1,Set(R=invalid:${INVALID_EXTEN})',
    'exten => t,1,Set(R=timeout)',
  ].join('\n');
  assert.equal((await run(conf, { script: '3' })).vars.get('R'), 'three');
  assert.equal((await run(conf, { script: '12' })).vars.get('R'), 'twelve');
  assert.equal((await run(conf, { script: '1~' })).vars.get('R'), 'one'); // digit timeout after 1
  assert.equal((await run(conf, { script: '9' })).vars.get('R'), 'invalid:9');
  const to = await run(conf, { script: '~' });
  assert.equal(to.vars.get('R'), 'timeout');
  assert.deepEqual(to.events.slice(0, 3), ['answer', 'play:menu', 'timeout']);
  // no t extension: a timeout hangs up
  const noT = await run('[c]\nexten => s,1,WaitExten(1)\n same => n,Set(AFTER=1)\n', { script: '~' });
  assert.equal(noT.vars.get('AFTER'), undefined);
  // no i extension: an invalid digit hangs up
  const noI = await run('[c]\nexten => s,1,Background(menu)\n same => n,Set(AFTER=1)\n', { script: '7' });
  assert.equal(noI.vars.get('AFTER'), undefined);
  // WaitExten with music on hold
  const moh = await run('[c]\nexten => s,1,WaitExten(4,m(jazz))\nexten => 2,1,Set(R=2)\n', { script: '2' });
  assert.equal(moh.events[0], 'moh:jazz:4000');
  assert.equal(moh.vars.get('R'), '2');
});

test('Set: whole-data assignment with commas, _/__ prefixes, CALLERID(name) override, clearing', async () => {
  const c = await run(
    '[c]\nexten => s,1,Set(A=x,y)\n same => n,Set(__B=inherit)\n same => n,Set(CALLERID(name)=Bob)\n same => n,Set(N=${CALLERID(name)})\n same => n,Set(A=)\n',
    {},
  );
  assert.equal(c.vars.get('A'), undefined);
  assert.equal(c.vars.get('B'), 'inherit');
  assert.equal(c.vars.get('N'), 'Bob');
});

test('globals are the starting value of variables; channel variables shadow them', async () => {
  const c = await run('[globals]\nOP=1000\n[c]\nexten => s,1,Set(A=${OP})\n same => n,Set(OP=2000)\n same => n,Set(B=${OP})\n', {});
  assert.equal(c.vars.get('A'), '1000');
  assert.equal(c.vars.get('B'), '2000');
});

test('Dial: several targets at once, timeout and options, DIALSTATUS; after ANSWER the caller is hung up unless g', async () => {
  const conf = '[c]\nexten => s,1,Dial(SIP/1001&PJSIP/1002,20,${OPTS})\n same => n,Set(AFTER=${DIALSTATUS})\n';
  const busy = await run(conf.replace('${OPTS}', 'r'), { onDial: () => ({ status: 'BUSY' }) });
  assert.equal(busy.events[0], 'dial:SIP/1001&PJSIP/1002:20000:r');
  assert.equal(busy.vars.get('AFTER'), 'BUSY');
  assert.equal(busy.cause, 'busy'); // falling off the end after a busy Dial hangs up busy (autofallthrough)
  const ans = await run(conf.replace('${OPTS}', ''), { onDial: () => ({ status: 'ANSWER', answeredMs: 65_000 }) });
  assert.equal(ans.vars.get('DIALSTATUS'), 'ANSWER');
  assert.equal(ans.vars.get('ANSWEREDTIME'), '65');
  assert.equal(ans.vars.get('AFTER'), undefined);
  const g = await run(conf.replace('${OPTS}', 'g'), { onDial: () => ({ status: 'ANSWER', answeredMs: 1000 }) });
  assert.equal(g.vars.get('AFTER'), 'ANSWER');
  const bad = await run('[c]\nexten => s,1,Dial(1001)\n same => n,Set(AFTER=${DIALSTATUS})\n', {});
  assert.equal(bad.vars.get('AFTER'), 'INVALIDARGS');
  assert.deepEqual(bad.events, ['hangup:normal']);
});

test('Record writes under the recordings directory and refuses ".."; MixMonitor/StopMixMonitor; ConfBridge; MusicOnHold', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-rec-'));
  try {
    const c = await run(
      [
        '[c]',
        'exten => s,1,Record(msg-%d.wav,3,60)',
        ' same => n,Set(S1=${RECORD_STATUS}:${RECORDED_FILE})',
        ' same => n,Record(../escape.wav)',
        ' same => n,Set(S2=${RECORD_STATUS})',
        ' same => n,Record(x.gsm)',
        ' same => n,Set(S3=${RECORD_STATUS})',
        ' same => n,MixMonitor(call-${UNIQUEID}.wav)',
        ' same => n,StopMixMonitor()',
        ' same => n,ConfBridge(room1)',
        ' same => n,MusicOnHold(default,2)',
      ].join('\n'),
      { script: '#~' },
      { recordingsDir: dir },
    );
    assert.equal(c.vars.get('S1'), `DTMF:${join(dir, 'msg-0')}`);
    assert.ok(existsSync(join(dir, 'msg-0.wav')));
    assert.equal(c.vars.get('S2'), 'ERROR');
    assert.equal(c.vars.get('S3'), 'ERROR');
    assert.ok(!existsSync(join(dir, '..', 'escape.wav')));
    assert.ok(c.events.includes(`mixmonitor:${join(dir, `call-${c.id}.wav`)}`));
    assert.ok(c.events.includes('stopmixmonitor'));
    assert.ok(c.events.includes('confbridge:room1'));
    assert.ok(c.events.includes('moh:default:2000'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bound on steps per call stops an endless loop', async () => {
  logs.length = 0;
  const c = await run('[c]\nexten => s,1,NoOp(spin)\n same => n,Goto(1)\nexten => h,1,Set(H=ran)\n', {}, { maxSteps: 50, log });
  assert.deepEqual(c.events, ['hangup:failure']);
  assert.equal(c.vars.get('DIALPLAN_ERROR'), 'step limit 50 reached');
  assert.equal(logs.find((l) => l[1] === 'dialplan.step_limit')?.[2]?.limit, 50);
  assert.equal(c.vars.get('H'), undefined); // the budget is spent; h does not get to loop either
});

test('an application that throws ends the call with failure; h runs; nothing escapes', async () => {
  registerApp('TestExplode', {
    synopsis: 'test only',
    async run() {
      throw new Error('boom');
    },
  });
  const c = await run('[c]\nexten => s,1,TestExplode()\nexten => h,1,Set(H=${DIALPLAN_ERROR})\n', {});
  assert.deepEqual(c.events, ['hangup:failure']);
  assert.equal(c.vars.get('H'), 'TestExplode failed: boom');
});

test('a registry lets modules (voicemail) add applications the parser then accepts and the engine runs', async () => {
  const seen: string[][] = [];
  registerApp('VoiceMailTest', {
    synopsis: 'test only',
    async run(call, args) {
      seen.push(args);
      call.vars.set('VMSTATUS', 'SUCCESS');
    },
  });
  const c = await run('[c]\nexten => s,1,voicemailtest(${EXTEN}@default,u)\n', {});
  assert.deepEqual(seen, [['s@default', 'u']]);
  assert.equal(c.vars.get('VMSTATUS'), 'SUCCESS');
});

test('per-call record: LASTAPP/LASTDATA, onStep, and DBLookup arguments kept out of it', async () => {
  const steps: StepRecord[] = [];
  const c = await run('[c]\nexten => s,1,Set(PIN=4321)\n same => n,DBLookup(R=q,${PIN})\n same => n,Playback(bye)\n', {}, { onStep: (_ch, s) => steps.push(s) });
  assert.deepEqual(
    steps.map((s) => [s.app, s.data]),
    [
      ['Set', 'PIN=4321'],
      ['DBLookup', 'R=q,***'],
      ['Playback', 'bye'],
    ],
  );
  assert.equal(c.vars.get('LASTAPP'), 'Playback');
  assert.equal(c.vars.get('LASTDATA'), 'bye');
  assert.equal(c.vars.get('DBLOOKUPSTATUS'), 'ERROR'); // no data sources configured
});

test('reload: a call in progress keeps the dialplan it started with; new calls get the new one', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  registerApp('TestGate', {
    synopsis: 'test only',
    async run() {
      entered();
      await gate;
    },
  });
  const engine = new DialplanEngine(parseExtensionsConfText('[c]\nexten => s,1,TestGate()\n same => n,Set(V=old)\n', 'old.conf', { registry }), { registry });
  const first = new MemoryChannel({ context: 'c' });
  const running = engine.run(first, first.media);
  await inside;
  engine.reload(parseExtensionsConfText('[c]\nexten => s,1,Set(V=new)\n', 'new.conf', { registry }));
  const second = new MemoryChannel({ context: 'c' });
  await engine.run(second, second.media);
  release();
  await running;
  assert.equal(first.vars.get('V'), 'old');
  assert.equal(second.vars.get('V'), 'new');
});

test('a bad expression is logged without the digits it held (a PIN could be among them) and yields ""', async () => {
  logs.length = 0;
  const c = await run('[c]\nexten => s,1,Set(PIN=7294)\n same => n,Set(R=[$[${PIN} +]])\n', {}, { log });
  assert.equal(c.vars.get('R'), '[]');
  const entry = logs.find((l) => l[1] === 'dialplan.substitution_error');
  assert.ok(entry);
  assert.ok(!JSON.stringify(entry).includes('7294'), JSON.stringify(entry));
});

test('a channel that fails outside an application, or a throwing onStep hook, never makes run() reject', async () => {
  const engine = new DialplanEngine(parseExtensionsConfText('[c]\nexten => s,1,NoOp()\n', 'e.conf'), {
    onStep: () => {
      throw new Error('hook');
    },
  });
  const c = new MemoryChannel({ context: 'c' });
  let calls = 0;
  c.hangup = async () => {
    if (calls++ === 0) throw new Error('socket gone');
    c.hungUp = true;
  };
  await engine.run(c, c.media);
  assert.equal(c.hungUp, true);
});

test('Gosub/Return: arguments as ${ARGn}, restored afterwards, nesting, ${GOSUB_RETVAL}; Return without Gosub ends the call', async () => {
  const conf = [
    '[c]',
    'exten => s,1,Set(ARG1=outer)',
    ' same => n,Gosub(sub-add,s,1(2,3))',
    ' same => n,Set(SUM=${GOSUB_RETVAL})',
    ' same => n,Set(AFTER=${ARG1})',
    ' same => n,Gosub(sub-twice,s,start(5))',
    ' same => n,Set(TWICE=${GOSUB_RETVAL})',
    ' same => n,Return()',
    ' same => n,Set(NEVER=1)',
    '[sub-add]',
    'exten => s,1,Return($[${ARG1} + ${ARG2}])',
    '[sub-twice]',
    'exten => s,1(start),Gosub(sub-add,s,1(${ARG1},${ARG1}))',
    ' same => n,Return(${GOSUB_RETVAL}:${ARG1})',
  ].join('\n');
  logs.length = 0;
  const c = await run(conf, {}, { log });
  assert.equal(c.vars.get('SUM'), '5');
  assert.equal(c.vars.get('AFTER'), 'outer');
  assert.equal(c.vars.get('TWICE'), '10:5');
  assert.equal(c.vars.get('NEVER'), undefined);
  assert.equal(logs.find((l) => l[1] === 'dialplan.return_failed')?.[2]?.reason, 'Return without Gosub: the stack is empty');
  assert.throws(
    () => parseExtensionsConfText('[c]\nexten => s,1,Gosub(sub-ad,s,1(1))\n[sub-add]\nexten => s,1,Return()\n', 'e.conf'),
    /Gosub\(sub-ad,s,1\(1\)\): no context \[sub-ad\]; did you mean sub-add\?/,
  );
  const deep = await run('[c]\nexten => s,1,Gosub(s,1)\n', {}, { log });
  assert.equal(deep.events.at(-1), 'hangup:normal');
  assert.match(String(logs.find((l) => l[1] === 'dialplan.gosub_failed')?.[2]?.reason), /nested more than 100 deep/);
});

test('Set(TIMEOUT(digit)) and TIMEOUT(response) change how long WaitExten waits; ${TIMEOUT()} reads them', async () => {
  const waits: number[] = [];
  const engine = new DialplanEngine(
    parseExtensionsConfText(
      '[c]\nexten => s,1,Set(TIMEOUT(digit)=2)\n same => n,Set(TIMEOUT(response)=7.5)\n same => n,Set(T=${TIMEOUT(response)})\n same => n,WaitExten()\nexten => 12,1,Set(R=12)\n',
      'e.conf',
    ),
  );
  const c = new MemoryChannel({ context: 'c', script: '12' });
  const orig = c.waitDigit.bind(c);
  c.waitDigit = (ms: number) => {
    waits.push(ms);
    return orig(ms);
  };
  await engine.run(c, c.media);
  assert.equal(c.vars.get('T'), '7.5');
  assert.equal(c.vars.get('R'), '12');
  assert.deepEqual(waits, [7500, 2000]);
});

test('Background: the 4th argument takes typed digits to another context; option m only stops on a one-digit extension', async () => {
  const conf = [
    '[c]',
    'exten => s,1,Background(menu,${OPTS},,${CTX})',
    ' same => n,Set(R=fell-through)',
    'exten => 42,1,Set(R=c42)',
    '[other]',
    'exten => 42,1,Set(R=other42)',
    'exten => 5,1,Set(R=other5)',
    'exten => i,1,Set(R=other-invalid:${INVALID_EXTEN})',
  ].join('\n');
  const go = (opts: string, ctx: string, script: string) => run(conf.replace('${OPTS}', opts).replace('${CTX}', ctx), { script });
  assert.equal((await go('', 'other', '42')).vars.get('R'), 'other42');
  assert.equal((await go('', '', '42')).vars.get('R'), 'c42');
  assert.equal((await go('', 'other', '9')).vars.get('R'), 'other-invalid:9');
  assert.equal((await go('m', 'other', '5')).vars.get('R'), 'other5');
  assert.equal((await go('m', 'other', '4~')).vars.get('R'), 'fell-through'); // 4 alone is no extension: playback just stops
});

test('ExecIf runs the application of the branch the condition picks', async () => {
  const conf = '[c]\nexten => s,1,Set(N=${N0})\n same => n,ExecIf($[${N} > 3]?Set(R=big,really):Set(R=small))\n same => n,ExecIf(0?Hangup())\n same => n,Set(AFTER=1)\n';
  const big = await run(conf.replace('${N0}', '5'), {});
  assert.equal(big.vars.get('R'), 'big,really');
  assert.equal(big.vars.get('AFTER'), '1');
  assert.equal((await run(conf.replace('${N0}', '1'), {})).vars.get('R'), 'small');
  const hang = await run('[c]\nexten => s,1,ExecIf(1?Hangup(17))\n same => n,Set(AFTER=1)\n', {});
  assert.deepEqual(hang.events, ['hangup:busy']);
  assert.equal(hang.vars.get('AFTER'), undefined);
});

test('servesExactly: numbers written out in some context are Palisade services; patterns are not, and a reload is seen', () => {
  const engine = new DialplanEngine(parseExtensionsConfText('[a]\nexten => 800,1,Answer()\nexten => _9.,1,NoOp()\n[b]\nexten => *97,1,NoOp()\n', 'extensions.conf'));
  assert.equal(engine.servesExactly('800'), true);
  assert.equal(engine.servesExactly('*97'), true);
  assert.equal(engine.servesExactly('9123'), false, 'a pattern may lead anywhere (a trunk later): not counted');
  assert.equal(engine.servesExactly('_9.'), false);
  engine.reload(parseExtensionsConfText('[a]\nexten => 801,1,Answer()\n', 'extensions.conf'));
  assert.equal(engine.servesExactly('800'), false);
  assert.equal(engine.servesExactly('801'), true);
});

test('staysInside: a number whose every extension places no call; one Dial(), jump, menu or unknown application anywhere keeps it outside', () => {
  const r = DialplanRegistry.builtin();
  r.registerApp('CallForward', { synopsis: 'test', placesNoCall: true, run: async () => {} });
  r.registerApp('Reach', { synopsis: 'test: a module application that may place a call', run: async () => {} });
  const conf = [
    '[features]',
    'exten => _*72X.,1,Answer()',
    ' same => n,CallForward(always,${EXTEN:3})',
    ' same => n,Playback(beep)',
    ' same => n,Hangup()',
    'exten => _*73X.,1,Set(T=${EXTEN:3})',
    ' same => n,Dial(PJSIP/${T}@trunk)',
    'exten => _*74X.,1,Goto(out,${EXTEN:3},1)',
    'exten => _*75X.,1,Background(menu)',
    'exten => _*76X.,1,Reach(${EXTEN:3})',
    'exten => _*77X./100,1,Dial(PJSIP/${EXTEN:3}@trunk)',
    'exten => _*77X.,1,Playback(beep)',
    'exten => _*78X.,1,ExecIf(1?Dial(PJSIP/${EXTEN:3}@trunk))',
    '[other]',
    'exten => _*79X.,1,Playback(beep)',
    'exten => _*7[0-8]999,1,Dial(PJSIP/${EXTEN}@trunk)',
    '[hangs-out]',
    'exten => _#5X.,1,NoOp()',
    'exten => h,1,Dial(PJSIP/0044@trunk)',
    '',
  ].join('\n');
  const engine = new DialplanEngine(parseExtensionsConfText(conf, 'extensions.conf', { registry: r }), { registry: r });
  assert.equal(engine.staysInside('*7200441234'), true, 'a CallForward code by pattern');
  assert.equal(engine.staysInside('*79123'), true, 'in another context too');
  assert.equal(engine.staysInside('*7300441234'), false, 'Dial() may reach a trunk');
  assert.equal(engine.staysInside('*7400441234'), false, 'a jump may land on a Dial()');
  assert.equal(engine.staysInside('*7500441234'), false, 'a menu may go anywhere');
  assert.equal(engine.staysInside('*7600441234'), false, 'an application not marked is taken to reach out');
  assert.equal(engine.staysInside('*7700441234'), false, 'a caller-ID variant that dials counts, whoever calls');
  assert.equal(engine.staysInside('*78123'), false, 'ExecIf() may run Dial()');
  assert.equal(engine.staysInside('*72999'), false, 'another context has a pattern that dials the same number');
  assert.equal(engine.staysInside('#5123'), false, "its context's h extension dials");
  assert.equal(engine.staysInside('*80'), false, 'nothing matches: not ours to count');
  assert.equal(engine.staysInside('0044123'), false);
  // the answers kept per number: asked again, and after more numbers than are kept, the same
  assert.equal(engine.staysInside('*7200441234'), true);
  for (let i = 0; i < 5000; i++) engine.staysInside(`*73${i}`);
  assert.deepEqual([engine.staysInside('*7200441234'), engine.staysInside('*7300441234')], [true, false]);
  engine.reload(parseExtensionsConfText('[features]\nexten => _*72X.,1,Dial(PJSIP/${EXTEN:3}@trunk)\n', 'extensions.conf', { registry: r }));
  assert.equal(engine.staysInside('*7200441234'), false, 'a reload is seen');
});

test('the path a call took is logged when it ends', async () => {
  logs.length = 0;
  const engine = new DialplanEngine(parseExtensionsConfText('[c]\nexten => 100,1,Answer()\n same => n,Playback(x)\n', 'extensions.conf'), { log });
  const c = new MemoryChannel({ context: 'c', dialed: '100' });
  await engine.run(c, c.media);
  const ended = logs.find((l) => l[1] === 'dialplan.ended');
  assert.equal(ended?.[2]?.path, 'c,100,1:Answer|c,100,2:Playback');
});
