// SIP message parser (RFC 3261 §7, §18.3, §25). Works on the raw Buffer with
// index scans: finds the end of the header section natively, decodes the
// header block once, then walks it line by line. Only what the transaction
// layer needs is validated eagerly (one CSeq, Call-ID, From, To, a parseable
// top Via, numeric Max-Forwards and Content-Length); everything else is read
// lazily through SipMessage's accessors. Never throws.
import { SipMessage } from './sip-message.js';
import { SipParseError } from './errors.js';
import { canonicalHeaderNameAt, splitHeaderList } from './header-names.js';
import { isDigits, isTokenChar } from './name-addr.js';
import { parseVia } from './via.js';

export interface ParseOptions {
  /** whole message size limit in bytes (default 65535) */
  maxSize?: number;
  /** header field line limit (default 256) */
  maxHeaders?: number;
  /** the message came from a stream transport: Content-Length is mandatory (RFC 3261 §18.3) */
  stream?: boolean;
}

export type ParseResult =
  | { ok: true; msg: SipMessage }
  | {
      ok: false;
      error: string;
      code: SipParseErrorCode;
      /**
       * The message as far as it was parsed, present when the start line and
       * header section were read and the top Via and CSeq are usable, so the
       * caller can answer 400 (or 505 for a bad version) with buildResponse.
       */
      msg?: SipMessage;
    };

/** Stable error codes, for logs, metrics and the security layer. */
export const SIP_PARSE_ERRORS = {
  TOO_LARGE: 'PAL_ERR_SIP_TOO_LARGE',
  EMPTY: 'PAL_ERR_SIP_EMPTY',
  BAD_START_LINE: 'PAL_ERR_SIP_BAD_START_LINE',
  BAD_VERSION: 'PAL_ERR_SIP_BAD_VERSION',
  BAD_STATUS: 'PAL_ERR_SIP_BAD_STATUS',
  BAD_HEADER_LINE: 'PAL_ERR_SIP_BAD_HEADER_LINE',
  HEADER_TOO_LONG: 'PAL_ERR_SIP_HEADER_TOO_LONG',
  TOO_MANY_HEADERS: 'PAL_ERR_SIP_TOO_MANY_HEADERS',
  MISSING_HEADER: 'PAL_ERR_SIP_MISSING_HEADER',
  DUPLICATE_HEADER: 'PAL_ERR_SIP_DUPLICATE_HEADER',
  BAD_HEADER: 'PAL_ERR_SIP_BAD_HEADER',
  BAD_CONTENT_LENGTH: 'PAL_ERR_SIP_BAD_CONTENT_LENGTH',
  BODY_TRUNCATED: 'PAL_ERR_SIP_BODY_TRUNCATED',
  NO_CONTENT_LENGTH: 'PAL_ERR_SIP_NO_CONTENT_LENGTH',
  INTERNAL: 'PAL_ERR_SIP_INTERNAL',
} as const;
export type SipParseErrorCode = (typeof SIP_PARSE_ERRORS)[keyof typeof SIP_PARSE_ERRORS];

export const DEFAULT_MAX_SIZE = 65535;
export const DEFAULT_MAX_HEADERS = 256;
/** longest logical header line (after unfolding) we accept */
export const MAX_HEADER_LINE = 8192;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

class Failure {
  constructor(
    readonly code: SipParseErrorCode,
    readonly error: string,
  ) {}
}

function failure(code: SipParseErrorCode, error: string, msg?: SipMessage): ParseResult {
  return msg ? { ok: false, code, error, msg } : { ok: false, code, error };
}

/** Parse one SIP message from a datagram or a framed stream message. Never throws. */
export function parseMessage(buf: Buffer, opts?: ParseOptions): ParseResult {
  try {
    return parseInner(buf, opts);
  } catch (e) {
    return failure(SIP_PARSE_ERRORS.INTERNAL, 'internal parser error: ' + (e instanceof Error ? e.message : String(e)));
  }
}

