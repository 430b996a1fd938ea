import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DialTechnologies, type DialAttempt, type DialContext, type DialTechnology } from './dial-technology.js';

const ctx = {
  channelName: 'SIP/1001-1',
  channelId: '1',
  callerIdNum: '1001',
  callerIdName: '',
  context: 'internal',
  peer: { transport: 'udp', address: '127.0.0.1', port: 5060 },
  timeoutMs: 0,
  vars: new Map(),
} as DialContext;
const attempt = (): DialAttempt => ({ result: Promise.resolve({ status: 'BUSY' }), cancel() {} });

test('DialTechnologies: a target goes to the first technology that knows it, by name in any case; unregister removes it', () => {
  const seen: string[] = [];
  const trunks: DialTechnology = { names: ['PJSIP', 'SIP'], dial: (t) => (seen.push(`trunks:${t.resource}`), t.resource.includes('@') ? attempt() : null) };
  const iax: DialTechnology = { names: ['IAX2'], dial: (t) => (seen.push(`iax:${t.resource}`), attempt()) };
  const reg = new DialTechnologies();
  const off = reg.register(trunks);
  reg.register(iax);
  assert.ok(reg.dial({ tech: 'pjsip', resource: '2001@office-b' }, ctx));
  assert.equal(reg.dial({ tech: 'SIP', resource: '1002' }, ctx), null);
  assert.ok(reg.dial({ tech: 'Iax2', resource: 'office-b/2001' }, ctx));
  assert.equal(reg.dial({ tech: 'DAHDI', resource: '1' }, ctx), null);
  assert.deepEqual(seen, ['trunks:2001@office-b', 'trunks:1002', 'iax:office-b/2001']);
  assert.ok(reg.has('sip'));
  off();
  assert.equal(reg.has('SIP'), false);
  assert.equal(reg.dial({ tech: 'PJSIP', resource: '2001@office-b' }, ctx), null);
});
