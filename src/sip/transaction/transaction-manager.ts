// The transaction layer's front door: matches every inbound message to its
// transaction (RFC 3261 §17.1.3, §17.2.3), creates server transactions for
// new requests and client transactions for the TU's requests, and removes
// each one the instant it terminates.
import { randomBytes } from 'node:crypto';
import { TOKEN_MARK } from '../../core/workers.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Via } from '../../sip-message/types.js';
import type { Remote, Sender } from '../../transport/types.js';
import type { Clock } from './clock.js';
import { ClientTransaction, type ClientTransactionHandlers } from './client-transaction.js';
import { ServerTransaction } from './server-transaction.js';
import { clientKey, MAGIC_COOKIE, serverKey, toTag } from './matching.js';
import { buildResponse } from '../../sip-message/response.js';
import { buildCancel } from './request-builders.js';
import { Retransmit2xx } from './retransmit-2xx.js';
import { isReliable, resolveTimers, type TimerValues } from './timer-values.js';
import type { TxContext } from './tx-context.js';
import { formatHost } from '../../transport/address.js';

/** What the layer above (UA core / B2BUA) implements. */
export interface TransactionUser {
  /**
   * A new request (neither ACK nor CANCEL) with its new server transaction.
   * The TU must answer it through tx.respond().
   */
  onRequest(tx: ServerTransaction, msg: SipMessage, remote: Remote): void;
  /**
   * A CANCEL that matched (§9.2) an INVITE server transaction which has not
   * sent a final response yet. The manager has already answered the CANCEL
   * (200, on its own non-INVITE server transaction); the TU "SHOULD
   * immediately respond to the INVITE with a 487 (Request Terminated)".
   * CANCELs matching nothing are answered 481 and CANCELs for an INVITE
   * already answered 200, without involving the TU: "If it has, the CANCEL
   * request has no effect on the processing of the original request".
   */
  onCancel(msg: SipMessage, target: ServerTransaction, remote: Remote): void;
  /** an ACK that belongs to no transaction: the ACK for a 2xx (§17.1.1.3, §13.3.1.4) */
  onAck(msg: SipMessage, remote: Remote): void;
  /**
   * a response matching no client transaction (§18.1.2) — notably a 2xx
   * retransmitted after the INVITE client transaction ended, which the dialog
   * answers by re-sending its ACK
   */
  onStrayResponse(msg: SipMessage, remote: Remote): void;
}

export interface TransactionManagerOptions {
  sender: Sender;
  clock: Clock;
  /** T1, T2, T4 in ms (defaults 500, 4000, 5000) */
  timers?: Partial<TimerValues>;
  /** the layer above; may be attached later with setTu() */
  tu?: TransactionUser;
  /** Server header of the responses the manager builds itself (100 Trying, CANCEL answers) */
  userAgent?: string;
  /**
   * The INVITE server transaction's 100 (Trying) (§17.2.1): 'delayed' sends
   * it after 200 ms unless the TU has responded by then (default);
   * 'immediate' sends it before the TU sees the INVITE; 'off' leaves it to
   * the TU, which then promises to respond within 200 ms.
   */
  trying?: 'delayed' | 'immediate' | 'off';
  /**
   * Answer UDP requests at their source address and port even when the top
   * Via has no rport (RFC 3581 behaviour for every peer, as NAT-facing PBXs
   * do). false follows §18.2.2: source address, sent-by port. Default true.
   */
  symmetricResponses?: boolean;
}

const NO_HANDLERS: ClientTransactionHandlers = {
  onResponse() {},
  onTimeout() {},
  onTransportError() {},
};

const TRANSPORT_TOKEN: Record<Remote['transport'], string> = {
  udp: 'UDP',
  tcp: 'TCP',
  tls: 'TLS',
  ws: 'WS',
  wss: 'WSS',
};

export class TransactionManager {
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly ctx: TxContext;
  private readonly sender: Sender;
  private readonly clock: Clock;
  private readonly timers: TimerValues;
  private readonly trying: 'delayed' | 'immediate' | 'off';
  private readonly symmetric: boolean;
  private user: TransactionUser | undefined;
  private readonly userAgent: string | undefined;
  /** random per process, so branches stay unique across restarts (§8.1.1.7) */
  private readonly branchPrefix: string;
  private readonly ownViaMark: string;
  private branchCounter = 0;