function parseInner(buf: Buffer, opts?: ParseOptions): ParseResult {
  const maxSize = opts?.maxSize ?? DEFAULT_MAX_SIZE;
  const maxHeaders = opts?.maxHeaders ?? DEFAULT_MAX_HEADERS;
  const stream = opts?.stream === true;
  if (buf.length > maxSize) return failure(SIP_PARSE_ERRORS.TOO_LARGE, `message of ${buf.length} bytes exceeds ${maxSize}`);

  // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives, padding)
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start >= buf.length) return failure(SIP_PARSE_ERRORS.EMPTY, 'empty message');

  // End of the header section: the first empty line. CRLF is the rule; bare
  // LF line ends are tolerated as RFC 3261 §7.5 suggests.
  let headEnd: number; // index just past the last header line's text
  let bodyStart: number;
  const crlf = buf.indexOf(CRLFCRLF, start);
  const lfScope = crlf < 0 ? buf : buf.subarray(0, crlf);
  const lf = lfScope.indexOf(LFLF, start);
  if (lf >= 0) {
    headEnd = lf;
    bodyStart = lf + 2;
  } else if (crlf >= 0) {
    headEnd = crlf;
    bodyStart = crlf + 4;
  } else {
    // No empty line: a datagram may end right after the headers (RFC 4475
    // §3.4.1 inv2543, §3.1.2.17 baddn); the whole buffer is the header section.
    headEnd = buf.length;
    bodyStart = buf.length;
  }

  const head = buf.toString('utf8', start, headEnd);
  const msg = new SipMessage();

  // ---- start line ----
  let eol = head.indexOf('\n');
  if (eol < 0) eol = head.length;
  const lineEnd = eol > 0 && head.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
  const startLine = head.slice(0, lineEnd);
  // the first error found; parsing goes on after it to salvage a request
  let err = parseStartLine(startLine, msg);
  let sipShaped = true;
  if (err) {
    const shape = salvageRequestLine(startLine, msg);
    if (shape === NOT_A_REQUEST) return failure(err.code, err.error);
    sipShaped = shape === SIP_REQUEST;
  }

  // ---- header lines ----
  // A broken line is skipped (with any continuation of it) and parsing goes
  // on, so Via, From, To, Call-ID and CSeq are still there for the 400.
  let pos = eol + 1;
  let count = 0;
  const headers = msg.headers;
  let name = '';
  let value = '';
  const len = head.length;
  while (pos < len) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = len;
    let le = nl > pos && head.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    const first = head.charCodeAt(pos);
    if (first === 0x20 || first === 0x09) {
      // folded continuation (RFC 3261 §7.3.1): LWS collapses to one SP
      if (name === '') {
        // before any header, or the rest of a header already dropped
        err ??= new Failure(SIP_PARSE_ERRORS.BAD_HEADER_LINE, 'continuation line before any header');
        pos = nl + 1;
        continue;
      }
      let a = pos;
      while (a < le && (head.charCodeAt(a) === 0x20 || head.charCodeAt(a) === 0x09)) a++;
      while (le > a && (head.charCodeAt(le - 1) === 0x20 || head.charCodeAt(le - 1) === 0x09)) le--;
      if (a < le) value = value === '' ? head.slice(a, le) : value + ' ' + head.slice(a, le);
      if (value.length > MAX_HEADER_LINE) {
        err ??= new Failure(SIP_PARSE_ERRORS.HEADER_TOO_LONG, `header ${name} too long`);
        name = '';
      }
      pos = nl + 1;
      continue;
    }
    if (name !== '') {
      headers.push({ name, value });
      name = '';
    }
    if (le === pos) {
      // an empty line inside the header block means mixed line endings
      // (e.g. LF then CRLF); where the body starts is then a guess, so the
      // message is refused, answered from the headers read so far
      err ??= new Failure(SIP_PARSE_ERRORS.BAD_HEADER_LINE, 'empty line inside the header section (mixed line endings)');
      break;
    }
    if (++count > maxHeaders) {
      err ??= new Failure(SIP_PARSE_ERRORS.TOO_MANY_HEADERS, `more than ${maxHeaders} header lines`);
      break;
    }
    const lineStart = pos;
    pos = nl + 1;
    if (le - lineStart > MAX_HEADER_LINE) {
      err ??= new Failure(SIP_PARSE_ERRORS.HEADER_TOO_LONG, 'header line too long');
      continue;
    }
    // field-name = token, then optional whitespace, then ':' (RFC 3261 §7.3.1)
    let k = lineStart;
    while (k < le && isTokenChar(head.charCodeAt(k))) k++;
    if (k === lineStart) {
      err ??= new Failure(SIP_PARSE_ERRORS.BAD_HEADER_LINE, 'malformed header line');
      continue;
    }
    const nameEnd = k;
    while (k < le && (head.charCodeAt(k) === 0x20 || head.charCodeAt(k) === 0x09)) k++;
    if (k >= le || head.charCodeAt(k) !== 0x3a) {
      err ??= new Failure(SIP_PARSE_ERRORS.BAD_HEADER_LINE, 'header line without colon');
      continue;
    }
    k++;
    while (k < le && (head.charCodeAt(k) === 0x20 || head.charCodeAt(k) === 0x09)) k++;
    while (le > k && (head.charCodeAt(le - 1) === 0x20 || head.charCodeAt(le - 1) === 0x09)) le--;
    name = canonicalHeaderNameAt(head, lineStart, nameEnd);
    value = head.slice(k, le);
  }
  if (name !== '') headers.push({ name, value });
  if (err) return failure(err.code, err.error, canAnswer(msg, sipShaped) ? msg : undefined);

  // ---- eager checks the transaction layer relies on ----
  const f = validateMandatory(msg);
  if (f) return failure(f.code, f.error, canAnswer(msg, true) ? msg : undefined);

  // ---- body (RFC 3261 §18.3, §20.14) ----
  const available = buf.length - bodyStart;
  const clText = msg.get('content-length');
  if (clText === undefined) {
    if (stream) return failure(SIP_PARSE_ERRORS.NO_CONTENT_LENGTH, 'Content-Length is required on stream transports', msg);
    if (available > 0) msg.body = buf.subarray(bodyStart);
  } else {
    const cl = Number(clText);
    if (cl > available) {
      return failure(SIP_PARSE_ERRORS.BODY_TRUNCATED, `Content-Length ${cl} but only ${available} body bytes`, msg);
    }
    // a longer datagram is truncated to Content-Length (RFC 3261 §18.3)
    if (cl > 0) msg.body = buf.subarray(bodyStart, bodyStart + cl);
  }
  if (msg.version !== 'SIP/2.0') {
    return failure(SIP_PARSE_ERRORS.BAD_VERSION, `unsupported SIP version ${msg.version}`, msg);
  }
  return { ok: true, msg };
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version
 * Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase
 * Single SPs only (RFC 3261 §7.1, §7.2; RFC 4475 §3.1.2.9 lwsstart, §3.1.2.10 trws).
 * A syntactically valid but unsupported version is recorded, not rejected
 * here, so the caller gets a message to answer 505 with.
 */
