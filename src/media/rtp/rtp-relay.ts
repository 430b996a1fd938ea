// The RTP relay: creates sessions on ports from the configured range and
// keeps released sockets bound in a pool for the next session.
import { PortAllocator } from './port-allocator.js';
import { RelaySocket, type RelaySocketEvents } from './relay-socket.js';
import { RelaySession, type SessionOwner } from './relay-session.js';

export interface RtpRelayOptions {
  /** address the relay binds and advertises (IPv4 or IPv6, not a wildcard) */
  address: string;
  portMin: number;
  portMax: number;
  /** SO_RCVBUF per socket, bytes */
  udpRecvBuffer?: number;
  /**
   * how many idle bound sockets to keep; default: the whole range, which
   * needs two file descriptors per port pair
   */
  socketPoolMax?: number;
  /** emit 'inactive' on a session after this long without a packet; 0 = never */
  inactivityTimeoutMs?: number;
  /** how often the inactivity check runs; default a quarter of the timeout */
  inactivityCheckMs?: number;
  now?: () => number;
  /** per-stream quality accounting (src/media/quality); default on, off only to measure its cost */
  qualityAccounting?: boolean;
}

export interface RtpRelayStats {
  sessions: number;
  portPairsFree: number;
  portPairsInUse: number;
  pooledSockets: number;
  /** sockets bound since start */
  binds: number;
  /** sockets taken from the pool instead of bound */
  poolHits: number;
  /** packets that reached a pooled socket */
  strayPackets: number;
  sendErrors: number;
  /** packets dropped because their receiver threw (see RelaySocketEvents.onReceiveError) */
  receiveErrors: number;
  /** ports whose bind failed (another process holds them); kept out of use */
  retiredPorts: number;
}

/** idle bound sockets kept for reuse, unless configured otherwise */
export const DEFAULT_POOL_MAX = 4096;

function isPortProblem(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
}

export class RtpRelay implements SessionOwner {
  readonly address: string;
  readonly ports: PortAllocator;
  private readonly recvBuffer: number | undefined;
  private readonly poolMax: number;
  private readonly pool = new Map<number, RelaySocket>();
  private readonly sessions = new Set<RelaySession>();
  private readonly now: () => number;
  private readonly inactivityMs: number;
  /** quality accounting for the sessions created from now on (the `quality:` section's accounting) */
  accounting: boolean;
  private readonly timer: NodeJS.Timeout | null;
  private readonly events: RelaySocketEvents;
  private nextId = 1;
  private counters = { binds: 0, poolHits: 0, strayPackets: 0, sendErrors: 0, receiveErrors: 0, retiredPorts: 0 };
  private isClosed = false;

  constructor(opts: RtpRelayOptions) {
    if (opts.address === '0.0.0.0' || opts.address === '::') {
      throw new RangeError('RTP relay address must be a concrete address: it is advertised in SDP');
    }
    this.address = opts.address;
    this.ports = new PortAllocator(opts.portMin, opts.portMax, { now: opts.now });
    this.recvBuffer = opts.udpRecvBuffer;
    // One descriptor per pooled socket: a pool as large as a big range would
    // run the process out of descriptors (EMFILE) and starve the relay.
    this.poolMax = opts.socketPoolMax ?? Math.min(this.ports.capacity * 2, DEFAULT_POOL_MAX);
    this.now = opts.now ?? Date.now;
    this.inactivityMs = opts.inactivityTimeoutMs ?? 0;
    this.accounting = opts.qualityAccounting ?? true;
    const c = this.counters;
    this.events = {
      onStray: () => void c.strayPackets++,
      onSendError: () => void c.sendErrors++,
      onReceiveError: () => void c.receiveErrors++,
    };
    if (this.inactivityMs > 0) {
      const every = opts.inactivityCheckMs ?? Math.max(100, Math.floor(this.inactivityMs / 4));
      this.timer = setInterval(() => this.checkInactivity(), every);
      this.timer.unref();
    } else {
      this.timer = null;
    }
  }

  /**
   * Allocates a session: two port pairs, four sockets. Returns at once with
   * the ports to advertise; `session.ready` settles when the sockets are
   * bound (immediately for pooled ones). Throws PortExhaustedError
   * (PAL_ERR_RTP_PORTS_EXHAUSTED) when the range is used up.
   */
  createSession(): RelaySession {
    if (this.isClosed) throw new Error('RTP relay is closed');
    const a = this.ports.allocate();
    let b: number;
    try {
      b = this.ports.allocate();
    } catch (err) {
      this.ports.release(a);
      throw err;
    }
    const sockets = [this.socketFor(a), this.socketFor(a + 1), this.socketFor(b), this.socketFor(b + 1)];
    const session = new RelaySession(this.nextId++, this, this.address, sockets, this.now, this.accounting);
    this.sessions.add(session);
    return session;
  }

