// One side of a dialog as Palisade sees it (RFC 3261 §12): the identifiers,
// the route set, the remote target, and the local CSeq. It builds the
// in-dialog requests Palisade sends on that leg.
import { randomBytes, randomFillSync } from 'node:crypto';
import { SipMessage } from '../../sip-message/sip-message.js';
import { TOKEN_MARK } from '../../core/workers.js';
import type { Remote } from '../../transport/types.js';

let tagCounter = 0;
// with several workers the prefix starts with this worker's mark (src/core/workers.ts): in-dialog requests find their way back
const tagPrefix = TOKEN_MARK + randomBytes(4).toString('hex');

// Random bytes drawn in bulk: one getrandom() per 4 KiB of tokens instead of one per token.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/** `bytes` fresh random bytes as hex, from the pooled buffer */
export function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const t = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return t;
}

/**
 * a fresh tag / Call-ID token: a per-process random prefix, a counter (unique),
 * and 24 fresh random bits (RFC 3261 §19.3: tags must be globally unique and
 * hard to guess, so an outsider cannot forge an in-dialog BYE)
 */
export function newToken(): string {
  tagCounter = (tagCounter + 1) >>> 0;
  return tagPrefix + tagCounter.toString(36) + randomHex(3);
}

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** name-addr for our side without tag, e.g. `"Alice" <sip:1001@pbx>` */
  localUri: string;
  remoteUri: string;
  remoteTarget: string; // URI from the peer's Contact
  routeSet: string[]; // Route header values in the order they go on requests
  localCseq: number;
  remoteCseq: number;
  /** where requests on this leg are sent (the flow / address the peer uses) */
  remote: Remote;
  localContact: string; // our Contact header value
}

export class Dialog implements DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  localCseq: number;
  remoteCseq: number;
  remote: Remote;
  localContact: string;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localCseq = init.localCseq;
    this.remoteCseq = init.remoteCseq;
    this.remote = init.remote;
    this.localContact = init.localContact;
  }

  /** key under which in-dialog requests from the peer are found: Call-ID + our tag */
  get key(): string {
    return dialogKey(this.callId, this.localTag);
  }

  /**
   * RFC 3261 §12.2.1.1: Request-URI = remote target, Route = route set,
   * To/From/Call-ID from the dialog, CSeq one higher than the last (ACK
   * reuses the INVITE's number, CANCEL too).
   */
  createRequest(method: string, opts: { cseq?: number; body?: Buffer; contentType?: string; userAgent?: string } = {}): SipMessage {
    const m = new SipMessage();
    m.method = method;
    m.uri = this.remoteTarget;
    const seq = opts.cseq ?? ++this.localCseq;
    const h = m.headers;
    h.push({ name: 'max-forwards', value: '70' });
    for (const r of this.routeSet) h.push({ name: 'route', value: r });
    h.push({ name: 'from', value: `${this.localUri};tag=${this.localTag}` });
    h.push({ name: 'to', value: `${this.remoteUri};tag=${this.remoteTag}` });
    h.push({ name: 'call-id', value: this.callId });
    h.push({ name: 'cseq', value: `${seq} ${method}` });
    if (method === 'INVITE' || method === 'UPDATE' || method === 'SUBSCRIBE' || method === 'REFER') h.push({ name: 'contact', value: this.localContact });
    if (opts.userAgent) h.push({ name: 'user-agent', value: opts.userAgent });
    if (opts.body?.length) {
      h.push({ name: 'content-type', value: opts.contentType ?? 'application/sdp' });
      m.body = opts.body;
    }
    return m;
  }
}

export function dialogKey(callId: string, localTag: string): string {
  return callId + '\u0000' + localTag;
}
