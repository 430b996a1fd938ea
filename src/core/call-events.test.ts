import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEventHub, type CallEvent } from './call-events.js';

const ev = (phase: CallEvent['phase'], extra: Partial<CallEvent> = {}): CallEvent => ({
  phase,
  callId: 'c1',
  from: '1001',
  to: '600',
  fromExtension: '1001',
  via: 'channel',
  at: 0,
  ...extra,
});
const reg = (extension: string, contacts: number) => ({
  extension,
  contact: `sip:${extension}@h`,
  registered: contacts > 0,
  kind: contacts > 0 ? ('added' as const) : ('removed' as const),
  contacts,
  via: 'sip',
  at: 0,
});

test('device state: unavailable without contacts, idle when registered, in use as a caller, ringing then in use as a Dial() callee, idle again when that leg is gone', () => {
  const hub = new CallEventHub();
  const states: string[] = [];
  hub.onDeviceState((x, s) => states.push(`${x}=${s}`));
  assert.equal(hub.deviceState('1002'), 'unavailable');
  hub.emitRegistration(reg('1001', 1));
  hub.emitRegistration(reg('1002', 2));
  assert.equal(hub.deviceState('1002'), 'idle');
  hub.emitCall(ev('start'));
  hub.emitCall(ev('answered')); // Palisade answers (an IVR): nobody else is in use
  assert.equal(hub.deviceState('1002'), 'idle');
  hub.emitCall(ev('ringing', { toExtension: '1002' }));
  assert.equal(hub.deviceState('1002'), 'ringing', 'the call was answered by Palisade, but 1002 only rings');
  hub.emitCall(ev('answered', { toExtension: '1002' }));
  assert.equal(hub.deviceState('1002'), 'inuse');
  hub.emitCall(ev('answered', { toExtension: '' }));
  assert.equal(hub.deviceState('1002'), 'idle');
  assert.equal(hub.activeCalls()[0]!.phase, 'answered');
  hub.emitCall(ev('end', { cause: 'normal' }));
  assert.deepEqual(hub.activeCalls(), []);
  hub.emitRegistration(reg('1002', 0));
  assert.deepEqual(states, ['1001=idle', '1002=idle', '1001=inuse', '1002=ringing', '1002=inuse', '1002=idle', '1001=idle', '1002=unavailable']);
});

test('call events: later phases keep the fields of earlier ones; the end carries them; a failing listener does not stop the others', () => {
  const hub = new CallEventHub();
  const seen: CallEvent[] = [];
  hub.onCall(() => {
    throw new Error('listener fault');
  });
  hub.onCall((e) => seen.push(e));
  hub.emitCall(ev('start', { sipCallId: 'abc@h', channel: 'SIP/1001-1' }));
  hub.emitCall(ev('ringing', { toExtension: '1002' }));
  hub.emitCall({ phase: 'end', callId: 'c1', from: '1001', to: '600', via: 'channel', at: 5, cause: 'busy' });
  assert.equal(seen.length, 3);
  assert.equal(seen[2]!.sipCallId, 'abc@h');
  assert.equal(seen[2]!.toExtension, '1002');
  assert.equal(seen[2]!.cause, 'busy');
  assert.equal(seen[2]!.at, 5);
});

