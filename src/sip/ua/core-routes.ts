// The core's routes (src/sip/pipeline/routing-stage.ts): REGISTER to the
// registrar, out-of-dialog INVITE and every dialog to the B2BUA.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { ServerTxHandle } from '../b2bua/types.js';
import type { RoutingStage } from '../pipeline/routing-stage.js';

export interface RegistrarLike {
  handleRegister(req: SipMessage, remote: Remote): SipMessage;
}

export interface DialogOwner {
  onInvite(tx: ServerTxHandle, req: SipMessage, remote: Remote): void;
  onInDialog(tx: ServerTxHandle, req: SipMessage): boolean;
  onAck(req: SipMessage): void;
  onCancel(req: SipMessage): void;
  onStray2xx(res: SipMessage): void;
}

export function routeRegistrar(routing: RoutingStage, registrar: RegistrarLike): void {
  routing.register('REGISTER', (tx, req, remote) => {
    const res = registrar.handleRegister(req, remote);
    // challenges are answered statelessly: a retransmission just gets a fresh one
    if (res.status === 401) tx.respondStateless(res);
    else tx.respond(res);
    return true;
  });
}

export function routeB2bua(routing: RoutingStage, b2bua: DialogOwner): void {
  // an in-dialog INVITE (re-INVITE) goes on to the dialog owner below
  routing.register('INVITE', (tx, req, remote) => {
    if (req.to.params.tag !== undefined) return false;
    b2bua.onInvite(tx, req, remote);
    return true;
  });
  routing.setDialogs({
    inDialog: (tx, req) => b2bua.onInDialog(tx, req),
    ack: (req) => b2bua.onAck(req),
    cancel: (req) => b2bua.onCancel(req),
    stray2xx: (res) => b2bua.onStray2xx(res),
  });
}
