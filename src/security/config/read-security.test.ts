import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './load-config.js';
import { ConfigError } from '../../config/config-error.js';

const BASE = 'sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\n';
const EXT = 'extensions:\n  - number: "1001"\n    secret: "rHP6VMGmDbv4Ru6Jf3WD"\n';

function errors(yaml: string): string[] {
  try {
    parseConfig(BASE + yaml, 'p.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message.split('\n');
  }
  return [];
}

test('secure defaults: private local networks, international and premium off, one outbound call', () => {
  const c = parseConfig(BASE + EXT, 'p.yaml');
  assert.ok(c.guard.security.localNetworks.includes('192.168.0.0/16'));
  assert.deepEqual(c.guard.fraud.defaults.callPermissions, ['internal', 'emergency', 'local', 'national', 'mobile']);
  assert.equal(c.guard.fraud.defaults.maxOutboundCalls, 1);
  assert.deepEqual(c.guard.numbering.emergency, ['112', '911', '999']);
  assert.equal(c.extensions[0]!.policy.callPermissions, null);
});

test('every section and extension key is read', () => {
  const c = parseConfig(
    BASE +
      'security:\n  acl: { permit: [10.0.0.0/8], deny: ["2001:db8::/32"] }\n  local_networks: [10.1.0.0/16]\n  reputation: { half_life: 3600, exempt: [] }\n' +
      'admin:\n  acl: { permit: [127.0.0.1] }\n' +
      'numbering:\n  country_code: "44"\n  international_prefixes: ["00"]\n  local_digits: 4-7\n' +
      'rates:\n  "44": 0.05\n  "+1900": 2\n' +
      'fraud:\n  numbers: ["+88213"]\n  defaults: { daily_spend_limit: 2.5 }\n  anomaly: { mode: block, min_calls: 5 }\n' +
      EXT +
      '    call_permissions: [international]\n    max_calls: 3\n    calls_per_minute: 6\n    max_outbound_calls: 2\n    daily_spend_limit: 1.25\n    register_from: [192.168.10.0/24]\n    call_from: ["::1"]\n',
    'p.yaml',
  );
  assert.deepEqual(c.guard.security.acl, { permit: ['10.0.0.0/8'], deny: ['2001:db8::/32'] });
  assert.deepEqual(c.guard.security.reputation.exempt, []);
  assert.deepEqual(c.guard.rates, { '44': 0.05, '1900': 2 });
  assert.equal(c.guard.numbering.localMinDigits, 4);
  assert.equal(c.guard.fraud.anomaly.mode, 'block');
  assert.equal(c.guard.fraud.defaults.dailySpendLimit, 2.5);
  assert.deepEqual(c.extensions[0]!.policy, {
    callPermissions: ['international'],
    maxCalls: 3,
    callsPerMinute: 6,
    maxOutboundCalls: 2,
    dailySpendLimit: 1.25,
    registerFrom: ['192.168.10.0/24'],
    callFrom: ['::1'],
  });
});

test('errors name the line and what is expected', () => {
  const e = errors(
    'security:\n  acl: { permit: [10.0.0.0/33] }\n  local_netwroks: [10.0.0.0/8]\n' + EXT + '    call_permissions: [premium, satellite]\n    daily_spend_limit: cheap\n',
  );
  assert.ok(
    e.some((l) => /p\.yaml:5:\d+: .*10\.0\.0\.0\/33.*prefix length above 32/.test(l)),
    e.join('\n'),
  );
  assert.ok(
    e.some((l) => /unknown key security\.local_netwroks; did you mean local_networks\?/.test(l)),
    e.join('\n'),
  );
  assert.ok(
    e.some((l) => /"satellite" is not a destination class/.test(l)),
    e.join('\n'),
  );
  assert.ok(
    e.some((l) => /daily_spend_limit must be a number/.test(l)),
    e.join('\n'),
  );
  assert.ok(errors('rates:\n  "4x": 1\n').some((l) => /rates key "4x" is not a digit prefix/.test(l)));
});

test('anomaly.profile_max_age_days: 180 by default, 0 keeps profiles forever, a wrong value names its line', () => {
  assert.equal(parseConfig(BASE + EXT, 'p.yaml').guard.fraud.anomaly.profileMaxAgeDays, 180);
  assert.equal(parseConfig(BASE + EXT + 'fraud:\n  anomaly:\n    profile_max_age_days: 0\n', 'p.yaml').guard.fraud.anomaly.profileMaxAgeDays, 0);
  assert.equal(parseConfig(BASE + EXT + 'fraud:\n  anomaly: { profile_max_age_days: 30 }\n', 'p.yaml').guard.fraud.anomaly.profileMaxAgeDays, 30);
  const e = errors(EXT + 'fraud:\n  anomaly:\n    min_calls: 5\n    profile_max_age_days: -1\n');
  assert.ok(
    e.some((l) => /^p\.yaml:10:\d+: fraud\.anomaly\.profile_max_age_days -1 is out of range; expected 0\.\.36500 days/.test(l)),
    e.join('\n'),
  );
  assert.ok(
    errors('fraud:\n  anomaly: { profile_max_age_days: half a year }\n').some((l) => /^p\.yaml:5:\d+: fraud\.anomaly\.profile_max_age_days must be a whole number/.test(l)),
  );
});
