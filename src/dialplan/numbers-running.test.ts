import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DialplanRegistry } from './dialplan-registry.js';
import { DialplanEngine } from './engine.js';
import { MemoryChannel } from '../../test/support/memory-channel.js';
import { parseExtensionsConfText } from './parse-extensions-conf.js';
import { appReached, homeOfNumber, homeOfTarget, numbersRunning } from './numbers-running.js';

function dialplan(text: string) {
  const registry = DialplanRegistry.builtin();
  for (const name of ['Queue', 'ConfBridge', 'Pickup', 'ParkedCall']) registry.registerApp(name, { name, synopsis: name, run: async () => undefined } as never);
  return parseExtensionsConfText(text, 'extensions.conf', { registry });
}

const DP = `
[queues]
exten => 600,1,Answer()
 same => n,Queue(support)
exten => _61X,1,Queue(q\${EXTEN:2})
exten => 699,1,Dial(SIP/1001)
exten => 698,1,Goto(600,1)

[from-trunk]
; DIDs: straight to the queue's extension, through a chain of jumps, or by a pattern
exten => 4930123456,1,Goto(queues,600,1)
exten => 4930123457,1,Goto(ivr,s,1)
exten => _49301235XX,1,GotoIf($["\${CALLERID(num)}" = "1"]?queues,699,1:queues,611,1)
exten => 4930123458,1,Goto(queues,\${EXTEN:-3},1)
exten => 4930123459,1,Gosub(sub-rec,s,1(600))
 same => n,Dial(SIP/1002)
; a target made of the number: the last three digits pick the queues' extension
exten => _4930124XXX,1,Goto(queues,\${EXTEN:-3},1)
exten => _4930125XXX,1,GotoIf($[\${CALLERID(num)} = 1]?queues,\${EXTEN:7:3},1:default,5001,1)
exten => _4930126XXX,1,Goto(queues,\${OTHER},1)

[ivr]
exten => s,1,Background(menu)
 same => n,Goto(1,1)
exten => 1,1,Goto(queues,600,1)
exten => 2,1,Goto(rooms,800,1)

[rooms]
include => room-list
[room-list]
exten => 800,1,ConfBridge(all)

[sub-rec]
exten => s,1,Return()

[default]
exten => 5000,1,Goto(from-trunk,4930123456,1)
exten => 5001,1,Goto(tail)
 same => n(tail),Hangup()
exten => 5002,1,Goto(from-trunk,4930124600,1)
exten => 5003,1,Goto(from-trunk,4930124699,1)

[pickups]
exten => _7XXX,1,Answer()
 same => n,Pickup(\${EXTEN:1}@default)
exten => *85701,1,ParkedCall(\${EXTEN:3})
exten => 8899,1,Goto(pickups,7102,1)
exten => 8898,1,Pickup(\${CHOICE})

[by-variable]
; targets made of other variables (a Read(), a database answer)
exten => 6300,1,Set(T=01)
 same => n,Goto(lines,\${T},1)
exten => 6301,1,Goto(\${DEST},1)
exten => 6302,1,Goto(no-lines,\${T},1)
exten => 6303,1,GotoIf($[\${X} = 1]?\${CTX},s,1)
exten => 6304,1,Goto(lines,02,\${PRIO})
[lines]
exten => 01,1,Goto(queues,600,1)
exten => 02,1,Hangup()
[no-lines]
exten => 01,1,Hangup()
`;

