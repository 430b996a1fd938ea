// The transport layer: binds the configured listen points, runs the packet
// gate before any parsing, parses, stamps received/rport on requests
// (RFC 3261 §18.2.1, RFC 3581 §4), and hands messages upward. It is also the
// single Sender every layer above uses. Nothing thrown below escapes here.
import { parseMessage } from '../sip-message/parser.js';
import { buildResponse } from '../sip-message/response.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import type { Logger } from '../observability/logger.js';
import { UdpListener } from './udp-listener.js';
import { TcpListener } from './tcp-listener.js';
import { TlsListener, type TlsCredentials } from './tls-listener.js';
import type { ListenPoint, Remote, Sender, TransportKind } from './types.js';
import { formatListenPoint } from './address.js';
import type { SipTap } from './sip-tap.js';

export { formatListenPoint };

/** Decides, from the source address alone, whether a packet is looked at. */
export interface PacketGate {
  admit(address: string, transport: TransportKind): boolean;
}

export interface TransportOptions {
  udpRecvBuffer: number;
  maxMessageSize: number;
  /**
   * whether this layer logs a receive buffer smaller than asked (default
   * true). Workers' sockets all get the same cap: only the first says so.
   */
  reportRecvBuffer?: boolean;
  /**
   * several workers: this worker's own socket of each UDP listen point, by
   * its text ("udp:127.0.0.1:5060"), from the steered group the primary
   * opened (src/transport/steered-udp.ts); a UDP point not named here is
   * bound through node:cluster, one socket shared by every worker
   */
  udpFds?: ReadonlyMap<string, number>;
  /** the packet gate (before any parsing); every packet is admitted without one */
  gate?: PacketGate;
  /** Server header of the 400s the transport answers itself */
  serverHeader?: string;
  /** certificate and key for tls: listen points */
  tlsCredentials?: TlsCredentials;
  /** a message the parser refused (the security log, the IDS) */
  onMalformed?: (remote: Remote, local: ListenPoint, error: string, method: string | undefined) => void;
}

export type InboundHandler = (msg: SipMessage, remote: Remote, local: ListenPoint) => void;

export interface TransportStats {
  received: number;
  gated: number;
  malformed: number;
  answered400: number;
  handlerErrors: number;
  /** several workers: packets read here that another worker owns, sent on to it */
  forwarded: number;
  /** several workers: packets another worker read and sent here */
  injected: number;
}

/**
 * Several workers (src/host/workers/): who owns a packet read here. route()
 * returns true when it sent the packet on to another worker; streamSend
 * carries what this worker sends on a stream connection to the worker that
 * holds it.
 */
export interface WorkerRouter {
  route(data: Buffer, remote: Remote, local: ListenPoint): boolean;
  /**
   * after the parse: true when it handed the request to the worker that
   * holds what it asks for (src/core/worker-bus.ts, steering); never asked
   * of a request another worker steered here
   */
  steer?(msg: SipMessage, data: Buffer, remote: Remote, local: ListenPoint): boolean;
  /** set in workers that do not listen on stream transports themselves */
  streamSend?: (data: Buffer, remote: Remote) => void;
}

export class TransportLayer implements Sender {
  private udp: UdpListener[] = [];
  /**
   * how this process reads its UDP listen points: `own` (a single process),
   * `steered` (a worker's own socket of each point, src/transport/steered-udp.ts)
   * or `shared` (a worker on one socket node:cluster shares, for at least one point)
   */
  udpSocket: 'own' | 'steered' | 'shared' = 'own';
  private tcp: TcpListener[] = [];
  private tls: TlsListener[] = [];
  /** certificate and key for tls: listen points (from the tls config section) */
  tlsCredentials?: TlsCredentials;
  private handler: InboundHandler = () => {};
  readonly stats: TransportStats = { received: 0, gated: 0, malformed: 0, answered400: 0, handlerErrors: 0, forwarded: 0, injected: 0 };
  /** several workers: set before start() (src/host/workers/) */
  router: WorkerRouter | null = null;
  /** stream listen points another worker serves (their sends go through router.streamSend) */
  private proxied: ListenPoint[] = [];
  gate: PacketGate = { admit: () => true };
  /** sees every message received and sent (call traces); null: one check per message */
  tap: SipTap | null = null;
  serverHeader = 'Palisade';

