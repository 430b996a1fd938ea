// Request sanity checks: what a UAS must answer from the message alone,
// before any transaction-user logic runs (RFC 3261 §8.2, §16.3; the
// Kamailio `sanity` module is the model). Checks run in the order RFC 3261
// §8.2 processes a request: version, syntax, method (§8.2.1, decided by the
// caller), URI scheme, hop count, extensions (Require), then content.
import type { SipMessage } from './sip-message.js';
import type { NameAddr } from './types.js';
import { SipParseError } from './errors.js';
import { SINGLE_VALUE_HEADERS, splitHeaderList } from './header-names.js';
import { isDigits, isWildcard } from './name-addr.js';
import { parseVia } from './via.js';

export interface SanityOptions {
  /** option tags we implement (Require / Proxy-Require), lower-case */
  supportedExtensions: Set<string>;
  /** Request-URI schemes accepted (default sip, sips, tel) */
  supportedSchemes?: Set<string>;
  /** body types understood (e.g. application/sdp); when absent, no 415 check */
  acceptedContentTypes?: Set<string>;
  /**
   * Method inspection (RFC 3261 §8.2.1): the caller's 405/501 for a method
   * it will not take here, or null. Runs after the 505/400 checks and before
   * header (416, 420) and content (415) inspection, as §8.2 orders them.
   */
  methodCheck?: (msg: SipMessage) => SanityFailure | null;
}

export interface SanityFailure {
  status: number;
  reason: string;
  /** headers to add to the response, e.g. Unsupported, Accept */
  headers?: [string, string][];
}

const DEFAULT_SCHEMES = new Set(['sip', 'sips', 'tel']);
const MAX_EXPIRES = 0xffffffff; // delta-seconds beyond 2**32-1 are nonsense (RFC 3261 §20.19)

function bad(reason: string): SanityFailure {
  return { status: 400, reason: 'Bad Request - ' + reason };
}

/** rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17) */
const DATE_RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Check a parsed request. Returns null when it may proceed, or the response
 * status (with reason and extra headers) the UAS must send. ACK never gets a
 * response: a caller seeing a failure for ACK drops the request.
 */
export function checkRequest(msg: SipMessage, opts: SanityOptions): SanityFailure | null {
  // 505: SIP-Version (RFC 3261 §8.2.2 preamble, §21.5.6)
  if (msg.version !== 'SIP/2.0') return { status: 505, reason: 'Version Not Supported' };

  const syntax = checkSyntax(msg);
  if (syntax) return syntax;

  // 405/501: method inspection comes before headers and content (RFC 3261 §8.2.1)
  if (opts.methodCheck) {
    const refused = opts.methodCheck(msg);
    if (refused) return refused;
  }

  // 416: Request-URI scheme (RFC 3261 §8.2.2.1)
  const schemes = opts.supportedSchemes ?? DEFAULT_SCHEMES;
  let scheme: string;
  try {
    const ruri = msg.ruri;
    scheme = ruri.scheme;
    if (!schemes.has(scheme)) return { status: 416, reason: 'Unsupported URI Scheme' };
    // headers are meaningless in a Request-URI (RFC 3261 §19.1.5; RFC 4475 §3.1.2.12 escruri)
    if (ruri.headers) return bad('headers in Request-URI');
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return bad('malformed Request-URI');
  }

  // 483: hop count exhausted (RFC 3261 §16.3 item 2); OPTIONS may be answered
  const mf = msg.get('max-forwards');
  if (mf === '0' || (mf !== undefined && Number(mf) === 0)) {
    if (msg.method !== 'OPTIONS') return { status: 483, reason: 'Too Many Hops' };
  }

  // 420: Require option tags we do not implement (RFC 3261 §8.2.2.3); never
  // for ACK (no response possible) or CANCEL (§8.2.2.3 last paragraph)
  if (msg.method !== 'ACK' && msg.method !== 'CANCEL') {
    const unknown: string[] = [];
    for (const tag of msg.getAll('require')) {
      if (!opts.supportedExtensions.has(tag.toLowerCase()) && !unknown.includes(tag)) unknown.push(tag);
    }
    if (unknown.length > 0) return { status: 420, reason: 'Bad Extension', headers: [['unsupported', unknown.join(', ')]] };
  }

  // 415: body we must understand but cannot (RFC 3261 §8.2.3)
  if (opts.acceptedContentTypes && msg.body.length > 0 && msg.method !== 'ACK') {
    const accept = [...opts.acceptedContentTypes].join(', ');
    const disposition = msg.get('content-disposition') ?? '';
    const optional = /;\s*handling\s*=\s*optional/i.test(disposition);
    if (!optional) {
      const enc = msg.getAll('content-encoding').filter((e) => e.toLowerCase() !== 'identity');
      if (enc.length > 0) {
        return {
          status: 415,
          reason: 'Unsupported Media Type',
          headers: [
            ['accept-encoding', 'identity'],
            ['accept', accept],
          ],
        };
      }
      const ct = msg.get('content-type');
      const type = ct === undefined ? '' : ct.split(';', 1)[0]!.trim().toLowerCase();
      if (!opts.acceptedContentTypes.has(type)) {
        return { status: 415, reason: 'Unsupported Media Type', headers: [['accept', accept]] };
      }
    }
  }
  return null;
}

