// RFC 3261 §8.1.1.8: a SIPS Request-URI or Contact calls for a SIPS Contact;
// over TLS without SIPS the Contact names transport=tls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { B2bua, type B2buaDeps } from './b2bua.js';
import { LogRoot } from '../../observability/logger.js';
import type { Remote } from '../../transport/types.js';

test('contactFor: sips over TLS, transport=tls otherwise, plain for UDP', () => {
  const ua = new B2bua(
    { domain: 'pbx', userAgent: 'Palisade', ringTimeoutMs: 1000, maxDurationMs: 0 },
    {} as B2buaDeps,
    { send: () => undefined, localFor: (r: Remote) => ({ transport: r.transport, address: '127.0.0.1', port: r.transport === 'tls' ? 5061 : 5060 }) },
    new LogRoot('error', {}, { write: () => undefined }).get('b2bua'),
  );
  const tls: Remote = { transport: 'tls', address: '127.0.0.1', port: 40000, flow: 3 };
  assert.equal(ua.contactFor(tls, '1001', true), '<sips:1001@127.0.0.1:5061>');
  assert.equal(ua.contactFor(tls, '1001'), '<sip:1001@127.0.0.1:5061;transport=tls>');
  assert.equal(ua.contactFor({ transport: 'udp', address: '127.0.0.1', port: 5062 }, '1001', true), '<sip:1001@127.0.0.1:5060>');
});
