// The UAS core (RFC 3261 §8.2): every new request the transaction layer
// delivers past the gates comes here, and passes the last stages of the
// request pipeline (src/sip/pipeline/): sanity (§8.2.1–8.2.3), then routing
// by method, which calls the authentication stage where the core answers a
// request itself. What a method goes to is registered with the routing
// stage (REGISTER → registrar, INVITE and dialogs → B2BUA, SUBSCRIBE → event
// server); this file only keeps the order and turns faults into answers.
import { buildResponse } from '../../sip-message/response.js';
import { SipParseError } from '../../sip-message/sip-message.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import type { ServerTxHandle } from '../b2bua/types.js';
import type { SanityStage } from '../pipeline/sanity-stage.js';
import type { RoutingStage } from '../pipeline/routing-stage.js';

export interface UaCoreOptions {
  userAgent: string;
  /** a request refused by the sanity checks (400 and friends), for the security log */
  onRejected?: (req: SipMessage, remote: Remote, status: number, reason: string) => void;
}

export class UaCore {
  stats = { requests: 0, rejected: 0, byMethod: new Map<string, number>() };

  constructor(
    private readonly opts: UaCoreOptions,
    private readonly sanity: SanityStage,
    private readonly routing: RoutingStage,
    private readonly log: Logger,
  ) {}

  onRequest(tx: ServerTxHandle, req: SipMessage, remote: Remote): void {
    this.stats.requests++;
    const server = this.opts.userAgent;
    try {
      const bad = this.sanity.check(req);
      if (bad) {
        this.stats.rejected++;
        this.opts.onRejected?.(req, remote, bad.status, bad.reason);
        tx.respond(buildResponse(req, bad.status, bad.reason, { server, headers: bad.headers }));
        return;
      }
      this.routing.route(tx, req, remote);
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

  /** an ACK that matched no transaction: the ACK for a 2xx */
  onAck(req: SipMessage): void {
    try {
      this.routing.ack(req);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }

  /** CANCEL that matched a server INVITE transaction (RFC 3261 §9.2) */
  onCancel(cancel: SipMessage): void {
    this.routing.cancel(cancel);
  }

  /** a response matching no client transaction: a retransmitted 2xx for an INVITE */
  onStrayResponse(res: SipMessage): void {
    try {
      if (res.status >= 200 && res.status < 300 && res.cseq.method === 'INVITE') this.routing.stray2xx(res);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
}
