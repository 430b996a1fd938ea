import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DialplanRegistry } from './dialplan-registry.js';
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
