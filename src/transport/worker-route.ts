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
//    out-of-dialog traffic, and its IDS counters, stay in one worker.

const LF = 10;
const COLON = 58;

/** FNV-1a of the address text: the worker of an address's out-of-dialog traffic */
export function addressWorker(address: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

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
      const name = headerName(data, start, colon, invite);
      if (response && (name === 'via' || name === 'v')) return markAfter(data, colon, end, 'branch=z9hg4bk');
      if (!response && (name === 'to' || name === 't')) {
        const m = markAfter(data, colon, end, 'tag=');
        if (m >= 0 || !invite) return m;
      }
      if (name === 'replaces') replaces = markAfter(data, colon, end, '');
    }
    at = end0;
  }
  return replaces;
}

/** lower-case header name, blanks before the colon dropped; only names of up to 3 letters, and Replaces in an INVITE */
function headerName(data: Buffer, start: number, colon: number, invite: boolean): string {
  let e = colon;
  while (e > start && (data[e - 1] === 32 || data[e - 1] === 9)) e--;
  if (e - start > 3 && !(invite && e - start === 8)) return '';
  return data.toString('latin1', start, e).toLowerCase();
}

/** where the value starts in ":  value" */
function blanksAfterColon(line: string): number {
  let k = 1;
  while (line.charCodeAt(k) === 32 || line.charCodeAt(k) === 9) k++;
  return k;
}

/** after `key` (lower-case, matched case-insensitively) within [from, end): "pw" DIGITS "." → DIGITS */
function markAfter(data: Buffer, from: number, end: number, key: string): number {
  const line = data.toString('latin1', from, end).toLowerCase();
  // a Via line may hold several values: only the first (the top Via) counts
  const comma = key === 'tag=' ? -1 : line.indexOf(',');
  // no key: the value itself (after the colon and any blanks) starts with the mark
  let k = key === '' ? blanksAfterColon(line) : line.indexOf(key);
  if (k < 0 || (comma >= 0 && k > comma)) return -1;
  k += key.length;
  if (line.charCodeAt(k) !== 0x70 || line.charCodeAt(k + 1) !== 0x77) return -1; // "pw"
  let n = 0;
  let i = k + 2;
  for (; i < line.length && i < k + 5; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return i > k + 2 && line.charCodeAt(i) === 0x2e ? n : -1;
}
