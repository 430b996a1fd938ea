import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import { parseReplaces, readReferTo, referNotify } from './refer.js';
import { Dialog } from '../dialog/dialog.js';

const refer = (referTo: string) => {
  const r = parseMessage(
    Buffer.from(
      'REFER sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:1002@pbx>;tag=a\r\nTo: <sip:1001@pbx>;tag=b\r\n' +
        `Call-ID: c1\r\nCSeq: 3 REFER\r\nMax-Forwards: 70\r\nRefer-To: ${referTo}\r\nContent-Length: 0\r\n\r\n`,
    ),
  );
  assert.ok(r.ok);
  return r.msg;
};

test('RFC 3515 §2.1: Refer-To names the number to transfer to', () => {
  assert.deepEqual(readReferTo(refer('<sip:1003@127.0.0.1:5060>')), { user: '1003', replaces: undefined });
  assert.deepEqual(readReferTo(refer('sip:1003@pbx')), { user: '1003', replaces: undefined });
});

test('RFC 3891 §4: an escaped Replaces header in Refer-To makes an attended transfer (to-tag is the recipient local tag)', () => {
  const r = readReferTo(refer('<sip:1003@pbx?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>'));
  assert.deepEqual(r?.replaces, { callId: 'abc@host', toTag: 't1', fromTag: 'f1', earlyOnly: false });
  // a Call-ID's '@' left unescaped, as phones send it, is read all the same
  assert.equal(readReferTo(refer('<sip:1003@pbx?Replaces=abc@host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>'))?.replaces?.callId, 'abc@host');
});

test('a Refer-To that is not a SIP URI with a user, or a Replaces without both tags, is unusable (400)', () => {
  assert.equal(readReferTo(refer('<tel:+441234>')), null);
  assert.equal(readReferTo(refer('<sip:pbx>')), null);
  assert.equal(readReferTo(refer('<sip:1003@pbx?Replaces=abc%3Bto-tag%3Dt1>')), null);
  assert.equal(parseReplaces('abc;from-tag=x'), null);
  assert.equal(parseReplaces('abc;to-tag=x;from-tag=y;early-only')?.earlyOnly, true);
});

test('RFC 3515 §2.4.5: the NOTIFY carries the sipfrag status line, Event refer;id=CSeq, and ends the subscription when final', () => {
  const d = new Dialog({
    callId: 'c1',
    localTag: 'b',
    remoteTag: 'a',
    localUri: '<sip:1001@pbx>',
    remoteUri: '<sip:1002@pbx>',
    remoteTarget: 'sip:1002@127.0.0.1:5070',
    routeSet: [],
    localCseq: 0,
    remoteCseq: 3,
    remote: { transport: 'udp', address: '127.0.0.1', port: 5070 },
    localContact: '<sip:1001@127.0.0.1:5060>',
  });
  const trying = referNotify(d, 3, 100, false, 'Palisade');
  assert.equal(trying.body.toString(), 'SIP/2.0 100 Trying\r\n');
  assert.equal(trying.get('event'), 'refer;id=3');
  assert.match(trying.get('subscription-state') ?? '', /^active/);
  assert.match(trying.get('content-type') ?? '', /^message\/sipfrag/);
  const ok = referNotify(d, 3, 200, true, 'Palisade');
  assert.equal(ok.body.toString(), 'SIP/2.0 200 OK\r\n');
  assert.match(ok.get('subscription-state') ?? '', /^terminated/);
  assert.ok(ok.cseq.seq > trying.cseq.seq);
});
