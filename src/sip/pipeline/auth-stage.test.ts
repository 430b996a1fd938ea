import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import { buildResponse } from '../../sip-message/response.js';
import { AuthStage } from './auth-stage.js';

const remote: Remote = { transport: 'udp', address: '192.0.2.7', port: 5060 };
const MESSAGE =
  'MESSAGE sip:1002@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@pbx>;tag=1\r\nTo: <sip:1002@pbx>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n';

function request(): SipMessage {
  const r = parseMessage(Buffer.from(MESSAGE));
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

function tx() {
  const stateful: number[] = [];
  const stateless: number[] = [];
  return { stateful, stateless, handle: { respond: (r: SipMessage) => void stateful.push(r.status), respondStateless: (r: SipMessage) => void stateless.push(r.status) } };
}

test('a 401 challenge is sent statelessly (a guess costs no memory) and ends the request', () => {
  const t = tx();
  const s = new AuthStage((req) => buildResponse(req, 401, 'Unauthorized', {}));
  assert.equal(s.active, true);
  assert.equal(s.challenged(t.handle, request(), remote), true);
  assert.deepEqual(t.stateless, [401]);
  assert.deepEqual(t.stateful, []);
});

test('any other refusal (400 Digest URI Mismatch) goes through the transaction', () => {
  const t = tx();
  const s = new AuthStage((req) => buildResponse(req, 400, 'Digest URI Mismatch', {}));
  assert.equal(s.challenged(t.handle, request(), remote), true);
  assert.deepEqual(t.stateful, [400]);
});

test('an authenticated request, or no authenticator at all, goes on unanswered', () => {
  const t = tx();
  assert.equal(new AuthStage(() => null).challenged(t.handle, request(), remote), false);
  const none = new AuthStage();
  assert.equal(none.active, false);
  assert.equal(none.challenged(t.handle, request(), remote), false);
  assert.deepEqual([...t.stateful, ...t.stateless], []);
});
