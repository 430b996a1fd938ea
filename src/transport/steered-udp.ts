// The UDP listen sockets of several workers (sip.workers > 1, docs/
// operations.md "One machine, every core"), one per worker, each in a
// SO_REUSEPORT group on the same address and port, with a classic BPF
// program attached to the group (SO_ATTACH_REUSEPORT_CBPF, Linux 4.5) that
// hands each datagram to the socket of the worker that owns its source
// address: the kernel computes addressWorker() itself, so a new request, its
// retransmissions and CANCEL reach their worker at once and are not read by
// another and forwarded (which was 50–66 % of all datagrams with one socket
// shared by every worker).
//
// The primary opens the group (worker i's socket i-th, so the program's
// index is the worker's), keeps the sockets for its whole life and gives
// each worker its own on a file descriptor of the child (UDP_FDS_ENV says
// which); it never reads them. A restarted worker gets the same socket back,
// with what arrived for it meanwhile still queued.
//
// Node 20's dgram cannot set SO_REUSEPORT (its reusePort came in 22.12) nor
// attach a filter, so the sockets are made through libc with koffi (an FFI
// library: socket, setsockopt, bind, getsockname) and handed to dgram with
// bind({ fd }). Where that cannot be done (not Linux, koffi's binary missing,
// an older kernel) the workers share one socket through node:cluster, as
// before, and the primary logs why.
import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';
import { constants as osConstants } from 'node:os';
import { parseIpv4, parseIpv6 } from '../core/cidr.js';
import { formatListenPoint } from './address.js';
import type { ListenPoint } from './types.js';

/** the environment variable that tells a worker which inherited descriptors are its UDP listen sockets: "udp:ADDR:PORT@FD,…" */
export const UDP_FDS_ENV = 'PALISADE_UDP_FDS';

/** the multiplier of the source-address hash (2^32 / golden ratio) */
const MUL = 0x9e3779b1;

/**
 * The worker that owns a source address's out-of-dialog traffic, among
 * `count`: the address's last 32 bits (the whole IPv4 address; the last
 * quarter of an IPv6 one) multiplied by MUL, its high half folded onto its
 * low, modulo count. The BPF program below computes the same in the kernel.
 */
export function addressWorker(address: string, count: number): number {
  if (count <= 1) return 0;
  const p = lastWord(address);
  let h = Math.imul(p, MUL) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h % count;
}

/** an address text's last 32 bits, as the kernel reads them from the packet (network order); 0 when unreadable */
export function lastWord(address: string): number {
  const v4 = parseIpv4(address);
  if (v4 >= 0) return v4 >>> 0;
  return parseIpv6(address, words) ? words[3]! : 0;
}

const words = new Uint32Array(4);

// ---- the classic BPF program (linux/filter.h)

const BPF_LD_W_ABS = 0x20;
const BPF_ALU_MUL_K = 0x24;
const BPF_ALU_RSH_K = 0x74;
const BPF_ALU_XOR_X = 0xac;
const BPF_ALU_MOD_K = 0x94;
const BPF_MISC_TAX = 0x07;
const BPF_RET_A = 0x16;
/** SKF_NET_OFF: offsets from the network (IP) header, the program's data being the UDP payload */
const SKF_NET_OFF = -0x100000;

export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** the program returning addressWorker(source, count): the index of the socket in the group */
export function steeringProgram(ipv6: boolean, count: number): BpfInstruction[] {
  // IPv4: the source address at 12 of the header; IPv6: its last 4 bytes at 8 + 12
  const at = (SKF_NET_OFF + (ipv6 ? 20 : 12)) >>> 0;
  const i = (code: number, k = 0): BpfInstruction => ({ code, jt: 0, jf: 0, k: k >>> 0 });
  return [
    i(BPF_LD_W_ABS, at), // A = last 32 bits of the source address
    i(BPF_ALU_MUL_K, MUL), // A *= MUL
    i(BPF_MISC_TAX), // X = A
    i(BPF_ALU_RSH_K, 16), // A >>= 16
    i(BPF_ALU_XOR_X), // A ^= X
    i(BPF_ALU_MOD_K, count), // A %= count
    i(BPF_RET_A), // the socket at index A
  ];
}

// ---- the sockets

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEPORT = 15;
const SO_ATTACH_REUSEPORT_CBPF = 51;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;

