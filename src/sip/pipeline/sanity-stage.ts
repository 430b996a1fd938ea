// Stage 4 of the request pipeline: the checks a UAS makes from the message
// alone (RFC 3261 §8.2.1–8.2.3, src/sip-message/sanity.ts), with the method
// inspection that knows which methods the routing stage serves.
import { checkRequest, type SanityFailure } from '../../sip-message/sanity.js';
import type { SipMessage } from '../../sip-message/sip-message.js';

const SUPPORTED_EXTENSIONS = new Set<string>(['path', 'outbound', 'gruu', 'replaces']);
/** methods known only inside a dialog: 405 outside one; inside, served (relayed by the B2BUA) when Allow names them */
const IN_DIALOG_ONLY = new Set<string>(['BYE', 'INFO', 'UPDATE', 'NOTIFY', 'MESSAGE', 'REFER', 'PRACK', 'SUBSCRIBE']);
/** out-of-dialog methods that are challenged before anything else is said about them (docs/architecture.md, Security rules) */
const AUTH_FIRST = new Set<string>(['SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'REFER']);
const ACCEPTED_TYPES = new Set<string>([
  'application/sdp',
  'text/plain',
  'application/dtmf-relay',
  'application/dtmf',
  'message/sipfrag',
  'application/simple-message-summary',
  'application/pidf+xml',
]);

export interface SanityStageOptions {
  /** our Allow header: the only methods served (RFC 3261 §20.5) */
  allow: string;
  /** true when a route serves the method (the routing stage's table) */
  isRouted(method: string): boolean;
  /** true when the authentication stage challenges out-of-dialog requests before the 405 */
  challengeFirst: boolean;
}

export class SanityStage {
  private readonly allowed: ReadonlySet<string>;

  constructor(private readonly o: SanityStageOptions) {
    this.allowed = new Set(o.allow.split(',').map((m) => m.trim().toUpperCase()));
  }

  /** the refusal to answer (400 and friends), or null to let the request on */
  check(req: SipMessage): SanityFailure | null {
    return checkRequest(req, {
      supportedExtensions: SUPPORTED_EXTENSIONS,
      acceptedContentTypes: ACCEPTED_TYPES,
      methodCheck: (m) => this.methodRefusal(m),
    });
  }

  /**
   * RFC 3261 §8.2.1 method inspection, run by checkRequest before the header
   * and content checks: a method a route serves goes on; a method we know but
   * serve only inside a dialog → 405 outside one, a method we don't know at
   * all → 501, both with Allow. A method we know but leave out of Allow
   * (PRACK, as we never send a reliable provisional) gets 405 inside a
   * dialog too: "If the UAS recognizes but does not support the method of a
   * request, it MUST generate a 405 (Method Not Allowed) response" with an
   * Allow listing what it supports. REFER is in Allow: inside a dialog it
   * goes to the call (transfer); outside one it is challenged, then 405.
   */
  private methodRefusal(req: SipMessage): SanityFailure | null {
    const m = req.method;
    if (this.o.isRouted(m)) return null;
    if (!IN_DIALOG_ONLY.has(m)) return { status: 501, reason: 'Not Implemented', headers: [['allow', this.o.allow]] };
    // with an authenticator, out-of-dialog requests are challenged first (the routing stage answers 405 after)
    if (req.to.params.tag === undefined && this.o.challengeFirst && AUTH_FIRST.has(m)) return null;
    if (req.to.params.tag === undefined || !this.allowed.has(m)) return { status: 405, reason: 'Method Not Allowed', headers: [['allow', this.o.allow]] };
    return null;
  }
}