  constructor(
    private readonly points: ListenPoint[],
    private readonly log: Logger,
    private readonly opts: TransportOptions = { udpRecvBuffer: 8 * 1024 * 1024, maxMessageSize: 65535 },
  ) {
    if (opts.gate) this.gate = opts.gate;
    if (opts.serverHeader) this.serverHeader = opts.serverHeader;
    if (opts.tlsCredentials) this.tlsCredentials = opts.tlsCredentials;
    if (opts.onMalformed) this.onMalformed = opts.onMalformed;
  }

  onMessage(handler: InboundHandler): void {
    this.handler = handler;
  }

  /** a message the parser refused (for the security log and the IDS); never throws into the transport */
  onMalformed: (remote: Remote, local: ListenPoint, error: string, method: string | undefined) => void = () => {};

  /** closes the stream connections of an address that was just banned */
  closeFlowsFrom(address: string): number {
    return [...this.tcp, ...this.tls].reduce((n, l) => n + l.closeFrom(address), 0);
  }

  /** a stream connection closed: whatever was bound to it failed */
  flowClosed: (remote: Remote) => void = () => {};

  /** who hears of a closed stream connection (the transaction layer) */
  onFlowClosed(handler: (remote: Remote) => void): void {
    this.flowClosed = handler;
  }

  private listeningResolve!: () => void;
  private readonly listening = new Promise<void>((r) => (this.listeningResolve = r));

  /** resolves once every listen point is bound: a module that sends on its own (a trunk's REGISTER) waits for it */
  whenListening(): Promise<void> {
    return this.listening;
  }

  async start(): Promise<void> {
    for (const p of this.points) {
      if (p.transport !== 'udp' && this.router?.streamSend) {
        this.proxied.push(p);
        continue;
      }
      const onError = (err: Error) => this.log.warn('socket-error', { listen: formatListenPoint(p), error: err.message });
      if (p.transport === 'udp') {
        const fd = this.router !== null ? this.opts.udpFds?.get(formatListenPoint(p)) : undefined;
        const share = fd !== undefined ? { fd } : this.router !== null ? 'cluster' : 'none';
        if (share === 'cluster') this.udpSocket = 'shared';
        else if (typeof share === 'object' && this.udpSocket === 'own') this.udpSocket = 'steered';
        const l = new UdpListener(p, (d, r, lp) => this.onPacket(d, r, lp), this.opts.udpRecvBuffer, onError, share);
        await l.start();
        this.udp.push(l);
        // a smaller buffer than asked overflows in a burst (a stall of a few hundred ms at a high call rate): say so, with the fix
        if (this.opts.reportRecvBuffer !== false && l.recvBufferGranted > 0 && l.recvBufferGranted < this.opts.udpRecvBuffer) {
          this.log.warn('udp-recv-buffer-capped', {
            listen: formatListenPoint(p),
            asked: this.opts.udpRecvBuffer,
            granted: l.recvBufferGranted,
            fix: `sysctl -w net.core.rmem_max=${this.opts.udpRecvBuffer} (and in /etc/sysctl.d/ to keep it), or lower sip.udp_recv_buffer`,
          });
        }
      } else if (p.transport === 'tcp') {
        const l = new TcpListener(p, (d, r, lp) => this.onPacket(d, r, lp), onError);
        l.onClosed = (remote) => this.flowClosed(remote);
        l.admit = (address) => this.gate.admit(address, 'tcp');
        l.onFramingError = (remote, error) => this.reportMalformed(remote, p, `stream framing lost: ${error}`, undefined);
        await l.start();
        this.tcp.push(l);
      } else if (p.transport === 'tls') {
        if (!this.tlsCredentials) throw new Error(`${formatListenPoint(p)} needs a certificate and key (the tls section)`);
        const l = new TlsListener(p, (d, r, lp) => this.onPacket(d, r, lp), onError, this.tlsCredentials);
        l.onClosed = (remote) => this.flowClosed(remote);
        l.admit = (address) => this.gate.admit(address, 'tls');
        l.onFramingError = (remote, error) => this.reportMalformed(remote, p, `stream framing lost: ${error}`, undefined);
        await l.start();
        this.tls.push(l);
      } else {
        throw new Error(`transport ${p.transport} is not available in this version`);
      }
      this.log.info('listening', { listen: formatListenPoint(p) });
    }
    this.listeningResolve();
  }

  get listenPoints(): ListenPoint[] {
    return this.points;
  }

