// The UAS core (RFC 3261 §8.2): every new request the transaction layer
// delivers comes here first. It applies the checks a UAS makes from the
// message alone (§8.2.1–8.2.3 via sanity.ts), then routes by method: REGISTER
// to the registrar, out-of-dialog INVITE and in-dialog requests to the B2BUA,
// OPTIONS answered here, anything else refused with the right code.
import { buildResponse } from '../message/response.js';
import { checkRequest, type SanityFailure } from '../message/sanity.js';
import { SipParseError } from '../message/sip-message.js';
import type { SipMessage } from '../message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import type { B2bua } from '../b2bua/b2bua.js';
import type { ServerTxHandle } from '../b2bua/types.js';

export interface RegistrarLike {
  handleRegister(req: SipMessage, remote: Remote): SipMessage;
}

export interface UaCoreOptions {
  userAgent: string;
  allow: string;
  /**
   * docs/architecture.md, Security rules: OPTIONS to a user and out-of-dialog SUBSCRIBE, NOTIFY,
   * MESSAGE, REFER require digest auth. Returns the challenge to send, or
   * null when the request is authenticated. Absent: no such check.
   */
  authenticate?: (req: SipMessage, remote: Remote) => SipMessage | null;
  /** a request refused by the sanity checks (400 and friends), for the security log */
  onRejected?: (req: SipMessage, remote: Remote, status: number, reason: string) => void;
}

/**
 * SUBSCRIBE handling (RFC 6665): the event server's handleSubscribe
 * (src/sip/events/). Returns false when the request is not for it (an
 * in-dialog SUBSCRIBE of a package it does not serve), which then goes to
 * the B2BUA like before.
 */
export type SubscribeHandler = (tx: ServerTxHandle, req: SipMessage, remote: Remote) => boolean;

