import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogRoot, type LogLevel } from './logger.js';

function rig(level: LogLevel = 'info', levels: Record<string, LogLevel> = {}) {
  const lines: string[] = [];
  const root = new LogRoot(level, levels, { write: (l) => void lines.push(l) });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { root, lines, records };
}

test('one JSON object per line: level, ISO time, subsystem, event, then the fields in their order', () => {
  const { root, lines, records } = rig();
  root.get('sip').info('call-start', { callId: 'a@b', from: '1001', n: 5 });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n') && !lines[0]!.slice(0, -1).includes('\n'), 'one line, newline-terminated');
  const r = records()[0]!;
  assert.deepEqual(Object.keys(r), ['level', 'time', 'sub', 'event', 'callId', 'from', 'n']);
  assert.equal(r.level, 'info');
  assert.equal(r.sub, 'sip');
  assert.equal(r.event, 'call-start');
  assert.equal(new Date(r.time as string).toISOString(), r.time, 'ISO 8601 time');
  assert.ok(lines[0]!.includes('"event":"call-start"'), 'tests and operators grep for "event":"NAME"');
});

test('levels per subsystem, changed at a reload, for loggers already handed out', () => {
  const { root, records } = rig('info', { rtp: 'warn' });
  const sip = root.get('sip');
  const rtp = root.get('rtp');
  sip.debug('hidden-debug');
  rtp.info('hidden-info');
  rtp.warn('shown-warn');
  sip.info('shown-info');
  assert.equal(rtp.isEnabled('info'), false);
  root.setLevels('warn', { sip: 'debug' });
  sip.debug('shown-debug');
  rtp.info('hidden-after-reload');
  assert.equal(rtp.isEnabled('info'), false);
  assert.equal(sip.isEnabled('debug'), true);
  assert.deepEqual(
    records().map((r) => `${r.level} ${r.event}`),
    ['warn shown-warn', 'info shown-info', 'debug shown-debug'],
  );
});

test('with several workers every line names its worker, also from loggers made before', () => {
  const { root, records } = rig();
  const early = root.get('transport');
  root.setWorker(2);
  early.info('a');
  root.get('late').error('b');
  root.setWorker(null);
  early.info('c');
  const rs = records();
  assert.deepEqual(
    rs.map((r) => r.worker),
    [2, 2, undefined],
  );
  assert.deepEqual(Object.keys(rs[0]!).slice(0, 5), ['level', 'time', 'worker', 'sub', 'event']);
});

test('a field named like a secret is never written, whatever its case', () => {
  const { root, lines } = rig();
  const secrets = {
    password: 'hunter2-a',
    Password: 'hunter2-b',
    secret: 'hunter2-c',
    ha1: 'hunter2-d',
    pin: 'hunter2-e',
    PIN: 'hunter2-f',
    authorization: 'Digest hunter2-g',
    Authorization: 'Digest hunter2-h',
    'proxy-authorization': 'Digest hunter2-i',
    'Proxy-Authorization': 'Digest hunter2-j',
    auth_pass: 'hunter2-k',
  };
  root.get('auth').warn('auth-failed', { user: '1001', ...secrets });
  assert.ok(!lines[0]!.includes('hunter2'), lines[0]);
  const r = JSON.parse(lines[0]!) as Record<string, unknown>;
  for (const k of Object.keys(secrets)) assert.equal(r[k], '[redacted]', k);
  assert.equal(r.user, '1001', 'other fields are kept');
});

test('a field whose name ends like a secret is never written, nested fields too; counts and switches named after one are kept', () => {
  const { root, lines } = rig();
  const fields = {
    user: '1001',
    newPassword: 'hunter2-a',
    voicemail_pin: 'hunter2-b',
    voicemailPin: 4711,
    ha1_sha256: 'hunter2-c',
    apiKey: 'hunter2-d',
    accessToken: 'hunter2-e',
    'X-Proxy-Authorization': 'Digest hunter2-f',
    passphrase: 'hunter2-g',
    trunk: { name: 'carrier', username: 'acme', secret: 'hunter2-h', outbound: { auth_pass: 'hunter2-i' } },
    phones: [{ ext: '1002', password: 'hunter2-j' }],
    // not secrets: a count, a length rule, a switch, a missing value
    weakPins: 3,
    pinMinLength: 6,
    secret_set: true,
    pin: undefined,
  };
  root.get('config').warn('loaded', fields);
  assert.ok(!lines[0]!.includes('hunter2') && !lines[0]!.includes('4711'), lines[0]);
  const r = JSON.parse(lines[0]!) as Record<string, unknown>;
  for (const k of ['newPassword', 'voicemail_pin', 'voicemailPin', 'ha1_sha256', 'apiKey', 'accessToken', 'X-Proxy-Authorization', 'passphrase'])
    assert.equal(r[k], '[redacted]', k);
  assert.deepEqual(r.trunk, { name: 'carrier', username: 'acme', secret: '[redacted]', outbound: { auth_pass: '[redacted]' } });
  assert.deepEqual(r.phones, [{ ext: '1002', password: '[redacted]' }]);
  assert.equal(r.user, '1001');
  assert.equal(r.weakPins, 3);
  assert.equal(r.pinMinLength, 6);
  assert.equal(r.secret_set, true);
  assert.equal('pin' in r, false);
  // the caller's object is not changed
  assert.equal(fields.trunk.secret, 'hunter2-h');
});

test('an event whose fields cannot be written still gets its line', () => {
  const { root, records } = rig();
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  root.get('x').info('circular', { loop });
  root.get('x').info('bigint', { n: 10n });
  root.get('x').info('bare');
  root.get('x').info('throws', {
    bad: {
      toJSON() {
        throw new Error('no');
      },
    },
    kept: 1,
  });
  assert.deepEqual(
    records().map((r) => r.event),
    ['circular', 'bigint', 'bare', 'throws'],
  );
  assert.equal(records()[3]!.kept, 1, 'the fields that can be written are kept');
});
