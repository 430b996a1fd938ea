// Checks on exposure: where SIP listens and who may reach it, registration
// ACLs, call limits, toll-fraud permissions, listeners nobody uses, and what
// the Server header gives away.
import { isIPv4, isIPv6 } from 'node:net';
import type { AuditCheck, Finding } from './audit-types.js';
import { arr, at, extensions, listenPoints, listOf, obj, str, strings } from './raw-config.js';

const PRIVATE_V4: Array<[number, number]> = [
  [0x0a000000, 8], // 10/8
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0xa9fe0000, 16], // 169.254/16
  [0x64400000, 10], // 100.64/10 (carrier-grade NAT)
  [0x7f000000, 8], // loopback
];

export type AddressScope = 'loopback' | 'private' | 'wildcard' | 'public';

export function addressScope(address: string): AddressScope {
  if (address === '0.0.0.0' || address === '::') return 'wildcard';
  if (isIPv4(address)) {
    const n = address.split('.').reduce((a, b) => a * 256 + Number(b), 0);
    if (n >>> 24 === 127) return 'loopback';
    for (const [base, bits] of PRIVATE_V4) if (n >>> (32 - bits) === base >>> (32 - bits)) return 'private';
    return 'public';
  }
  if (isIPv6(address)) {
    const a = address.toLowerCase();
    if (a === '::1') return 'loopback';
    if (/^f[cd]/.test(a) || /^fe[89ab]/.test(a)) return 'private';
    return 'public';
  }
  return 'public';
}

/** security.acl limits sources: a non-empty permit list serves only those (and not everything) */
function globalAclLimits(raw: Record<string, unknown>): boolean {
  const permit = strings(at(raw, 'security', 'acl', 'permit'));
  return permit.length > 0 && !permit.some((p) => p === '0.0.0.0/0' || p === '::/0');
}

export const publicWithoutAcl: AuditCheck = {
  id: 'public-sip-no-acl',
  title: 'SIP on public or wildcard addresses without an ACL limiting sources to known networks',
  run(input) {
    const exposed = listenPoints(input.raw).filter((l) => {
      const s = addressScope(l.address);
      return s === 'public' || s === 'wildcard';
    });
    if (exposed.length === 0 || globalAclLimits(input.raw)) return [];
    const exts = extensions(input.raw);
    const allPinned = exts.length > 0 && exts.every((e) => strings(e.raw.register_from).length > 0);
    return [
      {
        id: 'public-sip-no-acl',
        severity: allPinned ? 'high' : 'critical',
        what: `SIP listens on ${listOf(exposed.map((l) => l.text))} (reachable from the Internet) and security.acl does not limit sources to known networks`,
        fix: 'set security.acl.permit to the office and provider networks (deny the rest), or listen on a private address behind the firewall',
      },
    ];
  },
};

export const localNetworks: AuditCheck = {
  id: 'local-networks-wide',
  title: 'security.local_networks naming the whole Internet or public ranges',
  run(input) {
    const nets = strings(at(input.raw, 'security', 'local_networks'));
    const wide = nets.filter((n) => {
      const [addr, bits] = n.split('/');
      if (addr === undefined) return false;
      const prefix = Number(bits ?? (addr.includes(':') ? 128 : 32));
      return prefix < 8 || addressScope(addr) === 'public' || addressScope(addr) === 'wildcard';
    });
    if (wide.length === 0) return [];
    return [
      {
        id: 'local-networks-wide',
        severity: wide.some((n) => /^(0\.0\.0\.0|::)\/0$/.test(n)) ? 'critical' : 'high',
        what: `security.local_networks includes ${listOf(wide)}: calls claiming to be from internal users are accepted from there`,
        fix: 'list only the office and VPN networks in security.local_networks; give remote workers call_from instead',
      },
    ];
  },
};

export const registrationAcls: AuditCheck = {
  id: 'registration-acl-missing',
  title: 'per-extension registration ACLs (register_from)',
  run(input) {
    const missing = extensions(input.raw)
      .filter((e) => strings(e.raw.register_from).length === 0)
      .map((e) => e.number);
    if (missing.length === 0) return [];
    const onlyLoopback = listenPoints(input.raw).every((l) => addressScope(l.address) === 'loopback');
    return [
      {
        id: 'registration-acl-missing',
        severity: onlyLoopback ? 'low' : 'medium',
        what: `${missing.length} extension(s) may register from anywhere: ${listOf(missing)}`,
        fix: 'add register_from: [office CIDRs] to each extension ("this extension may only register from the office LAN")',
      },
    ];
  },
};

function unlimited(v: unknown): boolean {
  return v === 0 || v === '0';
}

