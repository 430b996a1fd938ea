// The UAS core's method inspection (RFC 3261 §8.2.1) for in-dialog requests:
// what Allow names goes to the dialog, what it leaves out is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { LogRoot } from '../../observability/logger.js';
import type { B2bua } from '../b2bua/b2bua.js';
import type { ServerTxHandle } from '../b2bua/types.js';
import type { Remote } from '../../transport/types.js';
import { UaCore } from './ua-core.js';
import { SanityStage } from '../pipeline/sanity-stage.js';
import { AuthStage } from '../pipeline/auth-stage.js';
import { RoutingStage } from '../pipeline/routing-stage.js';
import { routeB2bua, routeRegistrar } from './core-routes.js';

const PHONE: Remote = { transport: 'udp', address: '127.0.0.1', port: 5071 };
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, MESSAGE, NOTIFY, REGISTER, SUBSCRIBE';

function inDialog(method: string, extra = ''): SipMessage {
  const text =
    `${method} sip:pbx@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK${method}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:1001@pbx>;tag=a\r\nTo: <sip:1002@pbx>;tag=b\r\nCall-ID: c1\r\nCSeq: 5 ${method}\r\nContact: <sip:1001@127.0.0.1:5071>\r\n${extra}Content-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.msg;
}

function rig(): { core: UaCore; routed: string[]; answers: SipMessage[]; tx: ServerTxHandle } {
  const routed: string[] = [];
  const answers: SipMessage[] = [];
  const b2bua = { onInDialog: (_tx: ServerTxHandle, req: SipMessage) => (routed.push(req.method), true) } as unknown as B2bua;
  const routing = new RoutingStage({ userAgent: 'Palisade', allow: ALLOW, auth: new AuthStage() });
  routeRegistrar(routing, { handleRegister: () => assert.fail('no REGISTER here') });
  routeB2bua(routing, b2bua);
  const sanity = new SanityStage({ allow: ALLOW, isRouted: (m) => routing.has(m), challengeFirst: false });
  const core = new UaCore({ userAgent: 'Palisade' }, sanity, routing, new LogRoot('error', {}, { write: () => undefined }).get('ua'));
  const tx: ServerTxHandle = { respond: (r) => void answers.push(r), respondStateless: (r) => void answers.push(r) };
  return { core, routed, answers, tx };
}

test('RFC 3261 §8.2.1: an in-dialog REFER (recognised, not in Allow) gets 405 with an Allow that does not name it, and never reaches the call', () => {
  const { core, routed, answers, tx } = rig();
  core.onRequest(tx, inDialog('REFER', 'Refer-To: <sip:1003@pbx>\r\nReferred-By: <sip:1001@pbx>\r\n'), PHONE);
  assert.deepEqual(routed, []);
  assert.equal(answers.length, 1);
  assert.equal(answers[0]!.status, 405);
  assert.equal(answers[0]!.get('allow'), ALLOW);
  assert.doesNotMatch(answers[0]!.get('allow')!, /REFER/);
});

test('PRACK, never asked for (we send no reliable provisional), is refused the same way; INFO, UPDATE, NOTIFY reach the dialog', () => {
  const { core, routed, answers, tx } = rig();
  core.onRequest(tx, inDialog('PRACK', 'RAck: 1 1 INVITE\r\n'), PHONE);
  assert.equal(answers.at(-1)?.status, 405);
  for (const m of ['INFO', 'UPDATE', 'NOTIFY', 'BYE']) core.onRequest(tx, inDialog(m, m === 'NOTIFY' ? 'Event: refer\r\nSubscription-State: active\r\n' : ''), PHONE);
  assert.deepEqual(routed, ['INFO', 'UPDATE', 'NOTIFY', 'BYE']);
  assert.equal(answers.length, 1);
});