  private onPacket(data: Buffer, remote: Remote, local: ListenPoint): void {
    this.stats.received++;
    // Packet gate: banned sources are dropped before a single byte is parsed.
    if (!this.gate.admit(remote.address, remote.transport)) {
      this.stats.gated++;
      return;
    }
    // Lone CRLF keep-alives over UDP (RFC 5626 §4.4.1 uses STUN; phones send CRLF): ignore.
    if (data.length <= 4 && (data[0] === 13 || data[0] === 10 || data[0] === 0)) return;
    // several workers: a packet another worker owns goes there (already gated here)
    if (this.router?.route(data, remote, local)) {
      this.stats.forwarded++;
      return;
    }
    this.dispatch(data, remote, local);
  }

  /** several workers: a packet another worker read, which this worker owns; gated again (a ban may have arrived here first) */
  inject(data: Buffer, remote: Remote, local: ListenPoint, steered = false): void {
    this.stats.injected++;
    if (!this.gate.admit(remote.address, remote.transport)) {
      this.stats.gated++;
      return;
    }
    this.dispatch(data, remote, local, steered);
  }

  /** parse and hand upward one message that passed the gate */
  private dispatch(data: Buffer, remote: Remote, local: ListenPoint, steered = false): void {
    let msg: SipMessage;
    try {
      const r = parseMessage(data, { maxSize: this.opts.maxMessageSize, stream: remote.transport !== 'udp' });
      if (!r.ok) {
        this.stats.malformed++;
        this.log.debug('malformed', { from: remote.address, port: remote.port, code: r.code, error: r.error });
        this.reportMalformed(remote, local, r.error, r.msg?.isRequest ? r.msg.method : undefined);
        // the tap sees the bytes (a failed call's ladder shows what was refused), and the 400 after them
        this.tap?.received(data, remote, local, null);
        if (r.msg?.isRequest && r.msg.method !== 'ACK') {
          // §18.2.1 applies to every request received, so the 400 names the
          // real source too; a Via too broken to stamp is echoed as it came
          try {
            stampVia(r.msg, remote);
          } catch {
            /* answered with the Via unstamped */
          }
          // RFC 3261 §8.2.1 / §21.5.20: a version we don't speak gets 505, anything else 400
          if (r.code === 'PAL_ERR_SIP_BAD_VERSION') this.answerError(r.msg, remote, 505, 'Version Not Supported', r.error);
          else this.answerError(r.msg, remote, 400, 'Bad Request', r.error);
        }
        this.tap?.handled();
        return;
      }
      msg = r.msg;
      if (msg.isRequest) {
        // several workers: a new request for state another worker holds goes there, as received
        if (!steered && this.router?.steer?.(msg, data, remote, local)) {
          this.stats.forwarded++;
          return;
        }
        stampVia(msg, remote);
      }
    } catch (err) {
      this.stats.malformed++;
      this.log.warn('parse-exception', { from: remote.address, error: (err as Error).message });
      this.reportMalformed(remote, local, (err as Error).message, undefined);
      return;
    }
    const tap = this.tap;
    // the tap never throws (SipTap); handled() runs however the message ends
    if (tap !== null) tap.received(data, remote, local, msg);
    try {
      this.handler(msg, remote, local);
    } catch (err) {
      this.stats.handlerErrors++;
      this.log.error('handler-exception', { from: remote.address, method: msg.method, status: msg.status, error: (err as Error).stack });
      if (msg.isRequest && msg.method !== 'ACK') {
        try {
          this.send(buildResponse(msg, 500, 'Server Internal Error', { server: this.serverHeader }).toBuffer(), remote);
        } catch {
          /* a message we cannot even answer is dropped */
        }
      }
    } finally {
      if (tap !== null) tap.handled();
    }
  }

  private reportMalformed(remote: Remote, local: ListenPoint, error: string, method: string | undefined): void {
    try {
      this.onMalformed(remote, local, error, method);
    } catch {
      /* the reporter's fault must not become the transport's */
    }
  }

  private answerError(partial: SipMessage, remote: Remote, status: number, reason: string, why: string): void {
    try {
      const res = buildResponse(partial, status, reason, { server: this.serverHeader, headers: [['warning', `399 palisade "${why.replace(/["\\\r\n]/g, '')}"`]] });
      this.send(res.toBuffer(), remote);
      this.stats.answered400++;
    } catch {
      /* not even a 400 can be formed: dropped and counted */
    }
  }

