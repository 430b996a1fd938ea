// Which worker owns a packet (sip.workers > 1, docs/operations.md "One
// machine, every core"), decided by a byte scan before any parse:
//  - a response: the worker whose mark is in the top Via's branch (it sent
//    the request; src/core/workers.ts);
//  - a request with a To tag carrying a worker's mark: that worker (an
//    in-dialog request or an ACK for a response it sent);
//  - an INVITE with Replaces (RFC 3891: BLF pickup, attended transfer) whose
//    Call-ID carries a worker's mark: that worker, which holds the dialog
//    it replaces;
//  - anything else (a new request, its CANCEL and retransmissions, a
//    foreign tag): hash(source address) % count, so all of one address's
//    out-of-dialog traffic, and its IDS counters, stay in one worker. Where
//    each worker has a socket of its own, the kernel hands such a packet to
//    that worker in the first place (src/transport/steered-udp.ts).

import { addressWorker } from './steered-udp.js';

const LF = 10;
const COLON = 58;
const COMMA = 44;

// the kernel steers by the same function (src/transport/steered-udp.ts)
export { addressWorker };

/** the worker that owns the packet, among `count` */
export function packetOwner(data: Buffer, address: string, count: number): number {
  const marked = markedWorker(data);
  return marked >= 0 && marked < count ? marked : addressWorker(address, count);
}

/** the worker index marked in a response's top Via branch or a request's To tag; -1 when none */
export function markedWorker(data: Buffer): number {
  // "SIP/2.0 200 OK": a response
  const response = data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f;
  // "INVITE ": may carry Replaces
  const invite = !response && data[0] === 0x49 && data[1] === 0x4e && data[2] === 0x56 && data[6] === 0x20;
  let replaces = -1;
  let at = data.indexOf(LF);
  while (at >= 0 && at + 1 < data.length) {
    const start = at + 1;
    const end0 = data.indexOf(LF, start);
    const end = end0 < 0 ? data.length : end0;
    // the empty line ends the headers
    if (end - start <= 1) return replaces;
    const colon = data.indexOf(COLON, start);
    if (colon > start && colon < end) {
      const kind = headerKind(data, start, colon, invite);
      if (response && kind === VIA) return markAfter(data, colon, end, 'branch=z9hg4bk');
      if (!response && kind === TO) {
        const m = markAfter(data, colon, end, 'tag=');
        if (m >= 0 || !invite) return m;
      }
      if (kind === REPLACES) replaces = markAfter(data, colon, end, '');
    }
    at = end0;
  }
  return replaces;
}

const VIA = 1;
const TO = 2;
const REPLACES = 3;

/** which of Via (v), To (t) and, in an INVITE, Replaces the header is, blanks before the colon dropped; 0 for any other */
function headerKind(data: Buffer, start: number, colon: number, invite: boolean): number {
  let e = colon;
  while (e > start && (data[e - 1] === 32 || data[e - 1] === 9)) e--;
  const len = e - start;
  const c0 = data[start]! | 0x20;
  if (len === 1) return c0 === 0x76 ? VIA : c0 === 0x74 ? TO : 0; // v, t
  if (len === 2) return c0 === 0x74 && (data[start + 1]! | 0x20) === 0x6f ? TO : 0; // to
  if (len === 3) return c0 === 0x76 && (data[start + 1]! | 0x20) === 0x69 && (data[start + 2]! | 0x20) === 0x61 ? VIA : 0; // via
  if (len === 8 && invite) return indexOfAnyCase(data, 'replaces', start, e) === start ? REPLACES : 0;
  return 0;
}

/** the first place in [from, stop) where `key` (lower-case ASCII) stands, in any case; -1 when nowhere */
function indexOfAnyCase(data: Buffer, key: string, from: number, stop: number): number {
  const first = key.charCodeAt(0);
  const last = stop - key.length;
  outer: for (let i = from; i <= last; i++) {
    if ((data[i]! | 0x20) !== first) continue;
    for (let j = 1; j < key.length; j++) {
      const c = data[i + j]!;
      // letters compare without case; '=' and digits as they are
      if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== key.charCodeAt(j)) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * After `key` (lower-case, matched in any case) within [from, end): "pw"
 * DIGITS "." → DIGITS. Read from the packet's bytes: no string is made.
 */
function markAfter(data: Buffer, from: number, end: number, key: string): number {
  // a Via line may hold several values: only the first (the top Via) counts
  let stop = end;
  if (key !== 'tag=') {
    const comma = data.indexOf(COMMA, from);
    if (comma >= 0 && comma < end) stop = comma;
  }
  let k: number;
  if (key === '') {
    // no key: the value itself (after the colon and any blanks) starts with the mark
    k = from + 1;
    while (k < stop && (data[k] === 32 || data[k] === 9)) k++;
  } else {
    k = indexOfAnyCase(data, key, from, stop);
    if (k < 0) return -1;
    k += key.length;
  }
  if (k + 1 >= stop || (data[k]! | 0x20) !== 0x70 || (data[k + 1]! | 0x20) !== 0x77) return -1; // "pw"
  let n = 0;
  let i = k + 2;
  for (; i < stop && i < k + 5; i++) {
    const c = data[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return i > k + 2 && i < stop && data[i] === 0x2e ? n : -1;
}
