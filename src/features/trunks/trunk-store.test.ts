// A trunk the API writes is read by the file's own reader (trunk-config.ts):
// the same defaults, the same combination rules and the same secret policy,
// each problem named by its field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret } from '../../security/passwords/index.js';
import { trunkFromBody, trunkView } from './trunk-store.js';

test('a body reads as a trunks: entry with the file defaults', () => {
  const secret = generateSecret();
  const r = trunkFromBody({ name: 'prov', host: 'sip.example.net', username: 'acct1', secret, register: true, caller_id_number: null });
  assert.ok('trunk' in r, JSON.stringify(r));
  assert.equal(r.trunk.type, 'sip');
  assert.equal(r.trunk.port, 5060);
  assert.equal(r.trunk.portGiven, false, 'no port: the host is looked up by SRV as in the file');
  assert.equal(r.trunk.expiry, 3600);
  assert.equal(r.trunk.context, 'from-trunk');
  assert.equal(r.trunk.secret, secret);
});

test("a weak secret, a missing username and a bad network are refused by field, without the secret's text", () => {
  const r = trunkFromBody({ name: 'prov', host: '127.0.0.1', username: 'acct1', secret: 'password1', register: true, allow_from: ['10.0.0.0/33'] });
  assert.ok('errors' in r);
  const secret = r.errors.find((e) => e.field === 'secret');
  assert.ok(secret, JSON.stringify(r.errors));
  assert.match(secret.message, /^secret is too weak/);
  assert.ok(!secret.message.includes('password1'), 'the refused secret is not echoed');
  assert.ok(r.errors.some((e) => e.field === 'allow_from'));
  const noUser = trunkFromBody({ name: 'prov', host: '127.0.0.1', register: true });
  assert.ok('errors' in noUser);
  assert.equal(noUser.errors[0]!.field, 'username');
  assert.match(noUser.errors[0]!.message, /has register: true but no username/);
});

test('the view never holds the secret', () => {
  const v = trunkView({ name: 'prov', host: '127.0.0.1', username: 'acct1', secret: generateSecret() });
  assert.equal('secret' in v, false);
  assert.equal(v.secret_set, true);
  assert.equal(trunkView({ name: 'x', host: 'h' }).secret_set, false);
});

test('an IAX2 body reads as a type: iax2 entry: its own port, transport refused, host: dynamic needs the account', () => {
  const secret = generateSecret();
  const r = trunkFromBody({ name: 'office-b', type: 'iax2', host: '127.0.0.1', username: '9000', secret, register: true });
  assert.ok('trunk' in r, JSON.stringify(r));
  assert.deepEqual([r.trunk.type, r.trunk.port], ['iax2', 4569]);
  const udp = trunkFromBody({ name: 'office-b', type: 'iax2', host: '127.0.0.1', transport: 'udp' });
  assert.ok('errors' in udp);
  assert.deepEqual(
    udp.errors.map((e) => [e.field, e.message]),
    [['transport', 'transport is for SIP trunks; an IAX2 trunk always uses UDP']],
  );
  const dyn = trunkFromBody({ name: 'office-a', type: 'iax2', host: 'dynamic', username: '9000' });
  assert.ok('errors' in dyn);
  assert.equal(dyn.errors[0]!.field, 'secret');
  assert.equal(trunkView({ name: 'office-b', type: 'iax2', host: 'dynamic' }).type, 'iax2');
  assert.equal(trunkView({ name: 'prov', host: 'h' }).type, 'sip');
});
