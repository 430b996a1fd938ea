// RFC 4475 torture tests: every message of the RFC's archive, with the
// outcome the RFC expects (section numbers are RFC 4475 §3.x).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, type ParseResult } from '../../src/sip-message/parser.js';
import { checkRequest, type SanityOptions } from '../../src/sip-message/sanity.js';
import { buildResponse } from '../../src/sip-message/response.js';
import { parseAuthHeader } from '../../src/sip-message/auth-header.js';
import { StreamFramer } from '../../src/sip-message/stream-framer.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';
import { sharedTestdata } from '../helpers/paths.js';

const DIR = sharedTestdata('rfc4475');
const load = (name: string): Buffer => readFileSync(join(DIR, name + '.dat'));
const parse = (name: string): ParseResult => parseMessage(load(name));
const SANITY: SanityOptions = {
  supportedExtensions: new Set(['100rel', 'replaces', 'timer', 'path', 'outbound']),
  acceptedContentTypes: new Set(['application/sdp', 'multipart/mixed', 'text/plain']),
};

function ok(name: string): SipMessage {
  const r = parse(name);
  assert.ok(r.ok, `${name} should parse: ${r.ok ? '' : r.code + ' ' + r.error}`);
  return r.msg;
}

/** invalid: either the parser refuses it, or sanity answers 400 */
function rejected(name: string): { code?: string; status?: number } {
  const r = parse(name);
  if (!r.ok) {
    assert.match(r.code, /^PAL_ERR_SIP_/);
    if (r.msg) {
      // whatever was salvaged must be answerable without throwing
      const res = buildResponse(r.msg, 400);
      assert.equal(res.status, 400);
      assert.ok(res.toBuffer().length > 0);
    }
    return { code: r.code };
  }
  const s = checkRequest(r.msg, SANITY);
  assert.ok(s, `${name} parsed and passed sanity but RFC 4475 says it is invalid`);
  return { status: s.status };
}

const expected = new Map<string, () => void>();
const expect = (name: string, fn: () => void): void => void expected.set(name, fn);

