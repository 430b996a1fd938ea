// Hold across a frame bridge (hold-link.ts): the music a held party hears
// and what it heard again once resumed, and two sides joined and parted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinHold, musicWhileHeld, type HoldLink } from './hold-link.js';
import { holdsBy } from '../media/sdp/sdp-query.js';
import type { FrameSource, MediaEndpoint } from '../media/media-endpoint.js';
import type { SdpDirection } from '../media/sdp/sdp-types.js';

const tone = (v: number): Int16Array => new Int16Array(480).fill(v);
const classes: Record<string, Int16Array[]> = { default: [tone(100)], jazz: [tone(200)] };
const moh = { load: (c: string) => classes[c] ?? [] };

function endpoint(): MediaEndpoint {
  return { codec: 'PCMU', source: null, echo: false, tapReceived: () => () => {}, tapSent: () => () => {}, tapDigits: () => () => {}, sendDigits: () => true };
}

/** the first sample of the next frame the endpoint's source gives (null: none) */
function next(src: FrameSource | null): number | null {
  const out = new Int16Array(160);
  return src?.nextFrame(out) ? out[0]! : null;
}

test('holdsBy: sendonly and inactive hold (RFC 3264 §8.4), sendrecv and recvonly do not; the address 0.0.0.0 holds (RFC 2543)', () => {
  const at = (address: string) => (direction: SdpDirection) => holdsBy({ direction, address });
  assert.deepEqual((['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const).map(at('127.0.0.1')), [false, true, false, true]);
  assert.deepEqual((['sendrecv', 'recvonly'] as const).map(at('0.0.0.0')), [true, true]);
  assert.equal(holdsBy({ direction: 'sendrecv', address: '::' }), true);
});

test('musicWhileHeld: the suggested class when there is one, else the fallback; what was heard before comes back on resume', () => {
  const ep = endpoint();
  const bridge: FrameSource = { nextFrame: (out) => (out.fill(7), true) };
  ep.source = bridge;
  const held = musicWhileHeld(ep, moh);
  held(true, 'jazz');
  assert.equal(next(ep.source), 200, 'the suggested class');
  held(true, 'default');
  assert.equal(next(ep.source), 200, 'a second hold changes nothing');
  held(false, '');
  assert.equal(ep.source, bridge);
  held(false, '');
  assert.equal(ep.source, bridge, 'a second resume changes nothing');
  held(true, 'no-such-class');
  assert.equal(next(ep.source), 100, 'an unknown class: the fallback');
  held(false, '');
  assert.equal(next(ep.source), 7);
  // a fallback class with no files: silence, never the other party's audio
  const quiet = musicWhileHeld(ep, moh, 'none');
  quiet(true, '');
  assert.equal(ep.source, null);
  quiet(false, '');
  assert.equal(ep.source, bridge);
});

test('musicWhileHeld: a source set by someone else meanwhile (a transfer) is left alone on resume', () => {
  const ep = endpoint();
  const held = musicWhileHeld(ep, moh);
  held(true, '');
  const other: FrameSource = { nextFrame: () => false };
  ep.source = other;
  held(false, '');
  assert.equal(ep.source, other);
});

test("joinHold: each side hears of the other's holds with the class suggested; parting resumes a side still held", () => {
  const log: string[] = [];
  const side = (n: string): HoldLink => ({ onHold: null, held: (on, cls) => log.push(`${n} ${on ? 'held' : 'resumed'}${cls ? ` ${cls}` : ''}`) });
  const a = side('a');
  const b = side('b');
  const part = joinHold(a, b);
  a.onHold?.(true, 'jazz');
  a.onHold?.(false, '');
  b.onHold?.(true, '');
  part();
  assert.deepEqual(log, ['b held jazz', 'b resumed', 'a held', 'a resumed']);
  assert.equal(a.onHold, null);
  assert.equal(b.onHold, null);
  // one side without hold: nothing is joined
  const c = side('c');
  joinHold(c, undefined)();
  assert.equal(c.onHold, null);
});