const SUPPORTED_EXTENSIONS = new Set<string>(['path', 'outbound', 'gruu', 'replaces']);
/** methods known only inside a dialog: 405 outside one; inside, served (relayed by the B2BUA) when Allow names them */
const IN_DIALOG_ONLY = new Set<string>(['BYE', 'INFO', 'UPDATE', 'NOTIFY', 'MESSAGE', 'REFER', 'PRACK', 'SUBSCRIBE']);
/** out-of-dialog methods that are challenged before anything else is said about them (docs/architecture.md, Security rules) */
const AUTH_FIRST = new Set<string>(['SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'REFER']);
const ACCEPTED_TYPES = new Set<string>(['application/sdp', 'text/plain', 'application/dtmf-relay', 'application/dtmf', 'message/sipfrag', 'application/simple-message-summary', 'application/pidf+xml']);

export class UaCore {
  stats = { requests: 0, rejected: 0, byMethod: new Map<string, number>() };
  /** the methods our Allow header names: the only ones served (RFC 3261 §20.5) */
  private readonly allowed: ReadonlySet<string>;

  constructor(
    private readonly opts: UaCoreOptions,
    private readonly registrar: RegistrarLike,
    private readonly b2bua: B2bua,
    private readonly log: Logger,
    private readonly onSubscribe?: SubscribeHandler,
  ) {
    this.allowed = new Set(opts.allow.split(',').map((m) => m.trim().toUpperCase()));
  }

  onRequest(tx: ServerTxHandle, req: SipMessage, remote: Remote): void {
    this.stats.requests++;
    const server = this.opts.userAgent;
    try {
      const bad = checkRequest(req, {
        supportedExtensions: SUPPORTED_EXTENSIONS,
        acceptedContentTypes: ACCEPTED_TYPES,
        methodCheck: (m) => this.methodRefusal(m),
      });
      if (bad) {
        this.stats.rejected++;
        this.opts.onRejected?.(req, remote, bad.status, bad.reason);
        tx.respond(buildResponse(req, bad.status, bad.reason, { server, headers: bad.headers }));
        return;
      }
      const inDialog = req.to.params.tag !== undefined;
      switch (req.method) {
        case 'REGISTER': {
          const res = this.registrar.handleRegister(req, remote);
          // challenges are answered statelessly: a retransmission just gets a fresh one
          if (res.status === 401) tx.respondStateless(res);
          else tx.respond(res);
          return;
        }
        case 'INVITE':
          if (inDialog) {
            if (!this.b2bua.onInDialog(tx, req)) this.noDialog(tx, req);
          } else {
            this.b2bua.onInvite(tx, req, remote);
          }
          return;
        case 'OPTIONS':
          if (inDialog && this.b2bua.onInDialog(tx, req)) return;
          // OPTIONS to the server itself is answered; to a user it needs credentials
          if (req.ruri.user !== undefined && this.challenged(tx, req, remote)) return;
          // RFC 3261 §11.2: answer with what we support
          tx.respond(
            buildResponse(req, 200, 'OK', {
              server,
              headers: [
                ['allow', this.opts.allow],
                ['accept', 'application/sdp'],
                ['supported', 'replaces'],
              ],
            }),
          );
          return;
        default:
          if (req.method === 'SUBSCRIBE' && this.onSubscribe?.(tx, req, remote)) return;
          if (!inDialog) {
            // authentication before the 405, so the answer never depends on the target
            if (this.challenged(tx, req, remote)) return;
            tx.respond(buildResponse(req, 405, 'Method Not Allowed', { server, headers: [['allow', this.opts.allow]] }));
            return;
          }
          // an IN_DIALOG_ONLY method inside a dialog: methodRefusal turned away the rest
          if (!this.b2bua.onInDialog(tx, req)) this.noDialog(tx, req);
      }
    } catch (err) {
      if (err instanceof SipParseError) {
        // A header read lazily turned out malformed: that is the sender's fault (400).
        this.stats.rejected++;
        tx.respond(buildResponse(req, 400, 'Bad Request', { server, headers: [['warning', `399 palisade "malformed ${err.header ?? 'header'}"`]] }));
        return;
      }
      // A fault of ours: answer through the transaction so it is not left
      // open forever (RFC 3261 gives a Trying/Proceeding server transaction
      // no timer of its own), and keep serving.
      this.log.error('request-failed', { method: req.method, error: (err as Error).stack });
      try {
        tx.respond(buildResponse(req, 500, 'Server Internal Error', { server }));
      } catch {
        /* the transaction already answered */
      }
    }
  }

  /**
   * RFC 3261 §8.2.1 method inspection, run by checkRequest before the header
   * and content checks: a method we know but serve only inside a dialog →
   * 405 outside one, a method we don't know at all → 501, both with Allow.
   * A method we know but leave out of Allow (REFER until call transfer is
   * built; PRACK, as we never send a reliable provisional) gets 405 inside a
   * dialog too: "If the UAS recognizes but does not support the method of a
   * request, it MUST generate a 405 (Method Not Allowed) response" with an
   * Allow listing what it supports. A 200 or 202 would tell a phone that its
   * transfer went ahead, and it would drop a call that never moved; on 405
   * it keeps the call.
   */
  private methodRefusal(req: SipMessage): SanityFailure | null {
    const m = req.method;
    if (m === 'REGISTER' || m === 'INVITE' || m === 'OPTIONS') return null;
    // out-of-dialog SUBSCRIBE creates a subscription when a handler serves it
    if (m === 'SUBSCRIBE' && this.onSubscribe) return null;
    if (!IN_DIALOG_ONLY.has(m)) return { status: 501, reason: 'Not Implemented', headers: [['allow', this.opts.allow]] };
    // with an authenticator, out-of-dialog requests are challenged first (onRequest answers 405 after)
    if (req.to.params.tag === undefined && this.opts.authenticate && AUTH_FIRST.has(m)) return null;
    if (req.to.params.tag === undefined || !this.allowed.has(m)) return { status: 405, reason: 'Method Not Allowed', headers: [['allow', this.opts.allow]] };
    return null;
  }

  /** true when the request was answered with a challenge (statelessly: a guess costs no memory) */
  private challenged(tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean {
    const challenge = this.opts.authenticate?.(req, remote);
    if (!challenge) return false;
    if (challenge.status === 401) tx.respondStateless(challenge);
    else tx.respond(challenge);
    return true;
  }

  /** RFC 3261 §12.2.2: a request for a dialog we don't have → 481 */
  private noDialog(tx: ServerTxHandle, req: SipMessage): void {
    tx.respond(buildResponse(req, 481, 'Call/Transaction Does Not Exist', { server: this.opts.userAgent }));
  }

  /** an ACK that matched no transaction: the ACK for a 2xx */
  onAck(req: SipMessage): void {
    try {
      this.b2bua.onAck(req);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }

  /** CANCEL that matched a server INVITE transaction (RFC 3261 §9.2) */
  onCancel(cancel: SipMessage): void {
    this.b2bua.onCancel(cancel);
  }

  /** a response matching no client transaction: a retransmitted 2xx for an INVITE */
  onStrayResponse(res: SipMessage): void {
    try {
      if (res.status >= 200 && res.status < 300 && res.cseq.method === 'INVITE') this.b2bua.onStray2xx(res);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
}