test('numbersRunning: exact extensions, patterns, and the written-out jumps that lead to them, in any context', () => {
  const dp = dialplan(DP);
  const q = numbersRunning(dp, ['queue']);
  assert.deepEqual([...q.exact].sort(), ['01', '1', '4930123456', '4930123457', '5000', '600', '6300', '6301', '6303', '698', 's'].sort());
  assert.deepEqual([...q.patterns].sort(), ['_49301235XX', '_4930126XXX', '_61X']);
  for (const n of ['600', '698', '611', '619', '4930123456', '4930123457', '4930123500', '5000']) assert.ok(q.has(n), `${n} leads to Queue()`);
  // 699 dials a phone; 4930123458's target, made of the number, is 458, which is no queue; a Gosub that returns is no jump there; 5001 jumps inside itself
  for (const n of ['699', '4930123458', '4930123459', '5001', '62', '6100']) assert.equal(q.has(n), false, `${n} does not`);
  // a target made of the number: worked out per number (${EXTEN:-3}; ${EXTEN:7:3} in a GotoIf, whose colons are not branches)
  for (const n of ['4930124600', '4930124611', '4930125600', '4930125615']) assert.ok(q.has(n), `${n} leads to Queue() through its own digits`);
  for (const n of ['4930124699', '4930124500', '4930125699']) assert.equal(q.has(n), false, `${n}: its digits pick no queue`);
  // a target made of another variable: any extension it may name
  assert.ok(q.has('4930126600'), 'Goto(queues,${OTHER},1): some extension of [queues] runs Queue()');
  assert.ok(q.has('4930126999'), '... whatever the digits');
  assert.ok(q.has('6300'), 'Goto(lines,${T},1): [lines] has a jump to the queue');
  assert.ok(q.has('6301'), 'Goto(${DEST},1): the variable may name any context and extension');
  assert.ok(q.has('6303'), 'a GotoIf branch whose context is a variable');
  assert.equal(q.has('6302'), false, 'Goto(no-lines,${T},1): nothing in [no-lines] leads to a queue');
  assert.equal(q.has('6304'), false, 'a variable priority keeps the written-out extension (lines,02 hangs up)');
  assert.equal(numbersRunning(dp, ['morsecode']).has('6301'), false, 'a jump anywhere leads nowhere when no extension runs the application');
  // a named jump into such an extension: the number there is the jump's
  assert.ok(q.has('5002'), '5002 jumps to 4930124600, whose last digits are 600');
  assert.equal(q.has('5003'), false, '5003 jumps to 4930124699: a phone');
  assert.equal(q.has('4930124600'), true, 'asked again: the remembered answer');
  const rooms = numbersRunning(dp, ['confbridge']);
  assert.ok(rooms.has('800'), 'the room itself (in an included context)');
  assert.ok(rooms.has('2'), 'the IVR key that jumps to a context including the room');
  assert.ok(rooms.has('4930123457'), 'a menu (Background) may go to any key of its context: key 2 reaches the room');
  assert.equal(rooms.has('600'), false);
  assert.equal(rooms.has('6300'), false, '[lines] leads to a queue, not to a room');
  assert.ok(rooms.has('6301'), 'anywhere: a room too');
  assert.equal(numbersRunning(dp, ['queue']), q, 'built once per dialplan');
});

test("homeOfNumber and homeOfTarget: the worker that holds what a number, or an inbound route's target, leads to", () => {
  const dp = dialplan(DP);
  const homes = new Map([
    ['queue', 0],
    ['confbridge', 0],
  ]);
  assert.equal(homeOfNumber(homes, dp, '4930123456'), 0);
  assert.equal(homeOfNumber(homes, dp, '800'), 0);
  assert.equal(homeOfNumber(homes, dp, '699'), -1);
  assert.equal(homeOfNumber(new Map(), dp, '600'), -1, 'nothing homed: nothing steered');
  // an inbound route's `to: "ivr,1,1"` and `to: "queues,611,1"` lead to Queue(); `to: "ivr,2,1"` to a room; `to: "queues,699,1"` nowhere held
  assert.equal(homeOfTarget(homes, dp, 'ivr', '1'), 0);
  assert.equal(homeOfTarget(homes, dp, 'queues', '611'), 0, 'a pattern extension of the target context');
  assert.equal(homeOfTarget(homes, dp, 'ivr', '2'), 0);
  assert.equal(homeOfTarget(homes, dp, 'queues', '699'), -1);
  assert.equal(homeOfTarget(homes, dp, 'nowhere', '600'), -1);
  // a room homed in another worker (a future split): its numbers go there
  assert.equal(homeOfNumber(new Map([['confbridge', 1]]), dp, '800'), 1);
});

