// RFC 3261 §18.2.1 and RFC 3581 §4: what the transport writes into the top Via.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../sip-message/parser.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { stampVia } from './transport-layer.js';
import type { Remote } from './types.js';

const FROM: Remote = { transport: 'udp', address: '10.0.0.7', port: 40123 };

function req(via: string): SipMessage {
  const r = parseMessage(
    Buffer.from(`OPTIONS sip:pbx SIP/2.0\r\nVia: ${via}\r\nFrom: <sip:a@pbx>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`),
  );
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

test('the server MUST add "received" when the sent-by host differs from the source (§18.2.1)', () => {
  const m = req('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa');
  stampVia(m, FROM);
  assert.equal(m.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;received=10.0.0.7');
  assert.equal(m.topVia.params.received, '10.0.0.7');
});

test('nothing is added when the sent-by host is the source and rport is absent', () => {
  const m = req('SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKa');
  stampVia(m, FROM);
  assert.equal(m.get('via'), 'SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKa');
});

test('an empty rport MUST be filled with the source port, and received added even for the same host (RFC 3581 §4)', () => {
  const m = req('SIP/2.0/UDP 10.0.0.7:5060;RPort ;branch=z9hG4bKa, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKb');
  stampVia(m, FROM);
  assert.equal(m.get('via'), 'SIP/2.0/UDP 10.0.0.7:5060;RPort=40123 ;branch=z9hG4bKa;received=10.0.0.7, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKb');
  assert.equal(m.topVia.params.rport, '40123');
  assert.equal(m.vias.length, 2, 'the lower Via is kept');
  assert.equal(m.vias[1]!.host, '192.0.2.9');
});

test('a parameter that only contains "rport" in its name is not taken for it', () => {
  const m = req('SIP/2.0/UDP 10.0.0.7:5060;xrport;branch=z9hG4bKa;rport');
  stampVia(m, FROM);
  assert.equal(m.get('via'), 'SIP/2.0/UDP 10.0.0.7:5060;xrport;branch=z9hG4bKa;rport=40123;received=10.0.0.7');
});
