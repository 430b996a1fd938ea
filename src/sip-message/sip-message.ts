// A SIP request or response. Header lines are kept as (name, value) string
// pairs in arrival order; structured values (Via, From/To, CSeq, Contact...)
// are parsed on first access and cached, so a request only pays for what the
// layers above actually read (the Kamailio habit).
import type { CSeq, Header, NameAddr, SipUri, Via } from './types.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import { parseVia } from './via.js';
import { parseUri } from './uri.js';
import { splitHeaderList, MULTI_VALUE_HEADERS } from './header-names.js';
import { SipParseError } from './errors.js';

// Defined in its own module so the grammar files can throw it without an
// import cycle through this one; re-exported here where callers expect it.
export { SipParseError };

export class SipMessage {
  /** request: method (case preserved, e.g. 'INVITE'); response: '' */
  method = '';
  /** request: Request-URI text */
  uri = '';
  /** response status code; 0 for requests */
  status = 0;
  reason = '';
  version = 'SIP/2.0';
  headers: Header[] = [];
  body: Buffer = EMPTY;

  // caches for lazily parsed structured headers
  private _via?: Via[];
  private _topVia?: Via;
  private _from?: NameAddr;
  private _to?: NameAddr;
  private _cseq?: CSeq;
  private _ruri?: SipUri;

  get isRequest(): boolean {
    return this.status === 0;
  }

