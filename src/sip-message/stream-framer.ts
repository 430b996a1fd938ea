// Message framing for stream transports (TCP, TLS). RFC 3261 §18.3: on a
// stream the Content-Length header is mandatory and is the only way to find
// where a message ends, so a message without one — or with an unreadable
// one — loses framing and the connection must be closed. CRLFs between
// messages are keep-alives (RFC 5626 §3.5.1): a double CRLF "ping" must be
// answered with a single CRLF "pong", which the caller sends.

export interface StreamFramerOptions {
  /** most bytes held while waiting for the rest of a message (default 256 KiB) */
  maxBuffer?: number;
  /** largest single message, headers + body (default 65535) */
  maxMessage?: number;
}

export interface FramerResult {
  /** complete messages, each exactly one start line + headers + body */
  messages: Buffer[];
  /** a CRLFCRLF ping was seen: answer with "\r\n" */
  keepAlive: boolean;
  /** framing lost; close the connection. Stays set for every later push. */
  error?: string;
}

const EMPTY = Buffer.alloc(0);
const CRLFCRLF = Buffer.from('\r\n\r\n');

export class StreamFramer {
  private buf: Buffer = EMPTY;
  private failed?: string;
  private readonly maxBuffer: number;
  private readonly maxMessage: number;

  constructor(opts?: StreamFramerOptions) {
    this.maxMessage = opts?.maxMessage ?? 65535;
    this.maxBuffer = Math.max(opts?.maxBuffer ?? 262144, this.maxMessage);
  }

  /** bytes currently buffered (a partial message) */
  get buffered(): number {
    return this.buf.length;
  }

  get error(): string | undefined {
    return this.failed;
  }

  push(chunk: Buffer): FramerResult {
    const out: FramerResult = { messages: [], keepAlive: false };
    if (this.failed !== undefined) {
      out.error = this.failed;
      return out;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const buf = this.buf;
    let pos = 0;
    for (;;) {
      // keep-alives: CRLFCRLF is a ping; a lone CRLF is a pong or padding
      if (pos < buf.length && (buf[pos] === 0x0d || buf[pos] === 0x0a)) {
        if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a && buf[pos + 2] === 0x0d && buf[pos + 3] === 0x0a) {
          out.keepAlive = true;
          pos += 4;
          continue;
        }
        if (buf[pos] === 0x0d && pos + 3 >= buf.length && isCrlfPrefix(buf, pos)) break; // wait: may become a ping
        pos += buf[pos] === 0x0d && buf[pos + 1] === 0x0a ? 2 : 1;
        continue;
      }
      if (pos >= buf.length) break;
      const hdrEnd = buf.indexOf(CRLFCRLF, pos);
      if (hdrEnd < 0) {
        if (buf.length - pos > this.maxMessage) return this.fail(out, 'header section exceeds the message size limit');
        break;
      }
      const cl = findContentLength(buf, pos, hdrEnd);
      if (typeof cl === 'string') return this.fail(out, cl);
      const total = hdrEnd + 4 - pos + cl;
      if (total > this.maxMessage) return this.fail(out, `message of ${total} bytes exceeds ${this.maxMessage}`);
      if (buf.length - pos < total) break;
      out.messages.push(buf.subarray(pos, pos + total));
      pos += total;
    }
    this.buf = pos >= buf.length ? EMPTY : buf.subarray(pos);
    if (this.buf.length > this.maxBuffer) return this.fail(out, 'buffered data exceeds the limit');
    // do not pin a large chunk for a small remainder
    if (this.buf.length > 0 && this.buf.buffer.byteLength > this.buf.length * 4) this.buf = Buffer.from(this.buf);
    return out;
  }

  private fail(out: FramerResult, why: string): FramerResult {
    this.failed = why;
    this.buf = EMPTY;
    out.error = why;
    return out;
  }
}

function isCrlfPrefix(buf: Buffer, pos: number): boolean {
  const pat = [0x0d, 0x0a, 0x0d, 0x0a];
  for (let k = 0; pos + k < buf.length; k++) if (buf[pos + k] !== pat[k]) return false;
  return true;
}

/**
 * Content-Length from the header block [start, end): the value of the one
 * `Content-Length:` / `l:` line. Missing, repeated or non-numeric → error
 * string (RFC 3261 §18.3, RFC 4475 §3.3.9 mcl01).
 */
function findContentLength(buf: Buffer, start: number, end: number): number | string {
  let found = -1;
  let line = buf.indexOf(0x0a, start);
  while (line >= 0 && line < end) {
    const ls = line + 1;
    const c0 = buf[ls]! | 0x20;
    if (c0 === 0x63 /* c */ || c0 === 0x6c /* l */) {
      let k = ls;
      while (k < end && buf[k] !== 0x3a && buf[k] !== 0x0d && buf[k] !== 0x20 && buf[k] !== 0x09) k++;
      const name = buf.toString('latin1', ls, k).toLowerCase();
      if (name === 'content-length' || name === 'l') {
        while (k < end && (buf[k] === 0x20 || buf[k] === 0x09)) k++;
        if (buf[k] !== 0x3a) return 'malformed Content-Length';
        k++;
        while (k < end && (buf[k] === 0x20 || buf[k] === 0x09)) k++;
        let n = 0;
        let digits = 0;
        while (k < end && buf[k]! >= 0x30 && buf[k]! <= 0x39) {
          n = n * 10 + (buf[k]! - 0x30);
          if (++digits > 9) return 'Content-Length too large';
          k++;
        }
        while (k < end && (buf[k] === 0x20 || buf[k] === 0x09)) k++;
        if (digits === 0 || (k < end && buf[k] !== 0x0d && buf[k] !== 0x0a)) return 'malformed Content-Length';
        if (found >= 0) return 'more than one Content-Length';
        found = n;
      }
    }
    line = buf.indexOf(0x0a, ls);
  }
  if (found < 0) return 'missing Content-Length (required on stream transports)';
  return found;
}
