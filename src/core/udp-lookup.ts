// The address look-up for a UDP socket that sends to IP literals. dgram asks
// its socket's `lookup` for every datagram sent, and the default,
// dns.lookup, answers even an IP literal a tick later (process.nextTick),
// with the objects that takes: on the SIP, RTP and IAX2 paths, where every
// destination is a literal already, that is pure cost (6.34 -> 5.74 µs of
// CPU per send here, bench/udp-send-bench.mjs). This one answers a literal
// at once; anything else (a host name) still goes to dns.lookup.
import dns from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** for dgram.createSocket({ lookup }): dgram passes the socket's family, 4 or 6 */
export function literalLookup(address: string, family: dns.LookupOneOptions | number, callback: LookupCallback): void {
  const kind = isIP(address);
  if (kind !== 0) callback(null, address, kind);
  else if (typeof family === 'number') dns.lookup(address, family, callback);
  else dns.lookup(address, family, callback);
}
