// The digest-uri rule with the forms real clients send (SIPp, Yealink,
// Grandstream, Linphone/baresip, Asterisk as a client), for REGISTER and
// INVITE alike: one rule, every method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestUriRule } from './digest-uri.js';

// a PBX with domain pbx.example.org, listening on 192.0.2.10 port 5060 (UDP, TCP) and 5061 (TLS)
const rule = new DigestUriRule({ hosts: ['PBX.example.org', '192.0.2.10'], ports: [5060, 5060, 5061] });

test('a digest-uri equal to the Request-URI is accepted, by URI equality and not only as text (RFC 2617 §3.2.2.5)', () => {
  assert.ok(rule.accepts('sip:pbx.example.org', 'sip:pbx.example.org'));
  assert.ok(rule.accepts('sip:PBX.Example.org:5060', 'sip:pbx.example.org:5060'));
  assert.ok(rule.accepts('sip:1002@pbx.example.org;transport=tcp', 'sip:1002@pbx.example.org;transport=TCP'));
  // equal to the Request-URI is enough even for a server we do not know by that name
  assert.ok(new DigestUriRule().accepts('sip:1002@elsewhere.test', 'sip:1002@elsewhere.test'));
});

test('REGISTER: the forms phones send for this server MUST be accepted (RFC 3261 §22.4 item 6)', () => {
  const ruris = ['sip:pbx.example.org', 'sip:192.0.2.10', 'sip:192.0.2.10:5060', 'sip:pbx.example.org;transport=tcp', 'sips:pbx.example.org'];
  const forms = [
    'sip:pbx.example.org', // without port
    'sip:pbx.example.org:5060', // with port (SIPp: always remote_ip:remote_port)
    'sip:192.0.2.10:5060', // the server's IP instead of the domain
    'sip:192.0.2.10',
    'sip:pbx.example.org;transport=tcp',
    'sip:192.0.2.10:5060;transport=tcp',
    'sips:pbx.example.org',
    'sips:pbx.example.org:5061;transport=tls',
  ];
  for (const ruri of ruris) for (const uri of forms) assert.ok(rule.accepts(uri, ruri), `${uri} for REGISTER ${ruri}`);
});

test('INVITE: the server itself, or the same user under another name of this server, is accepted', () => {
  const ruri = 'sip:1002@pbx.example.org';
  for (const uri of ['sip:192.0.2.10:5060', 'sip:pbx.example.org', 'sip:1002@192.0.2.10', 'sip:1002@192.0.2.10:5060;transport=tcp', 'sips:1002@pbx.example.org:5061']) {
    assert.ok(rule.accepts(uri, ruri), uri);
  }
  assert.ok(rule.accepts('sip:192.0.2.10:5060', 'sip:900@192.0.2.10:5060;user=phone'));
});

test('a digest-uri naming another server MUST be refused', () => {
  const ruri = 'sip:pbx.example.org';
  for (const uri of [
    'sip:evil.example', // another host
    'sip:pbx.example.org.evil.example',
    'sip:192.0.2.11:5060', // a neighbour's address
    'sip:pbx.example.org:5070', // our name, a port we do not listen on: another server on this machine
    'sip:192.0.2.10:5080',
    'sip:pbx.example.org;maddr=198.51.100.7', // sent on to another host
    'tel:+15551234567',
    'http://pbx.example.org/',
    'sip:', // unparsable
    '',
  ]) {
    assert.equal(rule.accepts(uri, ruri), false, uri);
  }
  // unknown when no names are configured: only the Request-URI itself
  assert.equal(new DigestUriRule().accepts('sip:pbx.example.org:5060', ruri), false);
});

test('a digest-uri naming another user is refused: the answer must not be reusable for a different target', () => {
  assert.equal(rule.accepts('sip:1003@pbx.example.org', 'sip:1002@pbx.example.org'), false);
  assert.equal(rule.accepts('sip:1002@pbx.example.org', 'sip:pbx.example.org'), false, 'a user for a REGISTER to the domain');
  assert.equal(rule.accepts('sip:1002@evil.example', 'sip:1002@pbx.example.org'), false);
  // the same user, but the request goes to another server: not ours to vouch for
  assert.equal(rule.accepts('sip:1002@pbx.example.org', 'sip:1002@elsewhere.test'), false);
});
