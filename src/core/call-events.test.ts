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