test('appReached: the Pickup() or ParkedCall() a number runs, its ${EXTEN} worked out, through written-out jumps', () => {
  const dp = dialplan(DP);
  const apps = ['parkedcall', 'pickup'];
  assert.deepEqual(appReached(dp, '7102', apps), { app: 'pickup', data: '102@default' });
  assert.deepEqual(appReached(dp, '*85701', apps), { app: 'parkedcall', data: '701' });
  assert.deepEqual(appReached(dp, '8899', apps), { app: 'pickup', data: '102@default' }, 'the jump to 7102 makes 7102 the number there');
  assert.equal(appReached(dp, '8898', apps), null, 'an argument made of another variable');
  assert.equal(appReached(dp, '600', apps), null, 'Queue() is not asked about');
  assert.equal(appReached(dp, '7102', apps), appReached(dp, '7102', apps), 'remembered');
});

test('appReached takes the extension the engine takes: the best pattern, not the first written', async () => {
  const text = `
[office]
exten => _7X.,1,Pickup(\${EXTEN:1})
exten => _76X.,1,Pickup(\${EXTEN:2})
exten => _5X.,1,Queue(sales)
exten => _55X.,1,Dial(SIP/1001)
`;
  const dp = dialplan(text);
  // 761002: both patterns match; Asterisk's order prefers 6 (a digit) over X at the second place
  assert.deepEqual(appReached(dp, '761002', ['pickup']), { app: 'pickup', data: '1002' });
  assert.deepEqual(appReached(dp, '771002', ['pickup']), { app: 'pickup', data: '71002' });
  // (numbersRunning stays wider on purpose: a number any of whose patterns may queue goes where the queue is)
  assert.equal(numbersRunning(dp, ['queue']).has('5523'), true);
  // the engine agrees: what it runs for each number
  const ran: string[] = [];
  const registry = DialplanRegistry.builtin();
  for (const name of ['Pickup', 'Queue', 'Dial']) registry.registerApp(name, { synopsis: name, run: async (_call, _args, data) => void ran.push(`${name}:${data}`) });
  const engine = new DialplanEngine(parseExtensionsConfText(text, 'extensions.conf', { registry }), { registry });
  for (const [n, want] of [
    ['761002', 'Pickup:1002'],
    ['771002', 'Pickup:71002'],
    ['5123', 'Queue:sales'],
    ['5523', 'Dial:SIP/1001'],
  ] as const) {
    ran.length = 0;
    const c = new MemoryChannel({ context: 'office', dialed: n });
    await engine.run(c, c.media);
    assert.deepEqual(ran, [want], n);
  }
});

