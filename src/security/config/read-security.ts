// The security sections of palisade.yaml: `security` (global ACL, local
// networks, reputation), `admin` (management ACL), `numbering` (the number
// plan), `rates` (price per minute by prefix), `fraud` (known fraud
// numbers, defaults for call permissions and limits, anomaly detection),
// and the per-extension keys call_permissions, max_calls, calls_per_minute,
// max_outbound_calls, daily_spend_limit, register_from, call_from.
// docs/configuration.md documents each option.
import { isMap, isScalar } from 'yaml';
import type { AclConfig, ExtensionPolicyConfig, FraudConfig, SecuritySections } from './security-config-types.js';
import { type MapReader, describe } from '../../config/yaml-reader.js';
import { parseCidr } from '../../core/cidr.js';
import { CALL_CLASSES, DEFAULT_NUMBERING, type CallClass } from '../fraud/number-plan.js';
import { DEFAULT_LIMITS } from '../fraud/principal.js';
import { DEFAULT_REPUTATION } from '../reputation/reputation-service.js';
import { DEFAULT_ANOMALY } from '../fraud/calling-profile.js';

const DIGITS = /^[0-9]{1,15}$/;
// private, loopback, link-local and ULA ranges: what "inside" means until configured
export const DEFAULT_LOCAL_NETWORKS = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'];

// the host itself: local tools, health checks, a co-located proxy
export const DEFAULT_REPUTATION_EXEMPT = ['127.0.0.0/8', '::1/128'];

/** a decimal number (prices, spend limits) */
export function readDecimal(m: MapReader, key: string, def: number, min: number, max: number, what: string): number {
  const n = m.node(key);
  if (n === undefined) return def;
  const name = m.path ? `${m.path}.${key}` : key;
  if (!isScalar(n) || typeof n.value !== 'number' || !Number.isFinite(n.value)) {
    m.error(key, `${name} must be a number, found ${describe(n)}; expected ${what}`);
    return def;
  }
  if (n.value < min || n.value > max) {
    m.error(key, `${name} ${n.value} is out of range; expected ${min}..${max} (${what})`);
    return def;
  }
  return n.value;
}

function cidrList(m: MapReader, key: string): string[] | null {
  const items = m.list(key);
  if (items === undefined) return null;
  const name = m.path ? `${m.path}.${key}` : key;
  const out: string[] = [];
  for (const [i, item] of items.entries()) {
    const c = item.text === null ? 'must be a string' : parseCidr(item.text);
    if (typeof c === 'string') m.issues.add(item.offset, `${name}[${i}] "${item.text ?? ''}" ${c}`);
    else out.push(item.text!);
  }
  return out;
}

function digitList(m: MapReader, key: string, def: string[], what: string): string[] {
  const items = m.list(key);
  if (items === undefined) return def;
  const name = m.path ? `${m.path}.${key}` : key;
  const out: string[] = [];
  for (const [i, item] of items.entries()) {
    const t = item.text?.replace(/^\+/, '') ?? '';
    if (!DIGITS.test(t)) m.issues.add(item.offset, `${name}[${i}] "${item.text ?? ''}" is not a digit prefix; expected ${what}, quoted such as "00"`);
    else out.push(t);
  }
  return out;
}

function readAcl(m: MapReader): AclConfig {
  const acl = { permit: cidrList(m, 'permit') ?? [], deny: cidrList(m, 'deny') ?? [] };
  m.done();
  return acl;
}

function classList(m: MapReader, key: string): CallClass[] | null {
  const items = m.list(key);
  if (items === undefined) return null;
  const name = m.path ? `${m.path}.${key}` : key;
  const out: CallClass[] = [];
  for (const [i, item] of items.entries()) {
    if (item.text === null || !(CALL_CLASSES as readonly string[]).includes(item.text)) {
      m.issues.add(item.offset, `${name}[${i}] "${item.text ?? ''}" is not a destination class; expected ${CALL_CLASSES.join(', ')}`);
    } else if (!out.includes(item.text as CallClass)) out.push(item.text as CallClass);
  }
  return out;
}

/** the per-extension keys, read from the extension's own map */
export function readExtensionPolicy(m: MapReader): ExtensionPolicyConfig {
  const opt = (key: string, min: number, max: number, unit: string): number | null => (m.has(key) ? m.int(key, 0, min, max, unit) : null);
  return {
    callPermissions: classList(m, 'call_permissions'),
    maxCalls: opt('max_calls', 0, 10000, 'concurrent calls (0 = unlimited)'),
    callsPerMinute: opt('calls_per_minute', 0, 6000, 'call attempts per minute (0 = unlimited)'),
    maxOutboundCalls: opt('max_outbound_calls', 1, 10000, 'active outbound calls'),
    dailySpendLimit: m.has('daily_spend_limit') ? readDecimal(m, 'daily_spend_limit', 0, 0, 1e9, 'currency units per day, 0 = no rated calls') : null,
    registerFrom: cidrList(m, 'register_from'),
    callFrom: cidrList(m, 'call_from'),
  };
}