function parseStartLine(line: string, msg: SipMessage): Failure | undefined {
  if (line.length >= 4 && (line.charCodeAt(0) | 0x20) === 0x73 && line.startsWith('/', 3) && line.slice(0, 3).toUpperCase() === 'SIP') {
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'malformed status line');
    const version = line.slice(0, sp1);
    if (!isSipVersion(version)) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'malformed SIP-Version');
    const codeEnd = sp1 + 4;
    if (line.length < codeEnd) return new Failure(SIP_PARSE_ERRORS.BAD_STATUS, 'malformed status code');
    let status = 0;
    for (let i = sp1 + 1; i < codeEnd; i++) {
      const c = line.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return new Failure(SIP_PARSE_ERRORS.BAD_STATUS, 'malformed status code');
      status = status * 10 + (c - 0x30);
    }
    // Status-Code is exactly 3 digits, 1xx..6xx (RFC 3261 §7.2; RFC 4475 §3.1.2.19 bigcode)
    if (status < 100 || status > 699) return new Failure(SIP_PARSE_ERRORS.BAD_STATUS, `status code ${status} out of range`);
    if (line.length > codeEnd && line.charCodeAt(codeEnd) !== 0x20) {
      return new Failure(SIP_PARSE_ERRORS.BAD_STATUS, 'malformed status code');
    }
    msg.status = status;
    // an empty Reason-Phrase is legal (RFC 4475 §3.1.1.13 noreason)
    msg.reason = line.length > codeEnd ? line.slice(codeEnd + 1) : '';
    msg.version = normaliseVersion(version);
    return undefined;
  }
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'malformed request line');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 === sp1 + 1) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'malformed request line');
  for (let i = 0; i < sp1; i++) {
    if (!isTokenChar(line.charCodeAt(i))) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'malformed method');
  }
  const version = line.slice(sp2 + 1);
  if (!isSipVersion(version)) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'malformed SIP-Version in request line');
  const uri = line.slice(sp1 + 1, sp2);
  // Request-URI must be an absolute URI: scheme ":" ... and no LWS, <, >, "
  // (RFC 4475 §3.1.2.7 ltgtruri, §3.1.2.8 lwsruri)
  const colon = uri.indexOf(':');
  if (colon < 1) return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'Request-URI is not an absolute URI');
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x7f) {
      return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'invalid character in Request-URI');
    }
    if (i < colon) {
      const alpha = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
      if (!(alpha || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)))) {
        return new Failure(SIP_PARSE_ERRORS.BAD_START_LINE, 'bad Request-URI scheme');
      }
    }
  }
  msg.method = line.slice(0, sp1);
  msg.uri = uri;
  msg.version = normaliseVersion(version);
  return undefined;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" is case-insensitive) */