interface Libc {
  socket(domain: number, type: number, proto: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  setsockoptProgram(fd: number, level: number, name: number, prog: { len: number; filter: BpfInstruction[] }, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  getsockname(fd: number, addr: Buffer, len: number[]): number;
  close(fd: number): number;
  errno(): number;
  progSize: number;
}

let libc: Libc | null = null;

function loadLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux') throw new Error(`SO_REUSEPORT steering needs Linux (this is ${process.platform})`);
  // koffi is loaded only here, on the primary of several workers
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const filter = koffi.struct('palisade_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
  const fprog = koffi.struct('palisade_sock_fprog', { len: 'uint16', filter: koffi.pointer(filter) });
  libc = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    setsockoptProgram: lib.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(fprog), 'uint32_t']),
    bind: lib.func('int bind(int, const void *, uint32_t)'),
    getsockname: lib.func('int getsockname(int, _Out_ void *, _Inout_ uint32_t *)'),
    close: lib.func('int close(int)'),
    // the errno koffi kept from the last call, which JavaScript run since cannot have changed
    errno: () => koffi.errno(),
    progSize: koffi.sizeof(fprog),
  };
  return libc;
}

/** struct sockaddr_in / sockaddr_in6 for a literal address */
function sockaddr(address: string, port: number): Buffer {
  if (isIPv6(address)) {
    if (address.includes('%')) throw new Error(`a scoped IPv6 address (${address}) is not steered`);
    const b = Buffer.alloc(28);
    b.writeUInt16LE(AF_INET6, 0);
    b.writeUInt16BE(port, 2);
    const w = new Uint32Array(4);
    if (!parseIpv6(address, w)) throw new Error(`not an IPv6 address: ${address}`);
    for (let i = 0; i < 4; i++) b.writeUInt32BE(w[i]!, 8 + 4 * i);
    return b;
  }
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  const v4 = parseIpv4(address);
  if (v4 < 0) throw new Error(`not an IPv4 address: ${address}`);
  b.writeUInt32BE(v4, 4);
  return b;
}

function fail(c: Libc, what: string, fds: number[]): never {
  const errno = c.errno();
  for (const fd of fds) c.close(fd);
  const name = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
  throw new Error(`${what}: ${name}`);
}

/**
 * Opens `count` sockets on the listen point, in one SO_REUSEPORT group
 * steered by source address: the i-th is worker i's. Port 0 takes one free
 * port for all of them. Throws (having closed what it opened) when any step
 * fails.
 */
export function openSteeredGroup(point: ListenPoint, count: number): number[] {
  const c = loadLibc();
  const v6 = isIPv6(point.address);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  const fds: number[] = [];
  let port = point.port;
  for (let i = 0; i < count; i++) {
    // before the socket: an address that cannot be read (a scoped IPv6 one) throws with nothing open
    const addr = sockaddr(point.address, port);
    const fd = c.socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(c, 'socket', fds);
    fds.push(fd);
    if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one, 4) !== 0) fail(c, 'SO_REUSEPORT', fds);
    if (v6 && c.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4) !== 0) fail(c, 'IPV6_V6ONLY', fds);
    if (c.bind(fd, addr, addr.length) !== 0) fail(c, `bind ${formatListenPoint({ ...point, port })}`, fds);
    if (i === 0) {
      if (port === 0) {
        const got = Buffer.alloc(28);
        if (c.getsockname(fd, got, [got.length]) !== 0) fail(c, 'getsockname', fds);
        port = got.readUInt16BE(2);
      }
      const filter = steeringProgram(v6, count);
      if (c.setsockoptProgram(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, { len: filter.length, filter }, c.progSize) !== 0) {
        fail(c, 'SO_ATTACH_REUSEPORT_CBPF', fds);
      }
    }
  }
  return fds;
}

/** "udp:ADDR:PORT@FD,…" for the child's environment */
export function formatUdpFds(points: Array<{ point: ListenPoint; fd: number }>): string {
  return points.map((p) => `${formatListenPoint(p.point)}@${p.fd}`).join(',');
}

/** the descriptors a worker was given, by listen point text ("udp:127.0.0.1:5060"); empty when none */
export function parseUdpFds(v: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!v) return out;
  for (const item of v.split(',')) {
    const at = item.lastIndexOf('@');
    const fd = Number(item.slice(at + 1));
    if (at > 0 && Number.isInteger(fd) && fd > 2) out.set(item.slice(0, at), fd);
  }
  return out;
}