/** `sec` is the security map, shared with the IDS readers; the caller calls sec.done() */
export function readSecuritySections(root: MapReader, sec: MapReader): SecuritySections {
  const acl = readAcl(sec.child('acl'));
  const localNetworks = cidrList(sec, 'local_networks') ?? DEFAULT_LOCAL_NETWORKS;
  const rm = sec.child('reputation');
  const R = DEFAULT_REPUTATION;
  const reputation = {
    halfLife: rm.int('half_life', R.halfLife, 60, 365 * 86400, 'seconds'),
    authCreditInterval: rm.int('auth_credit_interval', R.authCreditInterval, 0, 86400 * 30, 'seconds'),
    goodCallSeconds: rm.int('good_call_seconds', R.goodCallSeconds, 1, 86400, 'seconds'),
    shortCallSeconds: rm.int('short_call_seconds', R.shortCallSeconds, 1, 3600, 'seconds'),
    shortCallBurst: rm.int('short_call_burst', R.shortCallBurst, 2, 10000, 'calls'),
    shortCallWindow: rm.int('short_call_window', R.shortCallWindow, 10, 86400, 'seconds'),
    exempt: cidrList(rm, 'exempt') ?? DEFAULT_REPUTATION_EXEMPT,
  };
  rm.done();

  const am = root.child('admin');
  const adminAcl = readAcl(am.child('acl'));
  am.done();

  const nm = root.child('numbering');
  const N = DEFAULT_NUMBERING;
  const countryCode = nm.string('country_code', N.countryCode, { pattern: /^[1-9][0-9]{0,2}$/, expect: 'expected 1 to 3 digits such as "44"' });
  const nationalPrefix = nm.string('national_prefix', N.nationalPrefix, { pattern: /^[0-9]{0,3}$/, expect: 'expected up to 3 digits such as "0", or "" for none' });
  const localRange = nm.string('local_digits', `${N.localMinDigits}-${N.localMaxDigits}`, { pattern: /^\d{1,2}-\d{1,2}$/, expect: 'expected MIN-MAX such as 3-8' });
  const [lmin, lmax] = localRange.split('-').map(Number) as [number, number];
  if (lmin > lmax) nm.error('local_digits', `numbering.local_digits "${localRange}" has MIN above MAX`);
  const numbering = {
    countryCode,
    nationalPrefix,
    internationalPrefixes: digitList(nm, 'international_prefixes', N.internationalPrefixes, 'the international access prefixes'),
    emergency: digitList(nm, 'emergency', N.emergency, 'emergency numbers'),
    premium: digitList(nm, 'premium', N.premium, 'premium-rate prefixes as dialled'),
    premiumInternational: digitList(nm, 'premium_international', N.premiumInternational, 'E.164 prefixes that are premium wherever dialled'),
    mobile: digitList(nm, 'mobile', N.mobile, 'mobile prefixes as dialled'),
    localMinDigits: lmin,
    localMaxDigits: lmax,
  };
  nm.done();

  const rates: Record<string, number> = {};
  const ratesNode = root.node('rates');
  if (ratesNode !== undefined) {
    if (!isMap(ratesNode)) root.error('rates', `rates must be a mapping of prefix to price per minute, found ${describe(ratesNode)}; expected such as "44": 0.02`);
    else {
      const ratesMap = root.child('rates');
      for (const key of ratesMap.keys()) {
        const prefix = key.replace(/^\+/, '');
        if (!DIGITS.test(prefix)) {
          ratesMap.issues.add(ratesMap.keyOffset(key), `rates key "${key}" is not a digit prefix; expected an E.164 prefix such as "44" or "1900"`);
          ratesMap.node(key);
          continue;
        }
        rates[prefix] = readDecimal(ratesMap, key, 0, 0, 1e6, 'price per minute');
      }
      ratesMap.done();
    }
  }

  const fm = root.child('fraud');
  const numbers = digitList(fm, 'numbers', [], 'a known fraud number or prefix in E.164 such as "+88213"');
  const dm = fm.child('defaults');
  const D = DEFAULT_LIMITS;
  const defaults: FraudConfig['defaults'] = {
    callPermissions: classList(dm, 'call_permissions') ?? [...D.permissions],
    maxCalls: dm.int('max_calls', D.maxCalls, 0, 10000, 'concurrent calls (0 = unlimited)'),
    callsPerMinute: dm.int('calls_per_minute', D.callsPerMinute, 0, 6000, 'call attempts per minute (0 = unlimited)'),
    maxOutboundCalls: dm.int('max_outbound_calls', D.maxOutboundCalls, 1, 10000, 'active outbound calls'),
    dailySpendLimit: readDecimal(dm, 'daily_spend_limit', D.dailySpendLimit, 0, 1e9, 'currency units per day, 0 = no rated calls'),
  };
  dm.done();
  const an = fm.child('anomaly');
  const A = DEFAULT_ANOMALY;
  const anomaly: FraudConfig['anomaly'] = {
    mode: an.oneOf('mode', A.mode, ['off', 'flag', 'block'] as const),
    minCalls: an.int('min_calls', A.minCalls, 1, 100000, 'calls learned before judging'),
    destDigits: an.int('dest_digits', A.destDigits, 1, 15, 'digits of E.164 that name a destination'),
    hourShare: readDecimal(an, 'hour_share', A.hourShare, 0, 1, 'fraction of calls below which an hour of day is unusual'),
    freqFactor: readDecimal(an, 'freq_factor', A.freqFactor, 1, 1000, 'times the learned hourly rate'),
    freqMin: an.int('freq_min', A.freqMin, 1, 100000, 'calls per hour'),
    longCallMin: an.int('long_call_min', A.longCallMin, 1, 604800, 'seconds'),
    profileMaxAgeDays: an.int('profile_max_age_days', A.profileMaxAgeDays, 0, 36500, 'days (0 = kept forever)'),
  };
  an.done();
  fm.done();
  return { security: { acl, localNetworks, reputation }, admin: { acl: adminAcl }, numbering, rates, fraud: { numbers, defaults, anomaly } };
}
