import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import { RequestPipeline } from './request-pipeline.js';

const remote: Remote = { transport: 'udp', address: '192.0.2.7', port: 5060 };
const INVITE =
  'INVITE sip:1002@a.org SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@a.org>;tag=1\r\nTo: <sip:1002@a.org>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n';

function request(): SipMessage {
  const r = parseMessage(Buffer.from(INVITE));
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

function tx() {
  const sent: SipMessage[] = [];
  return { sent, handle: { respond: (r: SipMessage) => void sent.push(r), respondStateless: (r: SipMessage) => void sent.push(r) } };
}

test('screens run in order and the first that drops ends it', () => {
  const seen: string[] = [];
  const p = new RequestPipeline({ userAgent: 'Palisade', onGateFault: () => {} });
  assert.equal(p.screen(request(), remote, undefined), false, 'no screen: nothing dropped');
  p.addScreen({ name: 'a', drop: () => (seen.push('a'), false) });
  p.addScreen({ name: 'scanner', drop: (req) => (seen.push('scanner'), req.get('user-agent') === 'friendly-scanner') });
  p.addScreen({ name: 'c', drop: () => (seen.push('c'), false) });
  assert.equal(p.screen(request(), remote, undefined), true);
  assert.deepEqual(seen, ['a', 'scanner']);
});

test('a gate refusal is answered with its status, a To tag and our Server header; the request goes no further', () => {
  const p = new RequestPipeline({ userAgent: 'Palisade', onGateFault: () => {} });
  p.addGate({ name: 'acl', check: () => ({ status: 403, reason: 'Forbidden' }) });
  const t = tx();
  let reached = false;
  p.gate(t.handle as never, request(), remote, () => void (reached = true));
  assert.equal(reached, false);
  assert.equal(t.sent.length, 1);
  assert.equal(t.sent[0]!.status, 403);
  assert.ok(t.sent[0]!.to.params.tag);
  assert.equal(t.sent[0]!.get('server'), 'Palisade');
});

test('a gate that fails on a fault of ours is reported and the request served', () => {
  const faults: string[] = [];
  const p = new RequestPipeline({ userAgent: 'Palisade', onGateFault: (stage, _req, err) => void faults.push(`${stage}: ${err.message}`) });
  p.addGate({
    name: 'acl',
    check: () => {
      throw new Error('bug');
    },
  });
  const t = tx();
  let reached = false;
  p.gate(t.handle as never, request(), remote, () => void (reached = true));
  assert.equal(reached, true);
  assert.deepEqual(faults, ['acl: bug']);
  assert.equal(t.sent.length, 0);
});
