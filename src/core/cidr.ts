// CIDR prefixes as integers, so matching an address is a few integer
// compares: IPv4 as one uint32, IPv6 as four uint32 words. The address text
// Node hands us (rinfo.address) is scanned once per check with charCodeAt —
// no split, no regular expression, no allocation for IPv4. The one CIDR
// matcher: the ACLs on the packet path, the IDS trusted list, and the
// configuration readers that validate both.
import { PalisadeError } from './errors.js';

export interface Cidr {
  /** 4 for IPv4 (an IPv4-mapped IPv6 address is matched as IPv4), 6 for IPv6 */
  family: 4 | 6;
  /** network words (1 for IPv4, 4 for IPv6), already masked */
  net: Uint32Array;
  mask: Uint32Array;
  text: string;
}

/** IPv4 dotted quad → uint32, or -1 when not one */
export function parseIpv4(s: string, start = 0): number {
  let value = 0;
  let part = -1;
  let dots = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (part < 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = -1;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + (c - 48);
      if (part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || part < 0) return -1;
  return value * 256 + part;
}

const scratch = new Uint32Array(4);

/** IPv6 text → four words written into `out`; false when malformed. Handles "::" and a trailing dotted quad. */
export function parseIpv6(s: string, out: Uint32Array = scratch): boolean {
  const pct = s.indexOf('%'); // zone id (fe80::1%eth0) is not part of the address
  const text = pct >= 0 ? s.slice(0, pct) : s;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
  }
  while (i < text.length) {
    let j = i;
    let v = 0;
    while (j < text.length && text.charCodeAt(j) !== 58) j++;
    const part = text.slice(i, j);
    if (part.includes('.')) {
      if (j !== text.length) return false;
      const v4 = parseIpv4(part);
      if (v4 < 0) return false;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = j;
      break;
    }
    if (part.length === 0 || part.length > 4) return false;
    for (let k = 0; k < part.length; k++) {
      const c = part.charCodeAt(k);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    groups.push(v);
    if (j >= text.length) {
      i = j;
      break;
    }
    if (text.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i = j + 2;
    } else {
      i = j + 1;
      if (i >= text.length) return false;
    }
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const full = new Array<number>(8).fill(0);
  if (gap < 0) for (let k = 0; k < 8; k++) full[k] = groups[k]!;
  else {
    for (let k = 0; k < gap; k++) full[k] = groups[k]!;
    const tail = groups.length - gap;
    for (let k = 0; k < tail; k++) full[8 - tail + k] = groups[gap + k]!;
  }
  for (let k = 0; k < 4; k++) out[k] = ((full[2 * k]! << 16) | full[2 * k + 1]!) >>> 0;
  return true;
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128); a message when invalid */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const lenText = slash >= 0 ? text.slice(slash + 1) : '';
  if (slash >= 0 && !/^\d{1,3}$/.test(lenText)) return 'has a malformed prefix length; expected ADDRESS/BITS such as 10.0.0.0/8';
  const v4 = parseIpv4(addr);
  if (v4 >= 0) {
    const bits = slash >= 0 ? Number(lenText) : 32;
    if (bits > 32) return 'has a prefix length above 32 for IPv4';
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { family: 4, net: Uint32Array.of((v4 & mask) >>> 0), mask: Uint32Array.of(mask), text };
  }
  const words = new Uint32Array(4);
  if (!parseIpv6(addr, words)) return 'is not an IPv4 or IPv6 address or CIDR; expected such as 192.168.1.0/24 or 2001:db8::/32';
  const bits = slash >= 0 ? Number(lenText) : 128;
  if (bits > 128) return 'has a prefix length above 128 for IPv6';
  const mask = new Uint32Array(4);
  for (let k = 0; k < 4; k++) {
    const b = Math.max(0, Math.min(32, bits - 32 * k));
    mask[k] = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
    words[k] = (words[k]! & mask[k]!) >>> 0;
  }
  // ::ffff:a.b.c.d/96+n is the IPv4 prefix a.b.c.d/n: match it as IPv4
  if (bits >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    return { family: 4, net: Uint32Array.of(words[3]!), mask: Uint32Array.of(mask[3]!), text };
  }
  return { family: 6, net: words, mask, text };
}

/**
 * A set of prefixes, matched in list order. Address text is converted once
 * per call; IPv4-mapped IPv6 addresses (::ffff:1.2.3.4, what a dual-stack
 * socket reports) are matched against the IPv4 prefixes.
 */
export class CidrSet {
  private readonly v4net: Uint32Array;
  private readonly v4mask: Uint32Array;
  private readonly v6: Cidr[];
  readonly entries: readonly string[];

  constructor(cidrs: readonly Cidr[]) {
    const v4 = cidrs.filter((c) => c.family === 4);
    this.v4net = Uint32Array.from(v4.map((c) => c.net[0]!));
    this.v4mask = Uint32Array.from(v4.map((c) => c.mask[0]!));
    this.v6 = cidrs.filter((c) => c.family === 6);
    this.entries = cidrs.map((c) => c.text);
  }

  /** throws with the offending entry when one is invalid (config code validates first) */
  static parse(texts: readonly string[]): CidrSet {
    const out: Cidr[] = [];
    for (const t of texts) {
      const c = parseCidr(t);
      if (typeof c === 'string') throw new PalisadeError('PAL_ERR_CIDR', `"${t}" ${c}`);
      out.push(c);
    }
    return new CidrSet(out);
  }

  get size(): number {
    return this.v4net.length + this.v6.length;
  }

  has(address: string): boolean {
    let v4 = parseIpv4(address);
    if (v4 < 0 && address.length > 7 && address.charCodeAt(0) === 58 && address.startsWith('::ffff:')) v4 = parseIpv4(address, 7);
    if (v4 >= 0) return this.hasV4(v4);
    if (this.v6.length === 0 || !parseIpv6(address, scratch)) return false;
    for (const c of this.v6) {
      if (
        (scratch[0]! & c.mask[0]!) >>> 0 === c.net[0] &&
        (scratch[1]! & c.mask[1]!) >>> 0 === c.net[1] &&
        (scratch[2]! & c.mask[2]!) >>> 0 === c.net[2] &&
        (scratch[3]! & c.mask[3]!) >>> 0 === c.net[3]
      )
        return true;
    }
    return false;
  }

  hasV4(v4: number): boolean {
    const n = this.v4net;
    const m = this.v4mask;
    for (let i = 0; i < n.length; i++) if ((v4 & m[i]!) >>> 0 === n[i]) return true;
    return false;
  }
}