// ---- §3.1.1 valid messages: the parser must accept them ----
expect('wsinv', () => {
  const m = ok('wsinv');
  assert.equal(m.method, 'INVITE');
  assert.equal(m.to.params['tag'], '1918181833n');
  assert.equal(m.from.displayName, 'J Rosenberg \\"');
  assert.equal(m.from.params['tag'], '98asjd8');
  assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
  assert.equal(m.getInt('max-forwards'), 68);
  assert.equal(m.topVia.transport, 'UDP');
  assert.equal(m.topVia.host, '192.0.2.2');
  assert.equal(m.topVia.branch, '390skdjuw');
  assert.equal(m.get('subject'), '');
  assert.equal(m.get('newfangledheader'), 'newfangled value continued newfangled value');
  assert.equal(m.body.length, 150);
  assert.equal(checkRequest(m, SANITY), null);
});
expect('intmeth', () => {
  const m = ok('intmeth');
  assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  assert.equal(m.ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(m.ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(m.ruri.host, 'example.com');
  assert.equal(m.cseq.method, m.method);
  assert.equal(checkRequest(m, SANITY), null);
});
expect('esc01', () => {
  const m = ok('esc01');
  assert.equal(m.ruri.user, 'sips:user@example.com');
  assert.equal(m.ruri.host, 'example.net');
  assert.equal(m.from.uri.user, 'I have spaces');
  const c = m.contacts[0]!.uri;
  assert.equal(c.user, 'caller');
  assert.equal(c.params['lr'], null);
  assert.equal(c.params['name'], 'value%41');
  assert.equal(checkRequest(m, SANITY), null);
});
expect('escnull', () => {
  const m = ok('escnull');
  assert.equal(m.to.uri.user, 'null-\u0000-null');
  assert.equal(m.contacts.length, 2);
  assert.equal(checkRequest(m, SANITY), null);
});
expect('esc02', () => {
  const m = ok('esc02');
  // %47 in a method is not an escape: this is not REGISTER (§3.1.1.5)
  assert.equal(m.method, 'RE%47IST%45R');
  assert.notEqual(m.method, 'REGISTER');
  assert.equal(m.to.displayName, '%Z%45');
  assert.equal(m.topVia.branch, 'z9hG4bK209%fzsnel234');
  // C%6Fntact is an unknown header, not a Contact
  assert.equal(m.contacts.length, 2);
  assert.equal(m.get('c%6fntact'), '<sip:alias2@host2.example.com>');
});
expect('lwsdisp', () => {
  const m = ok('lwsdisp');
  assert.equal(m.from.displayName, 'caller');
  assert.equal(m.from.uri.user, 'caller');
  assert.equal(m.to.displayName, undefined);
  assert.equal(checkRequest(m, SANITY), null);
});
expect('longreq', () => {
  const m = ok('longreq');
  assert.equal(m.vias.length, 34);
  assert.ok(m.topVia.host.length > 0);
  assert.equal(m.body.length, 150);
  assert.ok((m.get('x-unknown-header')?.length ?? 0) > 0 || m.headers.some((h) => h.value.length > 300));
  assert.equal(checkRequest(m, SANITY), null);
});
expect('dblreq', () => {
  const m = ok('dblreq');
  // UDP: the datagram's first message counts; the trailing INVITE is ignored (§3.1.1.8)
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.body.length, 0);
  assert.equal(m.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
  // over a stream the two are separate messages, and both are framed
  const f = new StreamFramer();
  const out = f.push(load('dblreq'));
  // (the archive's INVITE body is longer than its Content-Length, so the
  // framer then flags the stray trailing bytes — also correct on a stream)
  assert.ok(out.messages.length >= 2);
  assert.ok(out.messages[0]!.toString('latin1').startsWith('REGISTER '));
  const second = parseMessage(out.messages[1]!, { stream: true });
  assert.ok(second.ok);
  assert.equal(second.msg.method, 'INVITE');
});
expect('semiuri', () => {
  const m = ok('semiuri');
  assert.equal(m.ruri.user, 'user;par=u@example.net');
  assert.equal(m.ruri.host, 'example.com');
  assert.deepEqual(m.ruri.params, {});
  assert.equal(checkRequest(m, SANITY), null);
});
expect('transports', () => {
  const m = ok('transports');
  assert.deepEqual(
    m.vias.map((v) => v.transport),
    ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
  );
  assert.equal(m.vias[4]!.host, 't5.example.com');
});
expect('mpart01', () => {
  const m = ok('mpart01');
  assert.equal(m.method, 'MESSAGE');
  assert.equal(m.body.length, Number(m.get('content-length')));
  assert.equal(m.body.length, 553);
  assert.match(m.get('content-type')!, /^multipart\/mixed;boundary=7a9cbec02ceef655/);
  assert.equal(checkRequest(m, SANITY), null);
});
expect('unreason', () => {
  const m = ok('unreason');
  assert.equal(m.status, 200);
  assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
});
expect('noreason', () => {
  const m = ok('noreason');
  assert.equal(m.status, 100);
  assert.equal(m.reason, '');
});

// ---- §3.1.2 invalid messages: reject cleanly or answer 400 ----
for (const name of ['badinv01', 'clerr', 'scalar02', 'scalarlg', 'quotbal', 'ltgtruri', 'lwsruri', 'lwsstart', 'trws', 'baddn', 'badaspec', 'bigcode']) {
  expect(name, () => {
    const r = parse(name);
    assert.equal(r.ok, false, `${name} must not parse`);
    rejected(name);
  });
}
expect('ncl', () => {
  const r = parse('ncl');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_BAD_CONTENT_LENGTH');
  assert.ok(r.msg, 'a 400 can be built');
});
expect('clerr', () => {
  const r = parse('clerr');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_BODY_TRUNCATED');
  assert.equal(buildResponse(r.msg!, 400).get('call-id'), 'clerr.0ha0isndaksdjweiafasdk3');
});
for (const name of ['escruri', 'baddate', 'regbadct', 'mismatch01', 'mismatch02']) {
  expect(name, () => {
    const out = rejected(name);
    assert.ok(out.code !== undefined || out.status === 400, `${name}: expected 400, got ${JSON.stringify(out)}`);
  });
}
expect('badvers', () => {
  const r = parse('badvers');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_BAD_VERSION');
  assert.ok(r.msg);
  assert.equal(r.msg.version, 'SIP/7.0');
  assert.equal(checkRequest(r.msg, SANITY)?.status, 505);
  assert.equal(buildResponse(r.msg, 505).reason, 'Version Not Supported');
});
expect('test', () => {
  // in the archive but not in the RFC text: no SIP-Version, a header line without a colon
  const r = parse('test');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_BAD_START_LINE');
});

// ---- §3.2 transaction layer ----
expect('badbranch', () => {
  // branch=z9hG4bK with nothing after the cookie is legal syntax
  const m = ok('badbranch');
  assert.equal(m.topVia.branch, 'z9hG4bK');
});

// ---- §3.3 application layer ----
expect('insuf', () => {
  const r = parse('insuf');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_MISSING_HEADER');
  assert.ok(r.msg, 'Via and CSeq survive, so a 400 can be sent');
  const res = buildResponse(r.msg, 400);
  assert.equal(res.get('cseq'), '193942 INVITE');
  assert.equal(res.topVia.branch, 'z9hG4bKkdj.insuf');
});
expect('unkscm', () => {
  const m = ok('unkscm');
  assert.equal(m.ruri.scheme, 'nobodyknowsthisscheme');
  assert.equal(m.ruri.opaque, true);
  assert.equal(checkRequest(m, SANITY)?.status, 416);
});
expect('novelsc', () => {
  const m = ok('novelsc');
  assert.equal(m.ruri.scheme, 'soap.beep');
  assert.equal(checkRequest(m, SANITY)?.status, 416);
});
expect('unksm2', () => {
  const m = ok('unksm2');
  assert.equal(m.to.uri.scheme, 'isbn');
  assert.equal(m.from.uri.scheme, 'http');
  assert.equal(m.contacts[0]!.uri.scheme, 'name');
  // a registrar answers 400: the AOR in To must be a SIP/SIPS URI
  assert.equal(checkRequest(m, SANITY)?.status, 400);
});
expect('bext01', () => {
  const m = ok('bext01');
  const s = checkRequest(m, SANITY);
  assert.equal(s?.status, 420);
  assert.deepEqual(s?.headers, [['unsupported', 'nothingSupportsThis, nothingSupportsThisEither']]);
});
expect('invut', () => {
  const m = ok('invut');
  const s = checkRequest(m, SANITY);
  assert.equal(s?.status, 415);
  assert.ok(s?.headers?.some(([n, v]) => n === 'accept' && v.includes('application/sdp')));
});
expect('regaut01', () => {
  const m = ok('regaut01');
  // syntactically fine; the registrar answers 401 because the scheme is unknown
  assert.equal(checkRequest(m, SANITY), null);
  assert.equal(parseAuthHeader(m.get('authorization')!).scheme, 'NoOneKnowsThisScheme');
});
expect('multi01', () => {
  const r = parse('multi01');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_DUPLICATE_HEADER');
  assert.ok(r.msg);
  assert.equal(buildResponse(r.msg, 400).status, 400);
});
expect('mcl01', () => {
  const r = parse('mcl01');
  assert.ok(!r.ok);
  assert.equal(r.code, 'PAL_ERR_SIP_BAD_CONTENT_LENGTH');
  assert.ok(r.msg, 'over UDP a 400 can still be sent');
  // over TCP framing is lost: the framer reports an error so the connection is closed
  const out = new StreamFramer().push(load('mcl01'));
  assert.ok(out.error);
  assert.equal(out.messages.length, 0);
});
expect('bcast', () => {
  const m = ok('bcast');
  assert.equal(m.vias[1]!.host, '255.255.255.255');
});
expect('zeromf', () => {
  const m = ok('zeromf');
  assert.equal(m.getInt('max-forwards'), 0);
  // OPTIONS with Max-Forwards 0 may be answered by the element itself
  assert.equal(checkRequest(m, SANITY), null);
  m.method = 'INVITE';
  m.set('cseq', '39234321 INVITE');
  assert.equal(checkRequest(m, SANITY)?.status, 483);
});
expect('cparam01', () => {
  const m = ok('cparam01');
  const c = m.contacts[0]!;
  assert.equal(c.uri.user, '+19725552222');
  assert.ok('unknownparam' in c.params, 'addr-spec form: the param belongs to the header');
  assert.deepEqual(c.uri.params, {});
});
expect('cparam02', () => {
  const m = ok('cparam02');
  const c = m.contacts[0]!;
  assert.ok('unknownparam' in c.uri.params, 'name-addr form: the param belongs to the URI');
  assert.deepEqual(c.params, {});
});
expect('regescrt', () => {
  const m = ok('regescrt');
  assert.deepEqual(m.contacts[0]!.uri.headers, { Route: '<sip:sip.example.com>' });
  assert.equal(checkRequest(m, SANITY), null);
});
expect('sdp01', () => {
  // 406 is decided by the application (Accept vs what it would answer); sanity passes
  const m = ok('sdp01');
  assert.equal(m.get('accept'), 'text/nobodyKnowsThis');
  assert.equal(checkRequest(m, SANITY), null);
});

// ---- §3.4 backward compatibility ----
expect('inv2543', () => {
  const m = ok('inv2543');
  assert.equal(m.topVia.branch, undefined);
  assert.equal(m.to.params['tag'], undefined);
  // addr-spec form: ;user=phone is a header parameter of To (RFC 3261 §20.10)
  assert.equal(m.to.params['user'], 'phone');
  assert.equal(m.from.uri.params['user'], 'phone');
  assert.equal(m.body.length, 105, 'no Content-Length over UDP: the body is the rest of the datagram');
  assert.equal(checkRequest(m, SANITY), null);
});

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.dat'))
  .map((f) => f.slice(0, -4))
  .sort();

test('the archive holds all 50 torture messages', () => {
  assert.equal(files.length, 50);
});

for (const name of files) {
  test(`RFC 4475 ${name}.dat`, () => {
    const fn = expected.get(name);
    assert.ok(fn, `no expectation written for ${name}`);
    fn();
    // whatever the outcome, serialising a parsed message must round-trip
    const r = parse(name);
    if (r.ok) {
      const again = parseMessage(r.msg.toBuffer());
      assert.ok(again.ok, `${name} round-trip: ${again.ok ? '' : again.error}`);
      assert.equal(again.msg.headers.length, r.msg.headers.length + (r.msg.has('content-length') ? 0 : 1));
      assert.deepEqual(again.msg.body, r.msg.body);
    }
  });
}