const VARS = `
[office]
; the two common forms: the target or slot kept in a variable first
exten => _**X.,1,Set(TARGET=\${EXTEN:2})
 same => n,Pickup(\${TARGET})
exten => _7XX,1,Set(SLOT=\${EXTEN})
 same => n,NoOp(parking \${SLOT})
 same => n,ParkedCall(\${SLOT})
; chained and nested, with the inheritance prefixes and the spaces Set() takes
exten => _*81XXX,1,Set(__EXT=\${EXTEN:3})
 same => n,Set( _WHERE =\${EXT}@default)
 same => n,Answer()
 same => n,Pickup(\${WHERE})
exten => _*80XXX,1,Set(A=\${EXTEN:3})
 same => n,Set(B=A)
 same => n,Pickup(\${\${B}})
; a piece of a known variable
exten => _*82XXXX,1,Set(CODE=\${EXTEN:1})
 same => n,ParkedCall(\${CODE:-3})
exten => _*79XXXX,1,Set(CODE=x\${EXTEN:1})
 same => n,ParkedCall(\${CODE:2:3})
; across a written-out Goto, one made of the number, and a Goto to a label past a Set
exten => _*83XXX,1,Set(SLOT=\${EXTEN:3})
 same => n,Goto(take,s,1)
exten => _*84XXX,1,Set(T=\${EXTEN:3})
 same => n,Goto(pick-by,\${EXTEN:3},1)
exten => *86,1,Set(SLOT=701)
 same => n,Goto(take-at,s,go)
; a value Set() leaves empty reads as the global
exten => *87,1,Set(SLOT=)
 same => n,ParkedCall(\${SLOT})

; a ParkedCall() in another context, reached by a GotoIf() branch or by a Goto()
exten => 950,1,Set(SLOT=701)
 same => n,GotoIf($[\${X} = 1]?take,s,1)
exten => 951,1,Set(SLOT=701)
 same => n,Goto(take,s,1)
; priority 2 missing: the call ends after 1
exten => 952,1,Set(SLOT=701)
 same => 3,ParkedCall(\${SLOT})
exten => 953,1,Set(SLOT=701)
 same => 2,ParkedCall(\${SLOT})

[take]
exten => s,1,ParkedCall(\${SLOT})
[take-at]
exten => s,1,Set(SLOT=799)
 same => n(go),ParkedCall(\${SLOT})
[pick-by]
exten => _XXX,1,Pickup(\${T}@\${EXTEN})
[sub]
exten => s,1,Return()

[globals]
SLOT=703
`;

test('appReached: an argument kept in a variable by Set() on the way is worked out, as the engine would', () => {
  const dp = dialplan(VARS);
  const apps = ['parkedcall', 'pickup'];
  assert.deepEqual(appReached(dp, '**102', apps), { app: 'pickup', data: '102' }, 'Set(TARGET=${EXTEN:2}), Pickup(${TARGET})');
  assert.deepEqual(appReached(dp, '701', apps), { app: 'parkedcall', data: '701' }, 'Set(SLOT=${EXTEN}), NoOp(), ParkedCall(${SLOT})');
  assert.deepEqual(appReached(dp, '*81102', apps), { app: 'pickup', data: '102@default' }, 'a variable made of another, the _ and __ prefixes dropped, the name trimmed');
  assert.deepEqual(appReached(dp, '*80105', apps), { app: 'pickup', data: '105' }, '${${B}}: the name itself a known variable');
  assert.deepEqual(appReached(dp, '*821712', apps), { app: 'parkedcall', data: '712' }, '${CODE:-3}');
  assert.deepEqual(appReached(dp, '*791712', apps), { app: 'parkedcall', data: '917' }, '${CODE:2:3} of x791712');
  assert.deepEqual(appReached(dp, '*83705', apps), { app: 'parkedcall', data: '705' }, 'kept across Goto(take,s,1)');
  assert.deepEqual(appReached(dp, '*84103', apps), { app: 'pickup', data: '103@103' }, 'kept across a Goto made of the number');
  assert.deepEqual(appReached(dp, '*86', apps), { app: 'parkedcall', data: '701' }, 'Goto(take-at,s,go) lands past the Set() of 799');
  assert.deepEqual(appReached(dp, '*87', apps), { app: 'parkedcall', data: '703' }, 'Set(SLOT=) clears the variable: the global shows');
});

test('appReached agrees with the engine: the argument each of those calls runs Pickup() or ParkedCall() with', async () => {
  const ran: string[] = [];
  const registry = DialplanRegistry.builtin();
  for (const name of ['Pickup', 'ParkedCall']) registry.registerApp(name, { synopsis: name, run: async (_call, _args, data) => void ran.push(`${name.toLowerCase()}:${data}`) });
  const dp = parseExtensionsConfText(VARS, 'extensions.conf', { registry });
  const engine = new DialplanEngine(dp, { registry });
  for (const n of ['**102', '701', '*81102', '*80105', '*821712', '*791712', '*83705', '*84103', '*86', '*87']) {
    ran.length = 0;
    const c = new MemoryChannel({ context: 'office', dialed: n });
    await engine.run(c, c.media);
    const r = appReached(dp, n, ['parkedcall', 'pickup']);
    assert.deepEqual(ran, [`${r?.app}:${r?.data}`], `${n}: the engine ran ${ran.join(', ')}`);
  }
});

