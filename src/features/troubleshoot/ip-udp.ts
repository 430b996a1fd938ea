// Synthesized IPv4 / IPv6 + UDP headers (RFC 791, RFC 8200, RFC 768) around a
// payload, for captures written from what Palisade recorded rather than from
// the wire. A payload kept only in part (an RTP header) gets the lengths of
// the whole packet and a zero UDP checksum (RFC 768: "no checksum"; for IPv6,
// readers only check it when asked to).
import { isIPv4, isIPv6 } from 'node:net';
import type { Endpoint } from './trace-types.js';

function v4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map((x) => Number(x) & 0xff));
}

/** 16 bytes of an IPv6 address (with :: and a dotted IPv4 tail) */
export function v6Bytes(a: string): Buffer {
  const out = Buffer.alloc(16);
  let s = a.split('%')[0]!;
  let tail: Buffer | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    tail = v4Bytes(s.slice(lastColon + 1));
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = s.includes('::') ? s.split('::') : [s, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] || '0', 16) & 0xffff, i * 2);
  if (tail) tail.copy(out, 12);
  return out;
}

/** an IPv4 address as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2), for a pair of mixed families */
function as6(a: string): Buffer {
  return isIPv4(a) ? v6Bytes(`::ffff:${a}`) : v6Bytes(a);
}

function sum16(b: Buffer, from: number, to: number, acc: number): number {
  for (let i = from; i + 1 < to; i += 2) acc += b.readUInt16BE(i);
  if ((to - from) & 1) acc += b[to - 1]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

let ipId = 0;

/**
 * An IP packet carrying `payload` from `src` to `dst` over UDP. `wireLength`
 * is the payload's length on the wire when only its start was kept.
 */
export function udpPacket(src: Endpoint, dst: Endpoint, payload: Buffer, wireLength = payload.length): Buffer {
  const v4 = isIPv4(src.address) && isIPv4(dst.address);
  if (!v4 && !(isIPv6(src.address) || isIPv6(dst.address))) throw new RangeError(`not IP addresses: ${src.address}, ${dst.address}`);
  const ipLen = v4 ? 20 : 40;
  const b = Buffer.alloc(ipLen + 8 + payload.length);
  const udpLen = 8 + wireLength;
  if (v4) {
    b[0] = 0x45;
    b.writeUInt16BE(20 + udpLen, 2);
    b.writeUInt16BE(ipId++ & 0xffff, 4);
    b.writeUInt16BE(0x4000, 6); // don't fragment
    b[8] = 64;
    b[9] = 17;
    v4Bytes(src.address).copy(b, 12);
    v4Bytes(dst.address).copy(b, 16);
    b.writeUInt16BE(fold(sum16(b, 0, 20, 0)), 10);
  } else {
    b.writeUInt32BE(0x60000000, 0);
    b.writeUInt16BE(udpLen, 4);
    b[6] = 17;
    b[7] = 64;
    as6(src.address).copy(b, 8);
    as6(dst.address).copy(b, 24);
  }
  const u = ipLen;
  b.writeUInt16BE(src.port, u);
  b.writeUInt16BE(dst.port, u + 2);
  b.writeUInt16BE(udpLen, u + 4);
  payload.copy(b, u + 8);
  if (wireLength === payload.length) {
    // pseudo-header (RFC 768; RFC 8200 §8.1): addresses, protocol, UDP length
    let acc = v4 ? sum16(b, 12, 20, 0) : sum16(b, 8, 40, 0);
    acc += 17 + udpLen;
    acc = sum16(b, u, b.length, acc);
    b.writeUInt16BE(fold(acc) || 0xffff, u + 6);
  }
  return b;
}
