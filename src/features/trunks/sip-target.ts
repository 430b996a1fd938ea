// Where a SIP trunk's requests go: RFC 3263 §4 resolution of the trunk's
// host into an ordered list of targets (address, port, transport), tried in
// order when one does not answer (§4.3: 408, 503 or a transport error move
// on to the next).
//
//   an IP address            → that address (port: given or 5060/5061)
//   a name with a port       → its A/AAAA records (§4.2: no SRV when a port is given)
//   a name without a port    → NAPTR (§4.1) → SRV (§4.2, RFC 2782 order) → A/AAAA,
//                              falling back to SRV without NAPTR, then to A/AAAA
import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { Remote } from '../../transport/types.js';

export type SipTransport = 'udp' | 'tcp' | 'tls';

export interface TargetQuery {
  host: string;
  port: number;
  portGiven: boolean;
  transport: SipTransport;
}

/** the part of node:dns/promises' Resolver that resolution uses (a test points one at its own server) */
export type DnsResolver = Pick<Resolver, 'resolveNaptr' | 'resolveSrv' | 'resolve4' | 'resolve6'>;

const NAPTR_SERVICE: Record<SipTransport, string> = { udp: 'SIP+D2U', tcp: 'SIP+D2T', tls: 'SIPS+D2T' };
const SRV_PREFIX: Record<SipTransport, string> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

async function addresses(r: DnsResolver, name: string): Promise<string[]> {
  const [v4, v6] = await Promise.allSettled([r.resolve4(name), r.resolve6(name)]);
  return [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
}

/** RFC 2782: lowest priority first; within one priority, weighted random order */
export function orderSrv<T extends { priority: number; weight: number }>(records: T[], random: () => number = Math.random): T[] {
  const out: T[] = [];
  const byPrio = new Map<number, T[]>();
  for (const r of records) byPrio.set(r.priority, [...(byPrio.get(r.priority) ?? []), r]);
  for (const prio of [...byPrio.keys()].sort((a, b) => a - b)) {
    // zero weights first, so they keep a small chance (RFC 2782, "Weight")
    const left = byPrio.get(prio)!.sort((a, b) => a.weight - b.weight);
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      let pick = random() * total;
      let i = 0;
      for (; i < left.length - 1; i++) {
        pick -= left[i]!.weight;
        if (pick < 0 || total === 0) break;
      }
      out.push(left.splice(i, 1)[0]!);
    }
  }
  return out;
}

async function srvTargets(r: DnsResolver, name: string, transport: SipTransport): Promise<Remote[]> {
  let records: Awaited<ReturnType<DnsResolver['resolveSrv']>>;
  try {
    records = await r.resolveSrv(name);
  } catch {
    return [];
  }
  const out: Remote[] = [];
  for (const s of orderSrv(records)) {
    if (s.name === '.' || s.name === '') continue; // "service decidedly not available"
    for (const a of await addresses(r, s.name)) out.push({ transport, address: a, port: s.port });
  }
  return out;
}

/** the targets for a trunk's host, best first; [] when nothing resolves */
export async function resolveSipTargets(q: TargetQuery, resolver: DnsResolver = new Resolver()): Promise<Remote[]> {
  const bare = q.host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return [{ transport: q.transport, address: bare, port: q.port }];
  if (q.portGiven) return (await addresses(resolver, bare)).map((a) => ({ transport: q.transport, address: a, port: q.port }));
  // §4.1: NAPTR records whose service is the transport we use, in order/preference order
  try {
    const naptr = (await resolver.resolveNaptr(bare))
      .filter((n) => n.flags.toLowerCase() === 's' && n.service.toUpperCase() === NAPTR_SERVICE[q.transport])
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const n of naptr) {
      const t = await srvTargets(resolver, n.replacement, q.transport);
      if (t.length > 0) return t;
    }
  } catch {
    // no NAPTR records: §4.1 goes on with SRV
  }
  const srv = await srvTargets(resolver, SRV_PREFIX[q.transport] + bare, q.transport);
  if (srv.length > 0) return srv;
  const defPort = q.transport === 'tls' ? 5061 : 5060;
  return (await addresses(resolver, bare)).map((a) => ({ transport: q.transport, address: a, port: defPort }));
}
