// The reliable layer (RFC 5456 §7) with a clock that stands still: frames
// are retransmitted with the R bit until acknowledged, an ACK or any frame
// with a later iseq acknowledges, a gap is answered with VNAK and a VNAK
// brings the missing frames again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameType, IaxCmd } from './iax2-constants.js';
import { buildFull, type FullFrame, parseFrame } from './iax2-frame.js';
import { Iax2Session, type Iax2Clock } from './iax2-session.js';

class StillClock implements Iax2Clock {
  t = 0;
  private timers: Array<{ due: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const e = { due: this.t + ms, fn, live: true };
    this.timers.push(e);
    return () => {
      e.live = false;
    };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.live && x.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      next.live = false;
      this.t = next.due;
      next.fn();
    }
    this.t = end;
  }
}

function rig() {
  const clock = new StillClock();
  const sent: FullFrame[] = [];
  const s = new Iax2Session(
    10,
    { address: '127.0.0.1', port: 4569 },
    {
      send: (b) => sent.push(parseFrame(b) as FullFrame),
      clock,
      retransmitMs: 500,
      maxTries: 4,
    },
  );
  s.remoteCall = 20;
  const got: FullFrame[] = [];
  s.onFrame = (f) => got.push(f);
  return { clock, sent, s, got };
}

const frame = (oseq: number, iseq: number, subclass: number = IaxCmd.PING, type: number = FrameType.IAX): FullFrame =>
  parseFrame(buildFull({ src: 20, dst: 10, ts: 5, oseq, iseq, type, subclass })) as FullFrame;

test('a frame is retransmitted with the R bit, doubling the interval, until the tries run out', () => {
  const { clock, sent, s } = rig();
  let timedOut = false;
  s.onTimeout = () => (timedOut = true);
  s.send(FrameType.IAX, IaxCmd.NEW);
  clock.advance(499);
  assert.equal(sent.length, 1);
  clock.advance(1);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.retrans, true);
  assert.equal(sent[1]!.oseq, 0, 'the same sequence number');
  clock.advance(1000);
  assert.equal(sent.length, 3);
  clock.advance(2000);
  assert.equal(sent.length, 4);
  assert.equal(timedOut, false);
  clock.advance(4000);
  assert.equal(timedOut, true, 'gives up after maxTries sends');
});

test('an ACK (or any frame whose iseq is past ours) stops the retransmission', () => {
  const { clock, sent, s } = rig();
  s.send(FrameType.IAX, IaxCmd.NEW);
  s.send(FrameType.CONTROL, 3);
  s.receive(frame(0, 1, IaxCmd.ACK));
  assert.equal(s.idle, false, 'the second frame still waits');
  s.receive(frame(0, 2, IaxCmd.PING));
  assert.equal(s.idle, true);
  const before = sent.length;
  clock.advance(10_000);
  assert.equal(sent.filter((f) => f.retrans).length, 0);
  assert.ok(sent.length >= before, 'only the ACK of the PING went out');
});

test('frames in order are delivered and acknowledged; a duplicate is ACKed again and not delivered; a gap gets VNAK', () => {
  const { sent, s, got } = rig();
  s.receive(frame(0, 0));
  assert.equal(got.length, 1);
  const ack = sent.at(-1)!;
  assert.deepEqual([ack.type, ack.subclass, ack.iseq, ack.ts], [FrameType.IAX, IaxCmd.ACK, 1, 5], 'ACK carries the next iseq and the frame timestamp');
  s.receive(frame(0, 0)); // the peer did not see our ACK
  assert.equal(got.length, 1, 'not delivered twice');
  assert.equal(sent.at(-1)!.subclass, IaxCmd.ACK);
  s.receive(frame(3, 0)); // 1 and 2 were lost
  assert.equal(got.length, 1);
  const vnak = sent.at(-1)!;
  assert.deepEqual([vnak.subclass, vnak.iseq], [IaxCmd.VNAK, 1]);
});

test('a VNAK brings every unacknowledged frame from its iseq again', () => {
  const { sent, s } = rig();
  s.send(FrameType.IAX, IaxCmd.PING);
  s.send(FrameType.IAX, IaxCmd.LAGRQ);
  s.send(FrameType.CONTROL, 4);
  sent.length = 0;
  s.receive(frame(0, 1, IaxCmd.VNAK));
  assert.deepEqual(
    sent.map((f) => [f.oseq, f.retrans]),
    [
      [1, true],
      [2, true],
    ],
  );
});

test('timestamps never go back; restart() puts both sequence numbers to 0 (a frame resent with a call token)', () => {
  const { clock, s, sent } = rig();
  const a = s.timestamp();
  const b = s.timestamp();
  assert.ok(b > a);
  clock.advance(100);
  s.send(FrameType.IAX, IaxCmd.NEW);
  s.receive(frame(0, 1, IaxCmd.ACK));
  s.restart();
  s.send(FrameType.IAX, IaxCmd.NEW);
  assert.equal(sent.at(-1)!.oseq, 0);
  assert.equal(sent.at(-1)!.iseq, 0);
  assert.equal(sent.at(-1)!.dst, 0);
});
