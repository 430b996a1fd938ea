import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DialogPackage, dialogInfo, hintDevices } from './dialog-package.js';
import type { CallEvent } from '../../core/call-events.js';
import { LogRoot } from '../../observability/logger.js';

test("hint values in Asterisk's syntax: SIP/ and PJSIP/ devices joined by &", () => {
  assert.deepEqual(hintDevices('SIP/1001'), ['1001']);
  assert.deepEqual(hintDevices('PJSIP/1001&SIP/1002'), ['1001', '1002']);
  assert.deepEqual(hintDevices('Custom:lamp&DAHDI/1'), []);
});

test('RFC 4235 §4: a full-state document; no dialog when idle; XML-escaped', () => {
  const idle = dialogInfo('sip:1002@pbx', 0, [], 'pbx');
  assert.match(idle, /<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:1002@pbx">/);
  assert.doesNotMatch(idle, /<dialog /);
  const one = dialogInfo('sip:1002@pbx', 1, [{ id: 'x<1', direction: 'recipient', state: 'early', remote: '1001', local: '1002' }], 'pbx');
  assert.match(one, /<dialog id="x&lt;1" direction="recipient">/);
  assert.match(one, /<state>early<\/state>/);
  assert.match(one, /<remote><identity>sip:1001@pbx<\/identity>/);
});

test('the lamp follows the calls of the hinted devices: early while ringing, confirmed once answered; versions rise', async () => {
  const calls: CallEvent[] = [];
  const notified: string[] = [];
  const pkg = new DialogPackage(
    {
      domain: 'pbx',
      hintDevices: (r) => (r === '600' ? ['1002', '1003'] : undefined),
      calls: { activeCalls: () => calls },
      log: new LogRoot('error', {}, { write: () => undefined }).get('office'),
    },
    { notify: async (_p, r) => void notified.push(r) },
  );
  assert.equal(pkg.exists('600'), true);
  assert.equal(pkg.exists('1002'), false, 'no hint, no resource (404)');
  assert.doesNotMatch(await pkg.body('600'), /<dialog /);
  calls.push({ phase: 'ringing', callId: 'k1', from: '1001', to: '1003', fromExtension: '1001', toExtension: '1003', via: 'b2bua', at: 0 });
  const ringing = await pkg.body('600');
  assert.match(ringing, /version="1"/);
  assert.match(ringing, /direction="recipient">\r\n {4}<state>early</);
  calls[0] = { ...calls[0]!, phase: 'answered' };
  assert.match(await pkg.body('600'), /<state>confirmed</);
  // one NOTIFY per resource for changes that come together
  pkg.changed('1002', () => ['600']);
  pkg.changed('1003', () => ['600']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(notified, ['600']);
});

test("each phone ringing in an early dialog is a <dialog> with call-id, local-tag (the phone's), remote-tag (the stand-in) and the caller as remote identity", async () => {
  const calls: CallEvent[] = [];
  const pkg = new DialogPackage(
    {
      domain: 'pbx',
      hintDevices: (r) => (r === '1002' || r === '1003' ? [r] : undefined),
      calls: { activeCalls: () => calls },
      log: new LogRoot('error', {}, { write: () => undefined }).get('office'),
    },
    { notify: async () => undefined },
  );
  // a Dial() to 1002 (two phones) and 1003; toExtension names the first only
  calls.push({
    phase: 'ringing',
    callId: 'k1',
    from: '1001',
    to: '600',
    fromExtension: '1001',
    toExtension: '1002',
    early: [
      { extension: '1002', callId: 'a@pbx', phoneTag: 'p1', pickupTag: 's1' },
      { extension: '1002', callId: 'b@pbx', phoneTag: 'p2', pickupTag: 's2' },
      { extension: '1003', callId: 'c@pbx', phoneTag: 'p3', pickupTag: 's3&' },
    ],
    via: 'channel',
    at: 0,
  });
  const two = await pkg.body('1002');
  assert.match(two, /<dialog id="k1-s1" call-id="a@pbx" local-tag="p1" remote-tag="s1" direction="recipient">\r\n {4}<state>early<\/state>/);
  assert.match(two, /<dialog id="k1-s2" call-id="b@pbx" local-tag="p2" remote-tag="s2" direction="recipient">/);
  assert.match(two, /<remote><identity>sip:1001@pbx<\/identity>/);
  assert.equal(two.match(/<dialog /g)?.length, 2);
  assert.match(await pkg.body('1003'), /call-id="c@pbx" local-tag="p3" remote-tag="s3&amp;"/);
  // answered: no early dialogs left; the answered callee is confirmed, without tags
  calls[0] = { ...calls[0]!, phase: 'answered', early: [] };
  const after = await pkg.body('1002');
  assert.match(after, /<dialog id="k1-r" direction="recipient">\r\n {4}<state>confirmed</);
  assert.doesNotMatch(after, /local-tag/);
  assert.doesNotMatch(await pkg.body('1003'), /<dialog /);
});
