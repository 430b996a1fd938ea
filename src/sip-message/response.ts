// Building responses to requests (RFC 3261 §8.2.6): the response copies every
// Via (in order), From, To (adding a tag when the UAS sets one), Call-ID and
// CSeq from the request. Works on the partial message a failed parse hands
// back, so a malformed request can still be answered with 400.
import { SipMessage } from './sip-message.js';
import { splitHeaderList } from './header-names.js';

/** Default reason phrases (RFC 3261 §21 plus the common extension codes). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  417: 'Unknown Resource-Priority',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  428: 'Use Identity Header',
  429: 'Provide Referrer Identity',
  433: 'Anonymity Disallowed',
  436: 'Bad Identity-Info',
  437: 'Unsupported Certificate',
  438: 'Invalid Identity Header',
  439: 'First Hop Lacks Outbound Support',
  440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package',
  470: 'Consent Needed',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  555: 'Push Notification Service Not Supported',
  580: 'Precondition Failure',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  608: 'Rejected',
};

export function reasonPhrase(status: number): string {
  const r = REASON_PHRASES[status];
  if (r !== undefined) return r;
  // unknown codes are treated as x00 of their class (RFC 3261 §8.1.3.2)
  return REASON_PHRASES[Math.floor(status / 100) * 100] ?? 'Unknown';
}

export interface ResponseOptions {
  /** tag to add to To when the request's To has none (RFC 3261 §8.2.6.2) */
  toTag?: string;
  /** extra headers, appended in order (names lower-case long form) */
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
  /** Server header value */
  server?: string;
}

function commaCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf(','); i >= 0; i = s.indexOf(',', i + 1)) n++;
  return n;
}

/** true when a To/From value already carries a tag parameter */
function hasTag(value: string): boolean {
  // header params follow the '>' in name-addr form, or the first ';' in addr-spec form
  const gt = value.lastIndexOf('>');
  const params = gt >= 0 ? value.slice(gt + 1) : value.slice(Math.max(0, value.indexOf(';')));
  return /;\s*tag\s*=/i.test(params);
}

/**
 * Build a response to `req` (RFC 3261 §8.2.6). Only headers present are
 * copied, so it is safe on a partial message from a failed parse.
 */
export function buildResponse(req: SipMessage, status: number, reason?: string, opts?: ResponseOptions): SipMessage {
  const res = new SipMessage();
  res.status = status;
  res.reason = reason ?? reasonPhrase(status);
  const out = res.headers;
  // every Via, in order, split into one value per line (§8.2.6.2). A Via
  // line the split would alter (empty list elements, as in RFC 4475
  // §3.1.2.1 badinv01's "192.0.2.15;;,;,,", or a comma inside a quoted
  // parameter) is copied verbatim instead: the values must stay equal.
  for (const h of req.headers) {
    if (h.name !== 'via') continue;
    const parts = splitHeaderList(h.value);
    if (parts.length === 1 + commaCount(h.value)) for (const v of parts) out.push({ name: 'via', value: v });
    else out.push({ name: 'via', value: h.value });
  }
  const from = req.get('from');
  if (from !== undefined) out.push({ name: 'from', value: from });
  let to = req.get('to');
  if (to !== undefined) {
    // 100 Trying never carries a new To tag (§8.2.6.2)
    if (opts?.toTag !== undefined && status > 100 && !hasTag(to)) to = to + ';tag=' + opts.toTag;
    out.push({ name: 'to', value: to });
  }
  const callId = req.get('call-id');
  if (callId !== undefined) out.push({ name: 'call-id', value: callId });
  const cseq = req.get('cseq');
  if (cseq !== undefined) out.push({ name: 'cseq', value: cseq });
  // §8.2.6.1: a 100 Trying copies Timestamp
  if (status === 100) {
    const ts = req.get('timestamp');
    if (ts !== undefined) out.push({ name: 'timestamp', value: ts });
  }
  if (opts?.server !== undefined) out.push({ name: 'server', value: opts.server });
  if (opts?.headers) for (const [n, v] of opts.headers) out.push({ name: n, value: v });
  if (opts?.body && opts.body.length > 0) {
    res.body = opts.body;
    if (opts.contentType !== undefined) out.push({ name: 'content-type', value: opts.contentType });
  }
  return res;
}

/** Convenience: the wire bytes of buildResponse(...). */
export function buildResponseBuffer(req: SipMessage, status: number, reason?: string, opts?: ResponseOptions): Buffer {
  return buildResponse(req, status, reason, opts).toBuffer();
}