export const callLimits: AuditCheck = {
  id: 'call-limits-missing',
  title: 'concurrent call and call-rate limits',
  run(input) {
    const out: Finding[] = [];
    const defaults = obj(at(input.raw, 'fraud', 'defaults'));
    const offDefault = ['max_calls', 'calls_per_minute'].filter((k) => defaults && unlimited(defaults[k]));
    if (offDefault.length > 0) {
      out.push({
        id: 'call-limits-missing',
        severity: 'high',
        what: `fraud.defaults turns off ${offDefault.join(' and ')} (0 = unlimited) for every extension that sets none`,
        fix: 'set fraud.defaults.max_calls (e.g. 4) and calls_per_minute (e.g. 10)',
      });
    }
    const offExt = extensions(input.raw)
      .filter((e) => unlimited(e.raw.max_calls) || unlimited(e.raw.calls_per_minute))
      .map((e) => e.number);
    if (offExt.length > 0) {
      out.push({
        id: 'call-limits-missing',
        severity: 'medium',
        what: `call limits are off (0 = unlimited) on ${listOf(offExt)}`,
        fix: 'give these extensions max_calls and calls_per_minute, or remove the 0 to use fraud.defaults',
      });
    }
    const maxDuration = at(input.raw, 'calls', 'max_duration');
    if (unlimited(maxDuration)) {
      out.push({ id: 'call-limits-missing', severity: 'medium', what: 'calls.max_duration is 0: a call may last forever', fix: 'set calls.max_duration (default 14400 s)' });
    }
    return out;
  },
};

const COSTLY = ['international', 'premium'];

export const tollFraud: AuditCheck = {
  id: 'toll-fraud-permissions',
  title: 'international and premium-rate call permissions',
  run(input) {
    const out: Finding[] = [];
    const defaults = strings(at(input.raw, 'fraud', 'defaults', 'call_permissions'));
    const dflt = COSTLY.filter((c) => defaults.includes(c));
    if (dflt.length > 0) {
      out.push({
        id: 'toll-fraud-permissions',
        severity: 'critical',
        what: `fraud.defaults.call_permissions grants ${dflt.join(' and ')} to every extension that sets none`,
        fix: 'remove international/premium from fraud.defaults.call_permissions and grant them only to the extensions that need them, with a daily_spend_limit',
      });
    }
    const granted: string[] = [];
    for (const e of extensions(input.raw)) {
      const perms = strings(e.raw.call_permissions);
      const costly = COSTLY.filter((c) => perms.includes(c));
      if (costly.length > 0) granted.push(`${e.number} (${costly.join('+')}${e.raw.daily_spend_limit === undefined ? ', default spend limit' : ''})`);
    }
    if (granted.length > 0) {
      out.push({
        id: 'toll-fraud-permissions',
        severity: 'high',
        what: `international/premium calls allowed for ${listOf(granted, 4)}`,
        fix: 'grant these classes only where needed, with register_from limits and a low daily_spend_limit',
      });
    }
    return out;
  },
};

export const unusedListeners: AuditCheck = {
  id: 'unused-listeners',
  title: 'listen points and transports nothing uses',
  run(input) {
    const points = listenPoints(input.raw);
    const out: Finding[] = [];
    if (input.live) {
      const used = new Set(input.live.registrations.map((r) => String(r.received ?? '').split(':')[0]));
      const idle = points.filter((p) => !used.has(p.transport));
      if (input.live.registrations.length > 0 && idle.length > 0) {
        out.push({
          id: 'unused-listeners',
          severity: 'low',
          what: `no registered phone uses ${listOf(idle.map((p) => p.text))}`,
          fix: 'remove listen points nobody needs from sip.listen: each one is attack surface',
        });
      }
      return out;
    }
    const exts = extensions(input.raw);
    const allRequire = exts.length > 0 && exts.every((e) => e.raw.encryption === 'required');
    const plain = points.filter((p) => p.transport === 'udp' || p.transport === 'tcp');
    if (allRequire && plain.length > 0 && points.some((p) => p.transport === 'tls')) {
      out.push({
        id: 'unused-listeners',
        severity: 'low',
        what: `every extension requires encryption, yet SIP also listens on ${listOf(plain.map((p) => p.text))}`,
        fix: 'remove the plain UDP/TCP listen points unless trunks need them',
      });
    }
    return out;
  },
};

export const serverHeader: AuditCheck = {
  id: 'server-header-version',
  title: 'Server/User-Agent header revealing software and version',
  run(input) {
    const ua = str(at(input.raw, 'sip', 'user_agent'));
    if (ua === undefined || !/\d+\.\d+|asterisk|freepbx|palisade\/|\bv\d/i.test(ua)) return [];
    return [
      {
        id: 'server-header-version',
        severity: 'low',
        what: `sip.user_agent "${ua}" tells scanners which software and version answers`,
        fix: 'set sip.user_agent to a neutral name without a version (the default "Palisade")',
      },
    ];
  },
};

export { arr };
