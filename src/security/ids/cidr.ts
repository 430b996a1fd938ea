// CIDR lists for the trusted list (addresses the IDS never bans). IPv4 is
// matched as 32-bit integers; IPv6 as BigInt. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) are matched as IPv4.
import { isIPv4, isIPv6 } from 'node:net';

interface V4Range {
  net: number;
  mask: number;
}
interface V6Range {
  net: bigint;
  mask: bigint;
}

function v4ToInt(a: string): number {
  const p = a.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

function v6ToBig(a: string): bigint {
  let s = a;
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const n = v4ToInt(tail);
    s = s.slice(0, lastColon + 1) + ((n >>> 16) & 0xffff).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest !== undefined ? 8 - h.length - r.length : 0;
  const parts = [...h, ...Array<string>(fill).fill('0'), ...r];
  let v = 0n;
  for (const p of parts) v = (v << 16n) | BigInt(parseInt(p || '0', 16));
  return v;
}

/** `null` when the text is not ADDRESS or ADDRESS/PREFIX */
export function parseCidr(text: string): { v4?: V4Range; v6?: V6Range } | null {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const bitsText = slash >= 0 ? text.slice(slash + 1) : undefined;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return null;
  if (isIPv4(addr)) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (bits > 32) return null;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { v4: { net: (v4ToInt(addr) & mask) >>> 0, mask } };
  }
  if (isIPv6(addr)) {
    const bits = bitsText === undefined ? 128 : Number(bitsText);
    if (bits > 128) return null;
    const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
    return { v6: { net: v6ToBig(addr) & mask, mask } };
  }
  return null;
}

export class CidrList {
  private v4: V4Range[] = [];
  private v6: V6Range[] = [];
  /** exact addresses, for the common case of single hosts: one Set lookup */
  private hosts = new Set<string>();

  constructor(entries: readonly string[] = []) {
    for (const e of entries) this.add(e);
  }

  add(entry: string): void {
    const r = parseCidr(entry);
    if (!r) throw new Error(`PAL_ERR_CIDR: "${entry}" is not an address or CIDR such as 192.0.2.0/24`);
    if (r.v4 && r.v4.mask === 0xffffffff) this.hosts.add(entry.split('/')[0]!);
    else if (r.v4) this.v4.push(r.v4);
    if (r.v6) this.v6.push(r.v6);
  }

  get size(): number {
    return this.hosts.size + this.v4.length + this.v6.length;
  }

  has(address: string): boolean {
    if (this.hosts.has(address)) return true;
    if (this.v4.length === 0 && this.v6.length === 0) return false;
    let a = address;
    if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
    if (isIPv4(a)) {
      if (this.hosts.has(a)) return true;
      const n = v4ToInt(a);
      for (const r of this.v4) if (((n & r.mask) >>> 0) === r.net) return true;
      return false;
    }
    if (isIPv6(a)) {
      const n = v6ToBig(a);
      for (const r of this.v6) if ((n & r.mask) === r.net) return true;
    }
    return false;
  }
}