  constructor(opts: TransactionManagerOptions) {
    this.sender = opts.sender;
    this.clock = opts.clock;
    this.timers = resolveTimers(opts.timers);
    this.user = opts.tu;
    this.userAgent = opts.userAgent;
    this.trying = opts.trying ?? 'delayed';
    this.symmetric = opts.symmetricResponses ?? true;
    // with several workers the worker's mark follows the cookie (src/core/workers.ts): responses find their way back
    this.branchPrefix = MAGIC_COOKIE + TOKEN_MARK + randomBytes(6).toString('hex');
    this.ownViaMark = ';branch=' + this.branchPrefix;
    const { t1, t2, t4 } = this.timers;
    this.ctx = {
      sender: this.sender,
      clock: this.clock,
      t1,
      t2,
      t4,
      clientTerminated: (tx) => {
        if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
        this.unindexFlow(tx.remote.flow, tx);
      },
      serverTerminated: (tx) => {
        if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
        this.unindexFlow(tx.responseRemote.flow, tx);
      },
      // one count per final response, for the metrics: "METHOD STATUS"
      serverFinal: (method, status) => {
        const k = `${method} ${status}`;
        this.finals.set(k, (this.finals.get(k) ?? 0) + 1);
      },
      ackToTu: (msg, remote) => this.tu().onAck(msg, remote),
      trying100: (invite) => buildResponse(invite, 100, 'Trying', { server: this.userAgent }),
      sendCancel: (tx) => this.sendCancel(tx),
    };
  }

  setTu(tu: TransactionUser): void {
    this.user = tu;
  }

  get timerValues(): Readonly<TimerValues> {
    return this.timers;
  }

  /** final responses sent by server transactions, by "METHOD STATUS" (metrics read it at scrape time) */
  readonly finals = new Map<string, number>();

  stats(): { server: number; client: number } {
    return { server: this.servers.size, client: this.clients.size };
  }

  /**
   * A request from the transport. Returns false (and does nothing) when the
   * request lacks what matching needs (top Via; for RFC 2543 peers also
   * From, Call-ID, CSeq) — the caller answers 400 or drops it.
   */
  receiveRequest(msg: SipMessage, remote: Remote): boolean {
    const method = msg.method;
    let via: Via;
    let key: string;
    let existing: ServerTransaction | undefined;
    try {
      via = msg.topVia;
      key = serverKey(msg, via, method === 'ACK' ? 'INVITE' : method);
      existing = this.servers.get(key);
      // an RFC 2543 ACK for an initial INVITE carries the To tag the INVITE lacked
      if (!existing && method === 'ACK' && key.charCodeAt(0) === 2) existing = this.servers.get(serverKey(msg, via, 'INVITE', ''));
    } catch {
      return false;
    }

    if (method === 'ACK') {
      // "The ACK request matches a transaction if the Request-URI, From tag,
      // Call-ID, CSeq number (not the method), and top Via header field match
      // those of the INVITE request which created the transaction, and the To
      // tag of the ACK matches the To tag of the response sent by the server
      // transaction." (§17.2.3, RFC 2543 peers)
      if (existing && (!existing.legacy || toTag(msg) === existing.legacyFinalToTag)) {
        existing.dispatch('ack', msg, remote);
      } else {
        this.tu().onAck(msg, remote);
      }
      return true;
    }

    if (existing) {
      existing.dispatch('request', msg, remote);
      return true;
    }

    const tx = new ServerTransaction(this.ctx, key, msg, remote, this.responseRemote(via, remote));
    this.servers.set(key, tx);
    this.indexFlow(tx.responseRemote.flow, tx);

    if (tx.isInvite) {
      if (this.trying === 'immediate') tx.respond(this.ctx.trying100(msg));
      else if (this.trying === 'delayed') tx.armRetransmit('trying', 200);
    }
    if (method === 'CANCEL') this.answerCancel(tx, msg, via, remote);
    else this.tu().onRequest(tx, msg, remote);
    return true;
  }

