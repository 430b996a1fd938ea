import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diversion } from '../core/call-diversion.js';
import type { DialOptions, DialResult, DialTarget } from './channel.js';
import { dialForwardPlan, dialWithForward } from './dial-forward.js';

const NONE: Diversion = { dnd: false, always: '', busy: '', noAnswer: '', noAnswerSecs: 20 };
const host = (d: Record<string, Partial<Diversion>>) => ({
  extension: (n: string) => (['1001', '1002', '1003'].includes(n) ? { number: n } : undefined),
  diversionOf: (n: string) => (d[n] ? { ...NONE, ...d[n] } : undefined),
});
const sip = (n: string): DialTarget => ({ tech: 'SIP', resource: n });

test('a plan only for one extension dialled alone, with a busy or no-answer forward to an extension', () => {
  const h = host({ '1001': { busy: '1002', noAnswer: '1003', noAnswerSecs: 5 }, '1002': { dnd: true, busy: '1003' }, '1003': { always: '1001', busy: '1002' } });
  assert.deepEqual(dialForwardPlan([sip('1001')], h), { extension: '1001', busy: '1002', noAnswer: '1003', noAnswerMs: 5000 });
  assert.equal(dialForwardPlan([sip('1001'), sip('1002')], h), null, 'several targets: the ordinary Dial()');
  assert.equal(dialForwardPlan([sip('1002')], h), null, 'DND is the ordinary Dial()');
  assert.equal(dialForwardPlan([sip('1003')], h), null, 'forward always is the ordinary Dial()');
  assert.equal(dialForwardPlan([{ tech: 'IAX2', resource: '1001' }], h), null);
  assert.equal(dialForwardPlan([sip('1001')], host({ '1001': { busy: '9999' } })), null, 'a target that is no extension');
});

/** runs dialWithForward over scripted results; returns what was dialled with which timeout */
async function run(plan: NonNullable<ReturnType<typeof dialForwardPlan>>, timeoutMs: number, results: DialResult['status'][]) {
  const calls: Array<[string, number]> = [];
  const logged: Array<Record<string, unknown>> = [];
  const r = await dialWithForward(
    plan,
    [sip(plan.extension)],
    { timeoutMs, options: '' },
    async (t: DialTarget[], o: DialOptions) => {
      calls.push([t[0]!.resource, o.timeoutMs]);
      return { status: results.shift()! };
    },
    () => false,
    (f) => logged.push(f),
  );
  return { status: r.status, calls, logged };
}

test('busy goes to the busy target; the no-answer time cuts the ring only when shorter than the Dial() timeout', async () => {
  const plan = { extension: '1001', busy: '1002', noAnswer: '1003', noAnswerMs: 5000 };
  const b = await run(plan, 20_000, ['BUSY', 'ANSWER']);
  assert.equal(b.status, 'ANSWER');
  assert.equal(b.calls[0]![1], 5000, 'the first ring is the no-answer time');
  assert.equal(b.calls[1]![0], '1002');
  assert.deepEqual(b.logged, [{ to: '1001', target: '1002', why: 'busy' }]);
  const n = await run(plan, 20_000, ['NOANSWER', 'ANSWER']);
  assert.equal(n.calls[1]![0], '1003');
  assert.ok(n.calls[1]![1] > 19_000 && n.calls[1]![1] <= 20_000, `what is left of the timeout (no time passed here): ${n.calls[1]![1]}`);
  const long = await run(plan, 3000, ['NOANSWER']);
  assert.deepEqual(long.calls, [['1001', 3000]], "Dial()'s own timeout ends first: no forward");
  assert.equal(long.status, 'NOANSWER');
  const none = await run(plan, 0, ['NOANSWER', 'ANSWER']);
  assert.deepEqual(none.calls, [
    ['1001', 5000],
    ['1003', 0],
  ]);
  const c = await run({ ...plan, busy: '' }, 20_000, ['BUSY']);
  assert.equal(c.status, 'BUSY', 'no busy forward: BUSY stands');
});
