import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/index.js';
import { parseConfig } from './load-config.js';

const BASE = `sip:
  listen: [udp:127.0.0.1:5060]
  domain: pbx.example.org
`;

function errorsOf(text: string): string {
  try {
    parseConfig(text, 'palisade.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

test('security defaults: log both formats, IDS on with 5 failures / 60 s, trusted localhost, alerts off', () => {
  const c = parseConfig(BASE, '/etc/palisade/palisade.yaml');
  assert.deepEqual(c.security.log, { file: '/etc/palisade/var/security.log', format: 'both', minLevel: 4 });
  assert.equal(c.security.ids.enabled, true);
  assert.deepEqual(c.security.ids.trusted, ['127.0.0.1', '::1']);
  assert.deepEqual(c.security.ids.authFailures, { threshold: 5, window: 60 });
  assert.equal(c.security.ids.floodRate, 500);
  assert.equal(c.security.ids.scanners.action, 'ban');
  assert.ok(c.security.ids.scanners.userAgents.includes('friendly-scanner'));
  assert.deepEqual(c.security.ids.ban, { time: 600, factor: 4, max: 604800, forgetAfter: 86400 });
  assert.equal(c.security.ids.stateFile, '/etc/palisade/var/bans.json');
  assert.equal(c.security.ids.nftables.enabled, false);
  assert.deepEqual(c.security.alerts, { to: [], level: 10, delay: 30, interval: 900 });
});

test('security options are read', () => {
  const c = parseConfig(
    BASE +
      `security:
  log: { file: /var/log/palisade-security.log, format: asterisk, min_level: 3 }
  ids:
    trusted: [192.0.2.0/24, "2001:db8::/32"]
    auth_failures: { threshold: 3, window: 120 }
    flood_rate: 0
    scanners: { action: drop, user_agents: [evil-scan] }
    nftables: { enabled: true, table: fw, set: bad4, set6: bad6 }
  alerts: { to: admin@example.org, level: 8, delay: 5, interval: 60 }
`,
    '/etc/palisade/palisade.yaml',
  );
  assert.equal(c.security.log.file, '/var/log/palisade-security.log');
  assert.equal(c.security.log.format, 'asterisk');
  assert.deepEqual(c.security.ids.trusted, ['192.0.2.0/24', '2001:db8::/32']);
  assert.deepEqual(c.security.ids.authFailures, { threshold: 3, window: 120 });
  assert.equal(c.security.ids.floodRate, 0);
  assert.deepEqual(c.security.ids.scanners, { action: 'drop', userAgents: ['evil-scan'] });
  assert.deepEqual(c.security.ids.nftables, { enabled: true, family: 'inet', table: 'fw', set: 'bad4', set6: 'bad6' });
  assert.deepEqual(c.security.alerts, { to: ['admin@example.org'], level: 8, delay: 5, interval: 60 });
});

test('security errors name file:line and what is expected; unknown keys are rejected', () => {
  const msg = errorsOf(
    BASE +
      `security:
  ids:
    trusted: [10.0.0.0/33]
    scanners: { action: explode }
    auth_failure: { threshold: 3 }
  alerts: { to: [not-an-address] }
  logg: {}
`,
  );
  assert.match(msg, /palisade\.yaml:6:\d+.*security\.ids\.trusted\[0\] "10\.0\.0\.0\/33" is not an address or CIDR/);
  assert.match(msg, /security\.ids\.scanners\.action .*expected one of ban, drop, log, off/);
  assert.match(msg, /unknown key security\.ids\.auth_failure; did you mean auth_failures\?/);
  assert.match(msg, /security\.alerts\.to\[0\] "not-an-address" is not an e-mail address/);
  assert.match(msg, /unknown key security\.logg; did you mean log\?/);
});
