// Reads the parts of the `security:` section that belong to the intrusion
// defences: `log` (the security log), `ids` (rules and bans) and `alerts`
// (e-mail to the administrator). The caller owns the `security` map and
// calls done() on it after every reader of that section has run.
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { isScalar } from 'yaml';
import type { AlertsConfig, IdsConfig, SecurityLogConfig } from './security-config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import { parseCidr } from '../../core/cidr.js';
import { DEFAULT_SCANNER_AGENTS } from '../ids/scanner-agents.js';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const EMAIL_RE = /^[^\s@<>"]+@[^\s@<>"]+$/;

function path(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export function readSecurityLog(m: MapReader, baseDir: string): SecurityLogConfig {
  const enabled = m.bool('enabled', true);
  const file = m.string('file', 'var/security.log', { expect: 'expected a file path such as var/security.log' });
  const format = m.oneOf('format', 'both', ['asterisk', 'json', 'both'] as const);
  // 3: failures, bans and successful logins; challenges (2) only when asked for
  const minLevel = m.int('min_level', 4, 0, 15, '(OSSEC level)');
  m.done();
  return { file: enabled ? path(baseDir, file) : null, format, minLevel };
}

export function readIds(m: MapReader, baseDir: string): IdsConfig {
  const enabled = m.bool('enabled', true);
  // like fail2ban's ignoreip: the host itself is never banned unless the administrator says otherwise
  const trustedItems = m.list('trusted');
  const trusted: string[] = trustedItems === undefined ? ['127.0.0.1', '::1'] : [];
  for (const [i, item] of (trustedItems ?? []).entries()) {
    if (item.text === null || typeof parseCidr(item.text) === 'string') {
      m.issues.add(item.offset, `security.ids.trusted[${i}] "${item.text ?? ''}" is not an address or CIDR; expected such as 192.0.2.10 or 10.0.0.0/8`);
    } else trusted.push(item.text);
  }
  const af = m.child('auth_failures');
  const authFailures = { threshold: af.int('threshold', 5, 1, 10000, 'failures'), window: af.int('window', 60, 1, 86400, 'seconds') };
  af.done();
  const registeredThreshold = m.int('registered_threshold', 50, 1, 100000, 'failures');
  const br = m.child('bad_requests');
  const badRequests = { threshold: br.int('threshold', 20, 1, 100000, 'requests'), window: br.int('window', 60, 1, 86400, 'seconds') };
  br.done();
  const floodRate = m.int('flood_rate', 500, 0, 10_000_000, 'packets per second from one address (0 = off)');
  const sc = m.child('scanners');
  const action = sc.oneOf('action', 'ban', ['ban', 'drop', 'log', 'off'] as const);
  let userAgents = [...DEFAULT_SCANNER_AGENTS];
  const uaItems = sc.list('user_agents');
  if (uaItems !== undefined) {
    userAgents = [];
    for (const [i, item] of uaItems.entries()) {
      if (!item.text) sc.issues.add(item.offset, `security.ids.scanners.user_agents[${i}] must be a non-empty string such as friendly-scanner`);
      else userAgents.push(item.text);
    }
  }
  sc.done();
  const b = m.child('ban');
  const ban = {
    time: b.int('time', 600, 1, 31_536_000, 'seconds'),
    factor: b.int('factor', 4, 1, 100),
    max: b.int('max', 604_800, 1, 31_536_000, 'seconds'),
    forgetAfter: b.int('forget_after', 86_400, 0, 31_536_000, 'seconds'),
  };
  if (ban.max < ban.time) b.error('max', `security.ids.ban.max ${ban.max} is below ban.time ${ban.time}; expected max >= time`);
  b.done();
  const stateFile = path(baseDir, m.string('state_file', 'var/bans.json', { expect: 'expected a file path such as var/bans.json' }));
  const n = m.child('nftables');
  const nftables = {
    enabled: n.bool('enabled', false),
    family: n.oneOf('family', 'inet', ['inet', 'ip', 'ip6', 'bridge', 'netdev'] as const),
    table: n.string('table', 'palisade', { pattern: NAME_RE, expect: 'expected an nftables table name such as palisade' }),
    set: n.string('set', 'banned', { pattern: NAME_RE, expect: 'expected an nftables set name (type ipv4_addr, flags timeout) such as banned' }),
    set6: n.string('set6', 'banned6', { pattern: NAME_RE, expect: 'expected an nftables set name (type ipv6_addr, flags timeout) such as banned6' }),
  };
  n.done();
  m.done();
  return { enabled, trusted, authFailures, registeredThreshold, badRequests, floodRate, scanners: { action, userAgents }, ban, stateFile, nftables };
}

export function readAlerts(m: MapReader): AlertsConfig {
  const to: string[] = [];
  const node = m.node('to');
  const single = node !== undefined && !isScalar(node) ? m.list('to') : undefined;
  if (node !== undefined && isScalar(node)) {
    // a single address written as a string
    const s = m.string('to', '', { pattern: EMAIL_RE, expect: 'expected an e-mail address such as admin@example.org, or a list of them' });
    if (s) to.push(s);
  } else {
    for (const [i, item] of (single ?? []).entries()) {
      if (item.text === null || !EMAIL_RE.test(item.text))
        m.issues.add(item.offset, `security.alerts.to[${i}] "${item.text ?? ''}" is not an e-mail address; expected such as admin@example.org`);
      else to.push(item.text);
    }
  }
  const level = m.int('level', 10, 0, 15, '(OSSEC level)');
  const delay = m.int('delay', 30, 0, 3600, 'seconds');
  const interval = m.int('interval', 900, 0, 86400, 'seconds');
  m.done();
  return { to, level, delay, interval };
}

/** a ban address given on the command line or the control socket */
export function isBannableAddress(a: string): boolean {
  return isIPv4(a) || isIPv6(a);
}
