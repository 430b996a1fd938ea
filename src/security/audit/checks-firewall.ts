// The host firewall against Palisade's listeners: an input chain that drops
// by default, with accepts for the SIP listen ports, the RTP range and the
// HTTP port — and, where the configuration names trusted networks, accepts
// limited to them. The ruleset is read by gather-host.ts and modelled by
// firewall-rules.ts (IPv4, new connections from an arbitrary address).
import type { AuditCheck, Finding } from './audit-types.js';
import { hostOf, unchecked } from './checks-host.js';
import { addressScope } from './checks-exposure.js';
import { filtersNothing, inputChains, type Proto, type Reach, type Ruleset, reach, reachRange } from './firewall-rules.js';
import { at, listenPoints, str, strings } from './raw-config.js';

interface Port {
  /** "SIP udp:0.0.0.0:5060" */
  label: string;
  proto: Proto;
  lo: number;
  hi: number;
  kind: 'sip' | 'rtp' | 'http';
}

const SIP_PROTO: Record<string, Proto> = { udp: 'udp', tcp: 'tcp', tls: 'tcp', ws: 'tcp', wss: 'tcp' };

/** the ports Palisade listens on for other machines (loopback listeners need no firewall rule) */
export function listenedPorts(raw: Record<string, unknown>): Port[] {
  const out: Port[] = [];
  for (const l of listenPoints(raw)) {
    const proto = SIP_PROTO[l.transport];
    if (!proto || addressScope(l.address) === 'loopback') continue;
    // udp:0.0.0.0:5060 and udp:[::]:5060 are one port to the firewall model (IPv4)
    if (out.some((p) => p.proto === proto && p.lo === Number(l.port))) continue;
    out.push({ label: `SIP ${l.text}`, proto, lo: Number(l.port), hi: Number(l.port), kind: 'sip' });
  }
  if (out.length > 0) {
    const m = /^(\d+)-(\d+)$/.exec((str(at(raw, 'rtp', 'ports')) ?? '10000-20000').trim());
    if (m) out.push({ label: `RTP (rtp.ports ${m[1]}-${m[2]})`, proto: 'udp', lo: Number(m[1]), hi: Number(m[2]), kind: 'rtp' });
  }
  // the http: section is read defensively: "ADDRESS:PORT" listen entries or a bare port
  const http = [...strings(at(raw, 'http', 'listen')), ...strings(at(raw, 'http', 'port'))];
  for (const h of http) {
    const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(h.trim());
    if (!m || (m[1] && addressScope(m[1]) === 'loopback')) continue;
    out.push({ label: `HTTP ${h}`, proto: 'tcp', lo: Number(m[2]), hi: Number(m[2]), kind: 'http' });
  }
  return out;
}

/** IPv4 networks of a permit list that limits sources (not the whole Internet) */
function trusted(raw: Record<string, unknown>, ...path: string[]): string[] {
  const permit = strings(at(raw, ...path));
  if (permit.some((p) => p === '0.0.0.0/0' || p === '::/0')) return [];
  return permit.filter((p) => !p.includes(':'));
}

const portText = (p: Port) => `${p.proto} ${p.lo === p.hi ? p.lo : `${p.lo}-${p.hi}`}`;
const accept = (p: Port, from: string[]) =>
  `nft add rule inet filter input ${from.length ? `ip saddr { ${from.join(', ')} } ` : ''}${p.proto} dport ${p.lo === p.hi ? p.lo : `${p.lo}-${p.hi}`} accept`;

/** a whole ruleset to start from, for a host with no filtering at all */
function baseRuleset(ports: Port[], sipFrom: string[], httpFrom: string[]): string {
  const lines = [
    "a drop-by-default input chain that lets Palisade's ports in (adjust SSH to your port and admin network), in /etc/nftables.conf:",
    'table inet filter {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    iif "lo" accept',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    '    tcp dport 22 accept',
    ...ports.map((p) => {
      const from = p.kind === 'sip' ? sipFrom : p.kind === 'http' ? httpFrom : [];
      return `    ${from.length ? `ip saddr { ${from.join(', ')} } ` : ''}${p.proto} dport ${p.lo === p.hi ? p.lo : `${p.lo}-${p.hi}`} accept`;
    }),
    '  }',
    '}',
    'then: nft -c -f /etc/nftables.conf && systemctl enable --now nftables',
  ];
  return lines.join('\n');
}