  /**
   * One RTP/RTCP socket pair for a media endpoint that Palisade terminates
   * itself (channels answered by the dialplan): same port range and socket
   * pool as relay sessions. `release()` returns the pair to the pool.
   */
  allocatePair(): { rtp: RelaySocket; rtcp: RelaySocket; release(): void } {
    if (this.isClosed) throw new Error('RTP relay is closed');
    const port = this.ports.allocate();
    const rtp = this.socketFor(port);
    const rtcp = this.socketFor(port + 1);
    let released = false;
    this.endpointPairs.set(rtp, rtcp);
    return {
      rtp,
      rtcp,
      release: () => {
        if (released) return;
        released = true;
        this.endpointPairs.delete(rtp);
        this.releaseSockets([rtp, rtcp]);
      },
    };
  }

  private readonly endpointPairs = new Map<RelaySocket, RelaySocket>();

  /** Palisade-terminated endpoints (channels) holding a pair */
  get endpointCount(): number {
    return this.endpointPairs.size;
  }

  private socketFor(port: number): RelaySocket {
    const pooled = this.pool.get(port);
    if (pooled !== undefined) {
      this.pool.delete(port);
      this.counters.poolHits++;
      return pooled;
    }
    this.counters.binds++;
    return new RelaySocket(this.address, port, this.recvBuffer, this.events);
  }

  /** @internal called by RelaySession.close() */
  releaseSession(session: RelaySession, sockets: RelaySocket[]): void {
    this.sessions.delete(session);
    this.releaseSockets(sockets);
  }

  private releaseSockets(sockets: RelaySocket[]): void {
    let pairUsable = true;
    // a pair whose two sockets both stay bound is released warm: the allocator prefers it after a quarantine
    let pairPooled = true;
    for (let i = 0; i < sockets.length; i++) {
      const s = sockets[i];
      s.flow = null;
      if (s.failed !== null) {
        // Only a port another program holds is kept out of use; running out of
        // descriptors (EMFILE/ENFILE) says nothing about the port itself.
        if (isPortProblem(s.failed)) pairUsable = false;
        pairPooled = false;
        void s.close();
      } else if (!this.isClosed && this.pool.size < this.poolMax) this.pool.set(s.port, s);
      else {
        pairPooled = false;
        void s.close();
      }
      // sockets come in (RTP, RTCP) pairs; decide for the pair after its RTCP socket
      if (i % 2 === 1) {
        const rtpPort = sockets[i - 1].port;
        if (pairUsable) {
          this.ports.release(rtpPort, pairPooled);
        } else {
          // Someone else holds a port of this pair: keep the pair out of use.
          this.counters.retiredPorts++;
          for (const p of [rtpPort, rtpPort + 1]) {
            const pooled = this.pool.get(p);
            if (pooled !== undefined) {
              this.pool.delete(p);
              void pooled.close();
            }
          }
        }
        pairUsable = true;
        pairPooled = true;
      }
    }
  }

  /**
   * Emits 'inactive' on every session that has had no packet for
   * inactivityTimeoutMs, once per quiet period, and returns them.
   */
  checkInactivity(): RelaySession[] {
    const out: RelaySession[] = [];
    if (this.inactivityMs <= 0) return out;
    const now = this.now();
    for (const s of this.sessions) {
      const last = s.lastActivity;
      if (now - last < this.inactivityMs) continue;
      if (s.inactiveSince === last) continue;
      s.inactiveSince = last;
      out.push(s);
    }
    for (const s of out) s.emit('inactive', s);
    return out;
  }

  /** the open session one of whose legs has RTP port `port` (call captures; not for the packet path) */
  findSession(port: number): RelaySession | undefined {
    for (const s of this.sessions) if (s.legs.a.port === port || s.legs.b.port === port) return s;
    return undefined;
  }

  stats(): RtpRelayStats {
    return {
      sessions: this.sessions.size,
      portPairsFree: this.ports.free,
      portPairsInUse: this.ports.inUse,
      pooledSockets: this.pool.size,
      ...this.counters,
    };
  }

  /** Closes every session and every pooled socket. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer !== null) clearInterval(this.timer);
    const closing: Array<Promise<void>> = [];
    for (const s of [...this.sessions]) {
      const { a, b } = s.legs;
      const sockets = [a.rtp.socket, a.rtcp.socket, b.rtp.socket, b.rtcp.socket];
      s.close();
      for (const sock of sockets) closing.push(sock.close());
    }
    for (const [rtp, rtcp] of this.endpointPairs) closing.push(rtp.close(), rtcp.close());
    this.endpointPairs.clear();
    for (const sock of this.pool.values()) closing.push(sock.close());
    this.pool.clear();
    await Promise.all(closing);
  }
}
