// Stage 6 of the request pipeline: routing by method. The core and the
// modules register a handler per method (REGISTER → the registrar, INVITE →
// the B2BUA, SUBSCRIBE → the event server, MESSAGE → a messaging module);
// requests inside a dialog go to the dialog owner (the B2BUA); OPTIONS is
// answered here; anything else out of a dialog is challenged, then refused.
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { ServerTxHandle } from '../b2bua/types.js';
import type { AuthStage } from './auth-stage.js';

/** Serves a request; false when it is not for this handler (it then goes on like an unrouted request). */
export type MethodRoute = (tx: ServerTxHandle, req: SipMessage, remote: Remote) => boolean;

/** The owner of the dialogs: in-dialog requests, ACKs for 2xx, CANCELs, stray 2xx (RFC 3261 §12.2.2, §9.2, §13.3.1.4). */
export interface DialogRoute {
  /** false when no dialog matches (answered 481) */
  inDialog(tx: ServerTxHandle, req: SipMessage): boolean;
  ack(req: SipMessage): void;
  cancel(req: SipMessage): void;
  stray2xx(res: SipMessage): void;
}

export interface RoutingStageOptions {
  /** Server header */
  userAgent: string;
  /** our Allow header (read at each answer: a getter keeps it live) */
  readonly allow: string;
  auth: AuthStage;
  /** a method was given a route: it belongs in the Allow header from now on */
  served?(method: string): void;
}

export class RoutingStage {
  private readonly routes = new Map<string, MethodRoute>();
  /** handlers asked before a method's route, in order (claim()) */
  private readonly claims = new Map<string, MethodRoute[]>();
  private dialogs: DialogRoute | undefined;

  constructor(private readonly o: RoutingStageOptions) {
    this.routes.set('OPTIONS', (tx, req, remote) => this.answerOptions(tx, req, remote));
  }

  /** a method's handler; one per method */
  register(method: string, route: MethodRoute): void {
    const m = method.toUpperCase();
    if (this.routes.has(m)) throw new Error(`a route for ${m} exists already`);
    this.routes.set(m, route);
    this.o.served?.(m);
  }

  /**
   * A handler asked before the method's route: it takes the requests that
   * are its own (an INVITE from a trunk's address) and returns false for
   * the rest, which go on to the route as before. Several may claim a
   * method; they are asked in the order they claimed.
   */
  claim(method: string, route: MethodRoute): void {
    const m = method.toUpperCase();
    const list = this.claims.get(m) ?? [];
    list.push(route);
    this.claims.set(m, list);
  }

  /** the dialog owner; one */
  setDialogs(d: DialogRoute): void {
    if (this.dialogs) throw new Error('the dialogs have an owner already');
    this.dialogs = d;
  }

  has(method: string): boolean {
    return this.routes.has(method);
  }

  route(tx: ServerTxHandle, req: SipMessage, remote: Remote): void {
    const claims = this.claims.get(req.method);
    if (claims) for (const c of claims) if (c(tx, req, remote)) return;
    if (this.routes.get(req.method)?.(tx, req, remote)) return;
    if (req.to.params.tag === undefined) {
      // authentication before the 405, so the answer never depends on the target
      if (this.o.auth.challenged(tx, req, remote)) return;
      tx.respond(buildResponse(req, 405, 'Method Not Allowed', { server: this.o.userAgent, headers: [['allow', this.o.allow]] }));
      return;
    }
    // a method the sanity stage let through inside a dialog: the dialog's
    if (!this.dialogs?.inDialog(tx, req)) this.noDialog(tx, req);
  }

  ack(req: SipMessage): void {
    this.dialogs?.ack(req);
  }

  cancel(req: SipMessage): void {
    this.dialogs?.cancel(req);
  }

  stray2xx(res: SipMessage): void {
    this.dialogs?.stray2xx(res);
  }

  /** RFC 3261 §11.2: OPTIONS to the server is answered with what we support; to a user it needs credentials */
  private answerOptions(tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean {
    if (req.to.params.tag !== undefined && this.dialogs?.inDialog(tx, req)) return true;
    if (req.ruri.user !== undefined && this.o.auth.challenged(tx, req, remote)) return true;
    tx.respond(
      buildResponse(req, 200, 'OK', {
        server: this.o.userAgent,
        headers: [
          ['allow', this.o.allow],
          ['accept', 'application/sdp'],
          ['supported', 'replaces'],
        ],
      }),
    );
    return true;
  }

  /** RFC 3261 §12.2.2: a request for a dialog we don't have → 481 */
  private noDialog(tx: ServerTxHandle, req: SipMessage): void {
    tx.respond(buildResponse(req, 481, 'Call/Transaction Does Not Exist', { server: this.o.userAgent }));
  }
}