  send(data: Buffer, remote: Remote, msg?: SipMessage): void {
    try {
      if (remote.transport === 'udp') this.pickUdp(remote.address)?.send(data, remote);
      else if (remote.transport === 'tcp') this.pickTcp(remote.address)?.send(data, remote);
      else if (remote.transport === 'tls') this.pickStream(this.tls, remote.address)?.send(data, remote);
      // a stream connection another worker holds (several workers)
      if (remote.transport !== 'udp' && this.proxied.length > 0) this.router?.streamSend?.(data, remote);
      // the tap never throws (SipTap); it runs after the send so it cannot hold one up
      const tap = this.tap;
      if (tap !== null) tap.sent(data, remote, this.localFor(remote), msg ?? null);
    } catch (err) {
      this.log.warn('send-failed', { to: remote.address, port: remote.port, error: (err as Error).message });
    }
  }

  localFor(remote: Remote): ListenPoint {
    const l = remote.transport === 'tcp' ? this.pickTcp(remote.address) : remote.transport === 'tls' ? this.pickStream(this.tls, remote.address) : this.pickUdp(remote.address);
    return l?.point ?? this.proxiedFor(remote) ?? this.points[0]!;
  }

  private proxiedFor(remote: Remote): ListenPoint | undefined {
    const v6 = isV6(remote.address);
    return this.proxied.find((p) => p.transport === remote.transport && isV6(p.address) === v6);
  }

  private pickUdp(address: string): UdpListener | undefined {
    const v6 = isV6(address);
    for (const l of this.udp) if (isV6(l.point.address) === v6) return l;
    return undefined;
  }

  private pickTcp(address: string): TcpListener | undefined {
    return this.pickStream(this.tcp, address);
  }

  private pickStream<L extends TcpListener>(list: L[], address: string): L | undefined {
    const v6 = isV6(address);
    for (const l of list) if (isV6(l.point.address) === v6) return l;
    return undefined;
  }

  tcpConnections(): number {
    return this.tcp.reduce((n, l) => n + l.connectionCount, 0);
  }

  tlsConnections(): number {
    return this.tls.reduce((n, l) => n + l.connectionCount, 0);
  }

  tlsHandshakeErrors(): number {
    return this.tls.reduce((n, l) => n + l.handshakeErrors, 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.udp.map((l) => l.close()), ...this.tcp.map((l) => l.close()), ...this.tls.map((l) => l.close())]);
    this.udp = [];
    this.tcp = [];
    this.tls = [];
  }
}

/**
 * Whether an address Palisade sends to or listens on is IPv6: only IPv6 text
 * holds a colon (these are packet sources and resolved targets, never host
 * names with ports). net.isIPv6 runs a long regular expression, and this is
 * asked on every message sent.
 */
function isV6(address: string): boolean {
  return address.indexOf(':') >= 0;
}

/**
 * RFC 3261 §18.2.1: add "received" when the sent-by host differs from the
 * packet's source; RFC 3581 §4: when "rport" is present without a value,
 * fill in the source port and always add "received".
 */
export function stampVia(msg: SipMessage, remote: Remote): void {
  const via = msg.topVia;
  const params = via.params;
  const wantsRport = params.rport === null;
  if (!wantsRport && via.host === remote.address) return;
  let raw = via.raw;
  if (wantsRport) {
    raw = fillRport(raw, remote.port);
    params.rport = String(remote.port);
  }
  if (params.received === undefined) {
    raw += ';received=' + remote.address;
    params.received = remote.address;
  }
  msg.replaceTopVia(raw, { ...via, params, raw });
}

/** `;rport` (a flag, any case, maybe with blanks) becomes `;rport=PORT`; found by scanning, not by a regex */
function fillRport(raw: string, port: number): string {
  const lower = raw.toLowerCase();
  for (let i = lower.indexOf('rport'); i >= 0; i = lower.indexOf('rport', i + 5)) {
    let j = i - 1;
    while (j >= 0 && (raw.charCodeAt(j) === 32 || raw.charCodeAt(j) === 9)) j--;
    const after = raw.charCodeAt(i + 5); // NaN at the end
    if (raw.charCodeAt(j) === 59 && (Number.isNaN(after) || after === 59 || after === 32 || after === 9)) {
      return raw.slice(0, i + 5) + '=' + port + raw.slice(i + 5);
    }
  }
  return raw;
}
