// The sanity stage's method inspection (RFC 3261 §8.2.1): routed methods go
// on, unknown ones get 501, dialog-only ones outside a dialog 405, both with Allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { SanityStage } from './sanity-stage.js';

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, MESSAGE, NOTIFY, REGISTER, SUBSCRIBE';

function request(method: string, toTag = '', extra = ''): SipMessage {
  const text =
    `${method} sip:1002@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK${method}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:1001@pbx>;tag=a\r\nTo: <sip:1002@pbx>${toTag}\r\nCall-ID: c1\r\nCSeq: 5 ${method}\r\nContact: <sip:1001@127.0.0.1:5071>\r\n${extra}Content-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.msg;
}

const stage = (routed: string[], challengeFirst = true) => new SanityStage({ allow: ALLOW, isRouted: (m) => routed.includes(m), challengeFirst });

test('RFC 3261 §8.2.1: a method the UAS does not recognise gets 501 with Allow', () => {
  const bad = stage(['REGISTER', 'INVITE', 'OPTIONS']).check(request('FOO'));
  assert.equal(bad?.status, 501);
  assert.deepEqual(bad?.headers, [['allow', ALLOW]]);
});

test('a routed method goes on, in or out of a dialog; a route registered for MESSAGE lets MESSAGE on', () => {
  const s = stage(['REGISTER', 'INVITE', 'OPTIONS', 'MESSAGE']);
  assert.equal(s.check(request('INVITE')), null);
  assert.equal(s.check(request('REGISTER')), null);
  assert.equal(s.check(request('MESSAGE')), null);
});

test('out of a dialog, SUBSCRIBE, NOTIFY, MESSAGE and REFER go on to be challenged first; without an authenticator they get 405', () => {
  for (const m of ['SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'REFER']) {
    assert.equal(stage([]).check(request(m, '', m === 'SUBSCRIBE' || m === 'NOTIFY' ? 'Event: presence\r\nSubscription-State: active\r\n' : '')), null, m);
    assert.equal(stage([], false).check(request(m, '', 'Event: presence\r\nSubscription-State: active\r\n'))?.status, 405, m);
  }
  assert.equal(stage([]).check(request('BYE'))?.status, 405, 'BYE is never challenged: 405 at once');
});

test('RFC 3261 §8.2.1: inside a dialog, a method left out of Allow (REFER, PRACK) gets 405; INFO goes on', () => {
  assert.equal(stage([]).check(request('REFER', ';tag=b', 'Refer-To: <sip:1003@pbx>\r\n'))?.status, 405);
  assert.equal(stage([]).check(request('PRACK', ';tag=b', 'RAck: 1 1 INVITE\r\n'))?.status, 405);
  assert.equal(stage([]).check(request('INFO', ';tag=b')), null);
});

test('RFC 3261 §8.2.2.3: a Require naming an extension we lack gets 420 with Unsupported', () => {
  const bad = stage(['INVITE']).check(request('INVITE', '', 'Require: 100rel\r\n'));
  assert.equal(bad?.status, 420);
});