/** 400 checks: mandatory headers, single-valued headers, numbers, REGISTER specifics */
function checkSyntax(msg: SipMessage): SanityFailure | null {
  try {
    // mandatory headers (RFC 3261 §8.1.1): accessors throw when missing or malformed
    void msg.from;
    void msg.to;
    void msg.callId;
    const cseq = msg.cseq;
    const vias = msg.getAll('via');
    if (vias.length === 0) return bad('missing Via');
    // the topmost one is parsed once, and kept, by the accessor (the transport's received/rport stamp has parsed it already)
    void msg.topVia;
    for (let i = 1; i < vias.length; i++) parseVia(vias[i]!);

    // single-valued headers must not repeat (RFC 3261 §7.3.1; RFC 4475 §3.3.6 multi01)
    const seen = new Set<string>();
    for (const h of msg.headers) {
      if (!SINGLE_VALUE_HEADERS.has(h.name)) continue;
      if (seen.has(h.name)) return bad(`more than one ${h.name}`);
      seen.add(h.name);
    }

    // CSeq method must equal the request method (RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.18/19 mismatch01/02)
    if (msg.method !== 'ACK' && msg.method !== 'CANCEL' && cseq.method !== msg.method) return bad('CSeq method does not match');

    // Content-Length must match the body we kept (RFC 3261 §20.14)
    const cl = msg.get('content-length');
    if (cl !== undefined && (!isDigits(cl, 9) || Number(cl) !== msg.body.length)) return bad('Content-Length mismatch');

    // Max-Forwards = 1*DIGIT, 0-255 (RFC 3261 §20.22)
    const mf = msg.get('max-forwards');
    if (mf !== undefined && (!isDigits(mf, 10) || Number(mf) > 255)) return bad('malformed Max-Forwards');

    const expires = msg.get('expires');
    if (expires !== undefined && (!isDigits(expires, 10) || Number(expires) > MAX_EXPIRES)) return bad('malformed Expires');

    const date = msg.get('date');
    if (date !== undefined && !DATE_RE.test(date)) return bad('malformed Date'); // RFC 4475 §3.1.2.13 baddate

    // Contact must parse wherever it appears (RFC 4475 §3.1.2.14 regbadct)
    const contacts = msg.contacts;
    if (msg.method === 'REGISTER') {
      const r = checkRegister(msg, contacts, expires);
      if (r) return r;
    }
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return bad(e.header ? `malformed ${e.header}` : e.message);
  }
  return null;
}

function checkRegister(msg: SipMessage, contacts: NameAddr[], expires: string | undefined): SanityFailure | null {
  // the AOR in To must be a SIP or SIPS URI (RFC 3261 §10.3 step 5; RFC 4475 §3.3.2 unksm2)
  const toScheme = msg.to.uri.scheme;
  if (toScheme !== 'sip' && toScheme !== 'sips') return bad('To is not a SIP URI');
  let wildcard = false;
  for (const c of contacts) {
    if (isWildcard(c)) wildcard = true;
    const e = c.params['expires'];
    if (e !== undefined && (e === null || !isDigits(e, 10) || Number(e) > MAX_EXPIRES)) return bad('malformed Contact expires');
  }
  // "*" only alone and only with Expires: 0 (RFC 3261 §10.3 step 6)
  if (wildcard && (contacts.length !== 1 || expires !== '0')) return bad('invalid wildcard Contact');
  // every Contact line value list must be non-empty
  for (const h of msg.headers) if (h.name === 'contact' && splitHeaderList(h.value).length === 0) return bad('empty Contact');
  return null;
}
