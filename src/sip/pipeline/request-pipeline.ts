// The request pipeline: the ordered stages every request passes, each a
// small unit that modules add to instead of closures in main.ts.
//
//   1. packet gate     transport, before parsing (PacketGate: banned sources)
//   2. screen          parsed, before the transaction layer: known scanners
//                      are dropped without an answer and cost no state
//   3. gate            in a server transaction: ACL, address reputation,
//                      calls claiming an internal user from outside; a
//                      refusal is answered through the transaction
//   4. sanity          sanity-stage.ts: RFC 3261 §8.2.1–8.2.3
//   5. authentication  auth-stage.ts: digest challenge first (docs/architecture.md, Security rules)
//   6. routing         routing-stage.ts: a handler per method, registered by
//                      the core (REGISTER → registrar, INVITE and dialogs →
//                      B2BUA, SUBSCRIBE → event server) and by modules
//                      (addRoute); OPTIONS answered there
//
// This file holds stages 2 and 3 and hands what passes to `next` (the UAS
// core, src/sip/ua/ua-core.ts, which runs stages 4–6 in order); the packet
// gate is the transport's.
import { buildResponse } from '../../sip-message/response.js';
import { SipParseError, type SipMessage } from '../../sip-message/sip-message.js';
import { newToken } from '../dialog/dialog.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import type { ServerTxHandle } from '../b2bua/types.js';
import type { MethodRoute, RoutingStage } from './routing-stage.js';

/** Stage 2: true = drop the request silently (no answer, no transaction). */
export interface ScreenStage {
  readonly name: string;
  drop(req: SipMessage, remote: Remote, local: ListenPoint | undefined): boolean;
}

/** Stage 3: a refusal to answer, or null to let the request on. */
export interface GateStage {
  readonly name: string;
  check(req: SipMessage, remote: Remote): { status: number; reason: string } | null;
}

/** What follows the gates: the UAS core's onRequest (sanity, authentication, routing). */
export type RequestHandler = (tx: ServerTxHandle, req: SipMessage, remote: Remote) => void;

export interface PipelineOptions {
  /** Server header of the refusals */
  userAgent: string;
  /** a gate that failed on a fault of ours: logged, and the request served */
  onGateFault(stage: string, req: SipMessage, err: Error): void;
  /** stage 6, where modules add their methods */
  routing?: RoutingStage;
}

export class RequestPipeline {
  private readonly screens: ScreenStage[] = [];
  private readonly gates: GateStage[] = [];

  constructor(private readonly opts: PipelineOptions) {}

  addScreen(stage: ScreenStage): void {
    this.screens.push(stage);
  }

  addGate(stage: GateStage): void {
    this.gates.push(stage);
  }

  /** Stage 6: requests of `method` go to `route` (one per method; MESSAGE → a messaging module) */
  addRoute(method: string, route: MethodRoute): void {
    if (!this.opts.routing) throw new Error('this pipeline has no routing stage');
    this.opts.routing.register(method, route);
  }

  /** Stage 6: `route` is asked before the method's own route and takes only what is its own (INVITEs and REGISTERs of trunks) */
  claimRoute(method: string, route: MethodRoute): void {
    if (!this.opts.routing) throw new Error('this pipeline has no routing stage');
    this.opts.routing.claim(method, route);
  }

  /** Stage 2 for a parsed request off the wire: true when it is to be dropped. */
  screen(req: SipMessage, remote: Remote, local: ListenPoint | undefined): boolean {
    for (const s of this.screens) if (s.drop(req, remote, local)) return true;
    return false;
  }

  /** Stage 3, then `next`: a refused request is answered here and goes no further. */
  gate(tx: ServerTxHandle, req: SipMessage, remote: Remote, next: RequestHandler): void {
    for (const g of this.gates) {
      let refusal = null;
      try {
        refusal = g.check(req, remote);
      } catch (err) {
        // a malformed header: the UAS core answers 400; a fault of ours is logged and the request served
        if (!(err instanceof SipParseError)) this.opts.onGateFault(g.name, req, err as Error);
      }
      if (refusal) {
        tx.respond(buildResponse(req, refusal.status, refusal.reason, { toTag: newToken(), server: this.opts.userAgent }));
        return;
      }
    }
    next(tx, req, remote);
  }
}