  /**
   * A response from the transport (§18.1.2): "If there is a match, the
   * response MUST be passed to that transaction. Otherwise, the response MUST
   * be passed to the core". Returns false when it lacks a top Via or CSeq.
   */
  receiveResponse(msg: SipMessage, remote: Remote): boolean {
    let key: string | undefined;
    try {
      const branch = msg.topVia.branch;
      if (branch !== undefined) key = clientKey(branch, msg.cseq.method);
    } catch {
      return false;
    }
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx) tx.receiveResponse(msg);
    else this.tu().onStrayResponse(msg, remote);
    return true;
  }

  /**
   * Start a client transaction (§17.1): send the request and run the INVITE
   * or non-INVITE machine. The top Via may already carry a branch from
   * newBranch() (the caller built it); otherwise — or when that branch is
   * still in use, as when a request is re-sent after a 401 — stampVia() puts
   * a fresh one on top. There is no client transaction for ACK (§17.1): send
   * the ACK for a 2xx with its own Via through the Sender.
   */
  sendRequest(msg: SipMessage, remote: Remote, handlers: ClientTransactionHandlers): ClientTransaction {
    if (msg.method === 'ACK') throw new Error('ACK has no client transaction (RFC 3261 §17.1)');
    let branch = this.ownBranch(msg);
    if (branch === undefined || this.clients.has(clientKey(branch, msg.method))) branch = this.stampVia(msg, remote);
    return this.startClient(msg, remote, handlers, branch);
  }

  /**
   * The server transaction a CANCEL targets (§9.2): "The TU determines the
   * transaction to be cancelled by taking the CANCEL request, and then
   * assuming that the request method is anything but CANCEL or ACK and
   * applying the transaction matching procedures of Section 17.2.3." Only
   * INVITE is looked for: CANCEL "SHOULD NOT be sent to cancel a request
   * other than INVITE" (§9.1) and has no effect on other methods.
   */
  findCancelTarget(cancel: SipMessage): ServerTransaction | undefined {
    try {
      return this.cancelTarget(cancel, cancel.topVia);
    } catch {
      return undefined;
    }
  }

  /**
   * Retransmit a 2xx to INVITE until the TU calls ack() on the result, giving
   * up after 64*T1 (§13.3.1.4). Call it right after tx.respond(2xx), with
   * tx.responseRemote.
   */
  retransmit2xx(response: SipMessage, remote: Remote, onGiveUp: () => void): Retransmit2xx {
    return new Retransmit2xx(this.clock, this.sender, response, remote, this.timers.t1, this.timers.t2, onGiveUp);
  }

  /** a branch unique across space and time, with the magic cookie (§8.1.1.7) */
  newBranch(): string {
    return this.branchPrefix + (this.branchCounter++).toString(36);
  }

  /**
   * Put "Via: SIP/2.0/<T> <local host:port>;branch=<new>;rport" on top of a
   * request (replacing a Via this manager stamped before) and return the
   * branch. rport asks for symmetric responses (RFC 3581).
   */
  stampVia(msg: SipMessage, remote: Remote): string {
    if (this.ownBranch(msg) !== undefined) msg.removeFirst('via');
    const branch = this.newBranch();
    const lp = this.sender.localFor(remote);
    const host = formatHost(lp.address);
    msg.prepend('via', `SIP/2.0/${TRANSPORT_TOKEN[remote.transport]} ${host}:${lp.port};branch=${branch};rport`);
    return branch;
  }

  /** the branch of the top Via when newBranch() minted it */
  private ownBranch(msg: SipMessage): string | undefined {
    const first = msg.get('via');
    if (first === undefined || !first.includes(this.ownViaMark)) return undefined;
    const branch = msg.topVia.branch;
    return branch?.startsWith(this.branchPrefix) ? branch : undefined;
  }

  /**
   * The transport lost a connection or got an ICMP error for a remote: every
   * transaction sending there is told (§17.1.4, §17.2.4). With a flow id,
   * transactions on that connection; otherwise transport, address and port.
   */
  transportError(remote: Remote): void {
    // A connection that closed: its transactions are indexed by flow, so a
    // closing TCP phone costs what it had in flight, not a scan of everything.
    if (remote.flow !== undefined) {
      const hit = this.byFlow.get(remote.flow);
      if (!hit) return;
      this.byFlow.delete(remote.flow);
      for (const tx of [...hit]) tx.transportError();
      return;
    }
    const same = (r: Remote): boolean => r.transport === remote.transport && r.address === remote.address && r.port === remote.port;
    const hitClients: ClientTransaction[] = [];
    for (const tx of this.clients.values()) if (same(tx.remote)) hitClients.push(tx);
    const hitServers: ServerTransaction[] = [];
    for (const tx of this.servers.values()) if (same(tx.responseRemote)) hitServers.push(tx);
    for (const tx of hitClients) tx.transportError();
    for (const tx of hitServers) tx.transportError();
  }

  private readonly byFlow = new Map<number, Set<ClientTransaction | ServerTransaction>>();

  private indexFlow(flow: number | undefined, tx: ClientTransaction | ServerTransaction): void {
    if (flow === undefined) return;
    const set = this.byFlow.get(flow);
    if (set) set.add(tx);
    else this.byFlow.set(flow, new Set([tx]));
  }

  private unindexFlow(flow: number | undefined, tx: ClientTransaction | ServerTransaction): void {
    if (flow === undefined) return;
    const set = this.byFlow.get(flow);
    if (!set) return;
    set.delete(tx);
    if (set.size === 0) this.byFlow.delete(flow);
  }

  /** stop every timer and forget every transaction, without callbacks (shutdown) */
  close(): void {
    for (const tx of this.clients.values()) tx.stopTimers();
    for (const tx of this.servers.values()) tx.stopTimers();
    this.clients.clear();
    this.servers.clear();
    this.byFlow.clear();
  }

  private startClient(msg: SipMessage, remote: Remote, handlers: ClientTransactionHandlers, branch: string): ClientTransaction {
    const key = clientKey(branch, msg.method);
    const tx = new ClientTransaction(this.ctx, key, branch, msg, msg.toBuffer(), remote, handlers);
    this.clients.set(key, tx);
    this.indexFlow(remote.flow, tx);
    tx.start();
    return tx;
  }

  private sendCancel(tx: ClientTransaction): void {
    tx.cancelSent = true;
    // "The destination address, port, and transport for the CANCEL MUST be
    // identical to those used to send the original request." (§9.1) It keeps
    // the INVITE's branch; its CSeq method keeps the transactions apart.
    this.startClient(buildCancel(tx.request), tx.remote, tx.cancelHandlers ?? NO_HANDLERS, tx.branch);
    // "If there is no final response for the original request in 64*T1
    // seconds ... the client SHOULD then consider the original transaction
    // cancelled and SHOULD destroy the client transaction" (§9.1)
    tx.armStateTimer('B', 64 * this.timers.t1);
  }

  /**
   * §9.2: "If the UAS did not find a matching transaction for the CANCEL
   * according to the procedure above, it SHOULD respond to the CANCEL with a
   * 481 (Call Leg/Transaction Does Not Exist)." "Regardless of the method of
   * the original request, as long as the CANCEL matched an existing
   * transaction, the UAS answers the CANCEL request itself with a 200 (OK)
   * response ... the To tag of the response to the CANCEL and the To tag in
   * the response to the original request SHOULD be the same."
   */
  private answerCancel(cancelTx: ServerTransaction, msg: SipMessage, via: Via, remote: Remote): void {
    const target = this.cancelTarget(msg, via);
    if (!target) {
      cancelTx.respond(buildResponse(msg, 481, 'Call/Transaction Does Not Exist', { server: this.userAgent }));
      return;
    }
    const sent = target.lastResponse;
    const tag = sent && sent.status > 100 ? toTag(sent) : target.finalToTag;
    cancelTx.respond(buildResponse(msg, 200, 'OK', { server: this.userAgent, toTag: tag }));
    if (target.state === 'proceeding') this.tu().onCancel(msg, target, remote);
  }

  private cancelTarget(cancel: SipMessage, via: Via): ServerTransaction | undefined {
    // RFC 2543 peers: the CANCEL's To equals the INVITE's, tag included (§9.1),
    // so the same key finds it
    return this.servers.get(serverKey(cancel, via, 'INVITE'));
  }

  /** where responses go (§18.2.2, RFC 3581 §4) */
  private responseRemote(via: Via, remote: Remote): Remote {
    // "If the "sent-protocol" is a reliable transport protocol such as TCP or
    // SCTP, or TLS over those, the response MUST be sent using the existing
    // connection to the source of the original request"
    if (isReliable(remote.transport) || this.symmetric || 'rport' in via.params) return remote;
    // "if the top Via has a "received" parameter, the response MUST be sent
    // to the address in the "received" parameter, using the port indicated in
    // the "sent-by" value, or using port 5060 if none is specified
    // explicitly." (received is the source address, §18.2.1)
    return { transport: remote.transport, address: remote.address, port: via.port ?? 5060 };
  }

  private tu(): TransactionUser {
    if (!this.user) throw new Error('TransactionManager has no TransactionUser (call setUser first)');
    return this.user;
  }
}