test("another worker's calls (sip.workers > 1): device states and the call list count them; only every-worker listeners hear them; the worker's end ends them", () => {
  const hub = new CallEventHub();
  const local: string[] = [];
  const every: string[] = [];
  const states: string[] = [];
  hub.onCall((e) => local.push(`${e.callId}:${e.phase}`));
  hub.onCall((e) => every.push(`${e.callId}:${e.phase}`), { everyWorker: true });
  hub.onDeviceState((x, s) => states.push(`${x}=${s}`));
  hub.emitRegistration(reg('1002', 1));
  // worker 1 holds c9: 1001 calls 1002, which rings, then answers
  hub.emitRemote(ev('start', { callId: 'c9' }), 1);
  hub.emitRemote(ev('ringing', { callId: 'c9', toExtension: '1002' }), 1);
  assert.equal(hub.deviceState('1002'), 'ringing');
  hub.emitRemote(ev('answered', { callId: 'c9', toExtension: '1002' }), 1);
  assert.equal(hub.deviceState('1002'), 'inuse');
  assert.equal(hub.deviceState('1001'), 'inuse');
  // this worker's own call c1 alongside
  hub.emitCall(ev('start', { fromExtension: '1003' }));
  assert.deepEqual(
    hub.activeCalls().map((c) => `${c.callId}:${c.phase}`),
    ['c9:answered', 'c1:start'],
  );
  // only its own calls are handed on to the other workers (ownCalls) and heard by plain listeners
  assert.deepEqual(
    hub.ownCalls().map((c) => c.callId),
    ['c1'],
  );
  assert.deepEqual(local, ['c1:start']);
  assert.deepEqual(every, ['c9:start', 'c9:ringing', 'c9:answered', 'c1:start']);
  // a remote event never takes over a call id this worker holds
  hub.emitRemote(ev('end', { callId: 'c1' }), 1);
  assert.equal(hub.deviceState('1003'), 'inuse');
  // worker 1 dies: its call ends, with a cause that says so
  hub.dropWorker(1);
  assert.equal(hub.deviceState('1002'), 'idle');
  assert.equal(hub.deviceState('1001'), 'unavailable', 'no call, no contact');
  assert.deepEqual(
    hub.activeCalls().map((c) => c.callId),
    ['c1'],
  );
  assert.equal(every.at(-1), 'c9:end');
  assert.deepEqual(local, ['c1:start']);
  assert.deepEqual(states, ['1002=idle', '1001=inuse', '1002=ringing', '1002=inuse', '1003=inuse', '1001=unavailable', '1002=idle']);
});

test("a call's latest state is what ownCalls hands a worker that starts later: the new worker derives the same device states", () => {
  const hub = new CallEventHub();
  // c1: answered by 1002, then transferred so that 1004 rings; c2: Palisade answered (an IVR), nobody rings; c3: 1006 answered
  hub.emitCall(ev('start'));
  hub.emitCall(ev('answered', { toExtension: '1002' }));
  hub.emitCall(ev('ringing', { toExtension: '1004' }));
  hub.emitCall(ev('answered', { callId: 'c2', fromExtension: '1003' }));
  hub.emitCall(ev('ringing', { callId: 'c3', fromExtension: '1005', toExtension: '1006' }));
  hub.emitCall(ev('answered', { callId: 'c3', fromExtension: '1005', toExtension: '1006' }));
  const own = hub.ownCalls();
  assert.deepEqual(
    own.map((c) => `${c.callId}:${c.phase}:${c.toExtension ?? ''}`),
    ['c1:ringing:1004', 'c2:answered:', 'c3:answered:1006'],
  );
  const other = new CallEventHub();
  for (const c of own) other.emitRemote(c, 0);
  for (const x of ['1001', '1002', '1003', '1004', '1005', '1006']) assert.equal(other.deviceState(x), hub.deviceState(x), x);
  assert.equal(other.deviceState('1004'), 'ringing');
  assert.equal(other.deviceState('1006'), 'inuse');
});

test('remoteRinging: the calls other workers hold whose callee rings, with the extensions rung; answered ones and own ones left out', () => {
  const hub = new CallEventHub();
  hub.emitCall(ev('ringing', { callId: 'mine', toExtension: '1002' }));
  hub.emitRemote(ev('ringing', { callId: 'r1', fromExtension: '1001', toExtension: '1002' }), 1);
  hub.emitRemote(
    ev('ringing', {
      callId: 'r2',
      fromExtension: '1004',
      early: [
        { extension: '1005', callId: 'x', phoneTag: 'p', pickupTag: 'k' },
        { extension: '1006', callId: 'y', phoneTag: 'q', pickupTag: 'l' },
      ],
    }),
    2,
  );
  hub.emitRemote(ev('answered', { callId: 'r3', toExtension: '1007' }), 1);
  assert.deepEqual(
    hub.remoteRinging().map((r) => [r.event.callId, r.worker, r.rung]),
    [
      ['r1', 1, ['1002']],
      ['r2', 2, ['1005', '1006']],
    ],
  );
  hub.emitRemote(ev('answered', { callId: 'r1', toExtension: '1002' }), 1);
  assert.deepEqual(
    hub.remoteRinging().map((r) => r.event.callId),
    ['r2'],
  );
});