function isSipVersion(v: string): boolean {
  if (v.length < 7 || v.charCodeAt(3) !== 0x2f || v.slice(0, 3).toUpperCase() !== 'SIP') return false;
  const dot = v.indexOf('.', 4);
  if (dot < 5 || dot === v.length - 1) return false;
  for (let i = 4; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (i !== dot && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

function normaliseVersion(v: string): string {
  return v === 'SIP/2.0' ? v : 'SIP' + v.slice(3);
}

/** find the only value of a single-instance header, or a Failure */
function single(msg: SipMessage, name: string, display: string, required: boolean): string | Failure | undefined {
  let found: string | undefined;
  const h = msg.headers;
  for (let i = 0; i < h.length; i++) {
    if (h[i]!.name !== name) continue;
    if (found !== undefined) return new Failure(SIP_PARSE_ERRORS.DUPLICATE_HEADER, `more than one ${display}`);
    found = h[i]!.value;
  }
  if (found === undefined && required) return new Failure(SIP_PARSE_ERRORS.MISSING_HEADER, `missing ${display}`);
  return found;
}

function validateMandatory(msg: SipMessage): Failure | undefined {
  // Via first: without it no response can be routed (RFC 3261 §8.1.1.7, §18.2.2)
  const viaText = msg.get('via');
  if (viaText === undefined) return new Failure(SIP_PARSE_ERRORS.MISSING_HEADER, 'missing Via');
  try {
    // parsed and cached through the accessor the transaction layer reads
    void msg.topVia;
  } catch (e) {
    return badHeader(e, 'Via');
  }

  const cseq = single(msg, 'cseq', 'CSeq', true);
  if (cseq instanceof Failure) return cseq;
  try {
    void msg.cseq;
  } catch (e) {
    return badHeader(e, 'CSeq');
  }

  const callId = single(msg, 'call-id', 'Call-ID', true);
  if (callId instanceof Failure) return callId;
  // Call-ID = word [ "@" word ]: no whitespace (RFC 3261 §20.8)
  if (callId === '' || /[\s]/.test(callId!)) return new Failure(SIP_PARSE_ERRORS.BAD_HEADER, 'malformed Call-ID');

  for (const [n, d] of [
    ['from', 'From'],
    ['to', 'To'],
  ] as const) {
    const v = single(msg, n, d, true);
    if (v instanceof Failure) return v;
    try {
      const na = n === 'from' ? msg.from : msg.to;
      if (na.uri.scheme === '*') return new Failure(SIP_PARSE_ERRORS.BAD_HEADER, `malformed ${d}`);
    } catch (e) {
      return badHeader(e, d);
    }
  }

  const mf = single(msg, 'max-forwards', 'Max-Forwards', false);
  if (mf instanceof Failure) return mf;
  if (mf !== undefined && !isDigits(mf, 10)) return new Failure(SIP_PARSE_ERRORS.BAD_HEADER, 'malformed Max-Forwards');

  // Several Content-Length headers make framing ambiguous even when they
  // agree (RFC 4475 §3.3.9 mcl01), so any repetition is refused.
  const cl = single(msg, 'content-length', 'Content-Length', false);
  if (cl instanceof Failure) return new Failure(SIP_PARSE_ERRORS.BAD_CONTENT_LENGTH, cl.error);
  if (cl !== undefined && !isDigits(cl, 9)) return new Failure(SIP_PARSE_ERRORS.BAD_CONTENT_LENGTH, 'malformed Content-Length');
  return undefined;
}

function badHeader(e: unknown, display: string): Failure {
  const why = e instanceof SipParseError ? e.message : String(e);
  return new Failure(SIP_PARSE_ERRORS.BAD_HEADER, `malformed ${display}: ${why}`);
}

/**
 * Whether a failed message goes back to the caller to be answered.
 * A request is answered unless it is, or claims through its CSeq to be, an
 * ACK (RFC 3261 §17.2.1: never answered), or nothing marks it as SIP at all
 * (`sipShaped` false: no SIP-Version on its start line, and no Via, Call-ID
 * or CSeq). Its headers may be malformed or missing: buildResponse copies
 * what is there, and the transport answers the packet's source, which needs
 * no Via (RFC 3261 §18.2.2 falls back to the source when the Via is unusable
 * for a reply; RFC 3581 §4 symmetric response).
 * A response is only handed back with a usable top Via and a CSeq line.
 */
function canAnswer(msg: SipMessage, sipShaped: boolean): boolean {
  const cseq = msg.get('cseq');
  if (msg.isRequest) {
    if (msg.method === 'ACK' || (cseq !== undefined && cseqMethodIsAck(cseq))) return false;
    return sipShaped || cseq !== undefined || msg.get('via') !== undefined || msg.get('call-id') !== undefined;
  }
  const v = msg.get('via');
  if (v === undefined || cseq === undefined) return false;
  try {
    const top = splitHeaderList(v)[0];
    if (top === undefined) return false;
    parseVia(top);
    return true;
  } catch {
    return false;
  }
}

/** the last word of a CSeq value is ACK (its number may be malformed) */
function cseqMethodIsAck(cseq: string): boolean {
  let e = cseq.length;
  while (e > 0 && (cseq.charCodeAt(e - 1) === 0x20 || cseq.charCodeAt(e - 1) === 0x09)) e--;
  return e >= 3 && cseq.startsWith('ACK', e - 3) && (e === 3 || cseq.charCodeAt(e - 4) <= 0x20);
}

const NOT_A_REQUEST = 0;
/** a request, but its start line has no SIP-Version: SIP only if a header says so */
const REQUEST = 1;
/** a request line ending in a syntactically valid SIP-Version */
const SIP_REQUEST = 2;

/**
 * After parseStartLine failed: read what a broken Request-Line still says.
 * It counts as a request when it starts with a method token followed by
 * whitespace (RFC 3261 §25.1 Method = token; a double SP, LWS or <> in the
 * Request-URI, or trailing SP, are RFC 4475 §3.1.2.7–10). The method is
 * kept, the rest (less a trailing SIP-Version) becomes the raw uri. Anything
 * that begins like a Status-Line ("SIP", "SIP/...") is a broken response and
 * is never answered.
 */
function salvageRequestLine(line: string, msg: SipMessage): typeof NOT_A_REQUEST | typeof REQUEST | typeof SIP_REQUEST {
  let m = 0;
  while (m < line.length && isTokenChar(line.charCodeAt(m))) m++;
  if (m === 0 || m >= line.length) return NOT_A_REQUEST;
  const sep = line.charCodeAt(m);
  if (sep !== 0x20 && sep !== 0x09) return NOT_A_REQUEST;
  const method = line.slice(0, m);
  if (method.length === 3 && method.toUpperCase() === 'SIP') return NOT_A_REQUEST;
  let e = line.length;
  while (e > m && (line.charCodeAt(e - 1) === 0x20 || line.charCodeAt(e - 1) === 0x09)) e--;
  let v = e;
  while (v > m && line.charCodeAt(v - 1) !== 0x20 && line.charCodeAt(v - 1) !== 0x09) v--;
  const hasVersion = v > m && isSipVersion(line.slice(v, e));
  let u = m;
  while (u < e && (line.charCodeAt(u) === 0x20 || line.charCodeAt(u) === 0x09)) u++;
  let ue = hasVersion ? v : e;
  while (ue > u && (line.charCodeAt(ue - 1) === 0x20 || line.charCodeAt(ue - 1) === 0x09)) ue--;
  msg.method = method;
  msg.uri = line.slice(u, ue);
  msg.status = 0;
  msg.version = 'SIP/2.0';
  return hasVersion ? SIP_REQUEST : REQUEST;
}
