import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DialTechnologies, type DialContext, type DialOutcome, type OutboundLeg } from './dial-technology.js';
import { dialOutside } from './outside-call.js';
import type { AnsweredLeg } from './sip-dial.js';
import type { MediaSession } from '../media/media-session.js';

const by = { number: '1002', name: 'Bob', context: 'office', remote: { transport: 'udp' as const, address: '127.0.0.9', port: 5062 } };
const channel = { name: 'SIP/1001-00000001', id: 'pal-1.c1' };

/** a ROUTE technology that records what it was asked and answers with `outcome` */
function routes(outcome: () => DialOutcome, known = (n: string) => n.startsWith('0')) {
  const asked: { resource: string; ctx: DialContext }[] = [];
  const cancelled: string[] = [];
  const reg = new DialTechnologies();
  reg.register({
    names: ['ROUTE'],
    dial(t, ctx) {
      if (!known(t.resource)) return null;
      asked.push({ resource: t.resource, ctx });
      return { result: Promise.resolve(outcome()), onRinging: null, cancel: () => cancelled.push(t.resource) };
    },
  });
  return { reg, asked, cancelled };
}

test('dialOutside: null without routes or when no route takes the number; nothing is dialled', () => {
  assert.equal(
    dialOutside(undefined, '0301234567', by, channel, () => undefined),
    null,
  );
  assert.equal(
    dialOutside(new DialTechnologies(), '0301234567', by, channel, () => undefined),
    null,
  );
  const r = routes(() => ({ status: 'BUSY' }));
  assert.equal(
    dialOutside(r.reg, '5551234', by, channel, () => undefined),
    null,
  );
  assert.equal(r.asked.length, 0);
});

test("dialOutside: the number goes to ROUTE as the transferor's call (its context, identity and extension), and an answered SIP leg comes back as a far party named after the trunk's leg", async () => {
  let hungUp = 0;
  const sipLeg = { number: '49301234567' } as AnsweredLeg;
  const session = {} as MediaSession;
  const leg: OutboundLeg = {
    name: 'SIP/provider-0000000a',
    number: '49301234567',
    endpoint: {} as OutboundLeg['endpoint'],
    ended: new Promise(() => undefined),
    hangup: () => hungUp++,
    sip: { leg: sipLeg, session },
  };
  const r = routes(() => ({ status: 'ANSWER', leg }));
  const out = dialOutside(r.reg, '0301234567', by, channel, () => undefined);
  assert.ok(out);
  const o = await out.result;
  assert.equal(r.asked.length, 1);
  const { resource, ctx } = r.asked[0]!;
  assert.equal(resource, '0301234567');
  assert.equal(ctx.context, 'office');
  assert.equal(ctx.callerIdNum, '1002');
  assert.equal(ctx.callerIdName, 'Bob');
  assert.equal(ctx.peer.account, '1002');
  assert.equal(ctx.peer.address, '127.0.0.9');
  assert.equal(ctx.channelName, channel.name);
  assert.equal(o.status, 'ANSWER');
  if (o.status !== 'ANSWER') return;
  assert.equal(o.far.leg, sipLeg);
  assert.equal(o.far.session, session);
  assert.equal(o.far.trunkLeg, 'SIP/provider-0000000a');
  assert.equal(hungUp, 0);
});

test('dialOutside: an answer that is no SIP leg is hung up (CHANUNAVAIL); a failure passes its status through; cancel reaches the attempt', async () => {
  let hungUp = 0;
  const leg = { name: 'IAX2/far-1', number: '1', endpoint: {}, ended: new Promise(() => undefined), hangup: () => hungUp++ } as unknown as OutboundLeg;
  const a = dialOutside(routes(() => ({ status: 'ANSWER', leg })).reg, '0301234567', by, channel, () => undefined)!;
  assert.deepEqual(await a.result, { status: 'CHANUNAVAIL' });
  assert.equal(hungUp, 1);
  const busy = routes(() => ({ status: 'BUSY' }));
  const b = dialOutside(busy.reg, '0301234567', by, channel, () => undefined)!;
  assert.deepEqual(await b.result, { status: 'BUSY' });
  b.cancel();
  assert.deepEqual(busy.cancelled, ['0301234567']);
});