// a variable only the call decides: the steps before Pickup(${T}) that leave T unknown, and their twin with that one
// step made harmless, which is known (so the null is that step's doing, not the analysis giving up)
const UNKNOWN: Array<[string, string[], string[]]> = [
  ['a database answer (DBLookup)', ['DBLookup(T=who,${EXTEN})'], ['Set(T=${EXTEN})']],
  ['a function (CUT)', ['Set(T=${CUT(EXTEN,-,1)})'], ['Set(T=${EXTEN:0:1})']],
  ['${CALLERID(num)}', ['Set(T=${CALLERID(num)})'], ['Set(T=${EXTEN})']],
  ['a variable never set on the way', ['Set(T=${OTHER})'], ['Set(T=${EXTEN})']],
  ['Set() again to an unknown value', ['Set(T=${EXTEN})', 'Set(T=${OTHER})'], ['Set(T=${EXTEN})', 'Set(T=${T})']],
  ['Read() between the Set() and the app', ['Set(T=${EXTEN})', 'Read(T,beep,3)'], ['Set(T=${EXTEN})', 'Playback(beep)']],
  ['a Set() inside ExecIf()', ['ExecIf($[${X} = 1]?Set(T=101))'], ['Set(T=101)']],
  ['a Set() after a GotoIf() that may skip it', ['GotoIf($[${X} = 1]?go)', 'Set(T=101)'], ['NoOp(${X})', 'Set(T=101)']],
  ['a Gosub() between the Set() and the app', ['Set(T=101)', 'Gosub(sub,s,1)'], ['Set(T=101)', 'Wait(1)']],
  ['names are case-sensitive: Set(t=...) is not ${T}', ['Set(t=101)'], ['Set(T=101)']],
  ['an expression $[...] is not worked out', ['Set(T=$[${EXTEN} + 1])'], ['Set(T=${EXTEN}1)']],
  ['a Set() whose name is a variable may set any', ['Set(T=101)', 'Set(${NAME}=7)'], ['Set(T=101)', 'Set(NAME=7)']],
  ['LASTAPP: the engine writes it at every step', ['Set(LASTAPP=101)', 'Set(T=${LASTAPP})'], ['Set(L=101)', 'Set(T=${L})']],
  ['CALLERID(num) set: another caller-ID extension may run on', ['Set(T=101)', 'Set(CALLERID(num)=5)'], ['Set(T=101)', 'Set(CALLERID(name)=Desk)']],
];

test('appReached: a variable only the call decides is not known, and the call is not steered', () => {
  const lines = ['[unknown]'];
  const number = (i: number, twin: boolean) => String(9000 + i * 10 + (twin ? 1 : 0));
  UNKNOWN.forEach(([, steps, twin], i) => {
    for (const [n, st] of [
      [number(i, false), steps],
      [number(i, true), twin],
    ] as const) {
      lines.push(`exten => ${n},1,NoOp()`, ...st.map((x) => ` same => n,${x}`), ' same => n(go),Pickup(${T})');
    }
  });
  const dp = dialplan(`${VARS}\n${lines.join('\n')}\n`);
  const apps = ['parkedcall', 'pickup'];
  UNKNOWN.forEach(([why, steps], i) => {
    assert.equal(appReached(dp, number(i, false), apps), null, `${why}: ${steps.join(', ')}`);
    assert.notEqual(appReached(dp, number(i, true), apps), null, `${why}: the twin is known`);
  });
  assert.equal(appReached(dp, '950', apps), null, 'the way on from a GotoIf() branch');
  assert.deepEqual(appReached(dp, '951', apps), { app: 'parkedcall', data: '701' }, '... from a Goto()');
  assert.equal(appReached(dp, '952', apps), null, 'priority 2 missing: the call ends before 3');
  assert.deepEqual(appReached(dp, '953', apps), { app: 'parkedcall', data: '701' });
});