function judgePorts(rs: Ruleset, ports: Port[], sipFrom: string[], httpFrom: string[]): Finding[] {
  const out: Finding[] = [];
  for (const p of ports) {
    const pieces = p.lo === p.hi ? [{ lo: p.lo, hi: p.hi, reach: reach(rs, p.proto, p.lo) }] : reachRange(rs, p.proto, p.lo, p.hi);
    const closed = pieces.filter((x) => x.reach === 'closed');
    if (closed.length > 0) {
      const which = p.lo === p.hi ? portText(p) : closed.map((x) => (x.lo === x.hi ? `${x.lo}` : `${x.lo}-${x.hi}`)).join(', ');
      out.push({
        id: 'firewall-blocks-listener',
        severity: 'medium',
        what:
          p.kind === 'rtp'
            ? `the firewall drops RTP ports ${which} of ${p.label}: calls given those ports have no audio`
            : `the firewall drops ${portText(p)} for every address, but Palisade listens there (${p.label}): nobody outside this host can reach it`,
        fix: accept(p, p.kind === 'sip' ? sipFrom : p.kind === 'http' ? httpFrom : []),
      });
      continue;
    }
    const open = pieces.every((x: { reach: Reach }) => x.reach === 'open');
    if (!open) continue;
    if (p.kind === 'sip') {
      out.push({
        id: 'firewall-sip-open',
        severity: sipFrom.length ? 'medium' : 'low',
        what: sipFrom.length
          ? `${p.label} is open to every address in the firewall although security.acl.permit names the trusted networks: scanners reach Palisade instead of being dropped by the kernel`
          : `${p.label} is open to every address in the firewall (needed only when phones or providers connect from anywhere)`,
        fix: `${accept(p, sipFrom.length ? sipFrom : ['PROVIDER_NET', 'OFFICE_NET'])}, and remove the rule accepting ${portText(p)} from anywhere (nft -a list chain inet filter input; nft delete rule inet filter input handle N)`,
      });
    } else if (p.kind === 'http') {
      out.push({
        id: 'firewall-http-open',
        severity: 'medium',
        what: `${p.label} (administration) is open to every address in the firewall`,
        fix: `${accept(p, httpFrom.length ? httpFrom : ['ADMIN_NET'])}, and remove the rule accepting ${portText(p)} from anywhere`,
      });
    }
  }
  return out;
}

export const hostFirewall: AuditCheck = {
  id: 'host-firewall',
  title: 'host firewall in front of the SIP, RTP and HTTP ports',
  run(input) {
    const host = hostOf(input);
    if ('status' in host) return host;
    const fw = host.firewall;
    if (fw.state !== 'read') {
      const perm = /permission|not permitted/i.test(fw.why);
      return unchecked(
        fw,
        perm
          ? 'run palisade audit as root (sudo): reading the ruleset needs CAP_NET_ADMIN'
          : 'install nftables (apt-get install nftables) and give the host a ruleset; if the firewall is a separate device, check it there',
      );
    }
    const ports = listenedPorts(input.raw);
    const sipFrom = trusted(input.raw, 'security', 'acl', 'permit');
    const httpFrom = trusted(input.raw, 'admin', 'acl', 'permit');
    if (filtersNothing(fw.ruleset)) {
      const none = inputChains(fw.ruleset).length === 0;
      return [
        {
          id: 'firewall-missing',
          severity: 'high',
          what: none
            ? `no host firewall: the ${fw.source === 'nft' ? 'nftables ruleset' : 'iptables filter table'} has no input chain, so every port of this host is open`
            : `the host firewall filters nothing: the input chain's policy is accept and no rule drops, so every port of this host is open`,
          fix: baseRuleset(ports, sipFrom, httpFrom),
        },
      ];
    }
    return judgePorts(fw.ruleset, ports, sipFrom, httpFrom);
  },
};