  /** first value of a header (name lower-case long form), undefined when absent */
  get(name: string): string | undefined {
    const h = this.headers;
    for (let i = 0; i < h.length; i++) if (h[i]!.name === name) return h[i]!.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * All values of a header in order. For headers whose grammar is a
   * comma-separated list (Via, Contact, Route, Record-Route, ...), each list
   * element is returned separately (commas inside quotes/<> are respected).
   */
  getAll(name: string): string[] {
    const out: string[] = [];
    const split = MULTI_VALUE_HEADERS.has(name);
    for (const h of this.headers) {
      if (h.name !== name) continue;
      if (split) for (const v of splitHeaderList(h.value)) out.push(v);
      else out.push(h.value);
    }
    return out;
  }

  /** replace all values of a header with one value (appended at the end when absent) */
  set(name: string, value: string): void {
    const i = this.headers.findIndex((h) => h.name === name);
    if (i < 0) {
      this.headers.push({ name, value });
    } else {
      this.headers[i] = { name, value };
      for (let j = this.headers.length - 1; j > i; j--) if (this.headers[j]!.name === name) this.headers.splice(j, 1);
    }
    this.invalidate(name);
  }

  /** append a header value after the existing ones */
  add(name: string, value: string): void {
    this.headers.push({ name, value });
    this.invalidate(name);
  }

  /** insert a header value before every other header of that name (Via, Record-Route) */
  prepend(name: string, value: string): void {
    const i = this.headers.findIndex((h) => h.name === name);
    this.headers.splice(i < 0 ? 0 : i, 0, { name, value });
    this.invalidate(name);
  }

  remove(name: string): void {
    this.headers = this.headers.filter((h) => h.name !== name);
    this.invalidate(name);
  }

  /** remove the first list element of a header (topmost Via / Route) */
  removeFirst(name: string): void {
    const i = this.headers.findIndex((h) => h.name === name);
    if (i < 0) return;
    const parts = MULTI_VALUE_HEADERS.has(name) ? splitHeaderList(this.headers[i]!.value) : [this.headers[i]!.value];
    if (parts.length <= 1) this.headers.splice(i, 1);
    else this.headers[i] = { name, value: parts.slice(1).join(', ') };
    this.invalidate(name);
  }

  private invalidate(name: string): void {
    if (name === 'via') {
      this._via = undefined;
      this._topVia = undefined;
    } else if (name === 'from') this._from = undefined;
    else if (name === 'to') this._to = undefined;
    else if (name === 'cseq') this._cseq = undefined;
  }

  // ---- structured accessors (throw SipParseError when malformed) ----

  get vias(): Via[] {
    if (!this._via) this._via = this.getAll('via').map((v) => parseVia(v));
    return this._via;
  }

  /**
   * Replace the text of the topmost Via with `raw` whose parse is `via`
   * (the transport stamps received/rport, RFC 3261 §18.2.1 / RFC 3581): the
   * given parse becomes the cached one, so the Via is not parsed twice.
   */
  replaceTopVia(raw: string, via: Via): void {
    const h = this.headers;
    for (let i = 0; i < h.length; i++) {
      if (h[i]!.name !== 'via') continue;
      const value = h[i]!.value;
      const old = this.topVia.raw;
      const at = value.indexOf(old);
      if (at < 0) return;
      h[i] = { name: 'via', value: value.slice(0, at) + raw + value.slice(at + old.length) };
      this._via = undefined;
      this._topVia = via;
      return;
    }
  }

  /** the topmost Via; parsed on its own so a malformed lower Via does not hide it */
  get topVia(): Via {
    if (this._via) {
      const v = this._via[0];
      if (!v) throw new SipParseError('missing Via', 'via');
      return v;
    }
    if (!this._topVia) {
      const text = this.get('via');
      const first = text === undefined ? undefined : splitHeaderList(text)[0];
      if (first === undefined) throw new SipParseError('missing Via', 'via');
      this._topVia = parseVia(first);
    }
    return this._topVia;
  }

  get from(): NameAddr {
    if (!this._from) {
      const v = this.get('from');
      if (v === undefined) throw new SipParseError('missing From', 'from');
      this._from = parseNameAddr(v, 'from');
    }
    return this._from;
  }

  get to(): NameAddr {
    if (!this._to) {
      const v = this.get('to');
      if (v === undefined) throw new SipParseError('missing To', 'to');
      this._to = parseNameAddr(v, 'to');
    }
    return this._to;
  }

  get callId(): string {
    const v = this.get('call-id');
    if (v === undefined || v === '') throw new SipParseError('missing Call-ID', 'call-id');
    return v;
  }

  get cseq(): CSeq {
    if (!this._cseq) {
      const v = this.get('cseq');
      if (v === undefined) throw new SipParseError('missing CSeq', 'cseq');
      this._cseq = parseCSeq(v);
    }
    return this._cseq;
  }

  /** parsed Request-URI */
  get ruri(): SipUri {
    if (!this._ruri) this._ruri = parseUri(this.uri);
    return this._ruri;
  }

  set ruriText(text: string) {
    this.uri = text;
    this._ruri = undefined;
  }

  get contacts(): NameAddr[] {
    const out: NameAddr[] = [];
    for (const h of this.headers) if (h.name === 'contact') for (const na of parseNameAddrList(h.value, 'contact')) out.push(na);
    return out;
  }

  /** integer header value (Expires, Max-Forwards, Content-Length), undefined when absent */
  getInt(name: string): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    // 1*10DIGIT, scanned rather than matched: Expires and Max-Forwards are read on every REGISTER and INVITE
    if (v.length === 0 || v.length > 10) throw new SipParseError(`malformed ${name}`, name);
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const d = v.charCodeAt(i) - 48;
      if (d < 0 || d > 9) throw new SipParseError(`malformed ${name}`, name);
      n = n * 10 + d;
    }
    return n;
  }

  /** serialise to wire form; Content-Length is always (re)written from the body */
  toBuffer(): Buffer {
    let s = this.isRequest ? `${this.method} ${this.uri} ${this.version}\r\n` : `${this.version} ${this.status} ${this.reason}\r\n`;
    for (const h of this.headers) {
      if (h.name === 'content-length') continue;
      s += headerDisplayName(h.name) + ': ' + h.value + '\r\n';
    }
    s += 'Content-Length: ' + this.body.length + '\r\n\r\n';
    if (this.body.length === 0) return Buffer.from(s, 'utf8');
    const head = Buffer.from(s, 'utf8');
    return Buffer.concat([head, this.body], head.length + this.body.length);
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

const EMPTY = Buffer.alloc(0);

export function parseCSeq(v: string): CSeq {
  // CSeq = "CSeq" HCOLON 1*DIGIT LWS Method   (RFC 3261 §20.16; number < 2**31)
  const sp = v.indexOf(' ');
  if (sp < 1) throw new SipParseError('malformed CSeq', 'cseq');
  const num = v.slice(0, sp);
  const method = v.slice(sp + 1).trim();
  if (!/^\d{1,10}$/.test(num) || Number(num) > 0x7fffffff || method === '' || /\s/.test(method)) {
    throw new SipParseError('malformed CSeq', 'cseq');
  }
  return { seq: Number(num), method };
}

const DISPLAY: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  // RFC 3903 §11.3
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};
const displayCache = new Map<string, string>();

/** 'record-route' -> 'Record-Route' (with the few irregular spellings) */
export function headerDisplayName(name: string): string {
  let d = displayCache.get(name);
  if (d === undefined) {
    d = DISPLAY[name] ?? name.replace(/(^|-)([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
    displayCache.set(name, d);
  }
  return d;
}
