// How addresses are written in SIP text and in listen points.
import type { ListenPoint } from './types.js';

/** a host for a URI or Via: IPv6 in brackets (RFC 3261 §25.1, RFC 5118) */
export function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** "udp:127.0.0.1:5060", "tcp:[::1]:5060" */
export function formatListenPoint(p: ListenPoint): string {
  return `${p.transport}:${formatHost(p.address)}:${p.port}`;
}
