// SIP over TCP (RFC 3261 §18.3): one listening socket, a flow per connection,
// messages framed by Content-Length. Outgoing requests to a TCP target reuse an
// open flow to that address or open a new connection from this listener's address.
import net from 'node:net';
import { isIPv6 } from 'node:net';
import { StreamFramer } from '../sip-message/stream-framer.js';
import type { ListenPoint, Remote } from './types.js';

export type StreamMessageHandler = (data: Buffer, remote: Remote, local: ListenPoint) => void;

interface Flow {
  id: number;
  socket: net.Socket;
  remote: Remote;
  framer: StreamFramer;
  key: string;
  lastActivity: number;
  /** bytes queued before an outgoing connection is established */
  pending?: Buffer[];
}

let nextFlowId = 1;

export interface StreamListenerOptions {
  idleTimeoutMs: number;
  maxBuffer: number;
  maxConnections: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamListenerOptions = { idleTimeoutMs: 15 * 60_000, maxBuffer: 128 * 1024, maxConnections: 10_000 };

/**
 * TCP, and the base of TLS (tls-listener.ts): framing, flows, reuse and idle
 * sweeping are the same; only how sockets are accepted and dialled differs.
 */
export class TcpListener {
  private server?: net.Server;
  private flows = new Map<number, Flow>();
  private byKey = new Map<string, Flow>();
  private idleTimer?: NodeJS.Timeout;
  framingErrors = 0;
  refused = 0;
  /** decides at accept whether a connection from this address is taken */
  admit: (address: string) => boolean = () => true;

  constructor(
    readonly point: ListenPoint,
    private readonly onMessage: StreamMessageHandler,
    protected readonly onError: (err: Error) => void,
    private readonly opts: StreamListenerOptions = DEFAULT_STREAM_OPTIONS,
  ) {}

  /** the transport named in Remote.transport for flows of this listener */
  protected get kind(): 'tcp' | 'tls' {
    return 'tcp';
  }

  /** a server calling `onSocket` for each accepted (for TLS: handshaken) connection */
  protected createServer(onSocket: (socket: net.Socket) => void): net.Server {
    return net.createServer({ noDelay: true }, onSocket);
  }

  /** an outgoing connection and the event that says it is ready for data */
  protected dial(remote: Remote): { socket: net.Socket; readyEvent: string } {
    return { socket: net.connect({ host: remote.address, port: remote.port, localAddress: this.point.address, noDelay: true }), readyEvent: 'connect' };
  }

  start(): Promise<void> {
    // made here, not in the constructor, so a subclass's own fields are set
    const server = this.createServer((socket) => {
      // the packet gate at accept: a banned address gets its connection closed at once
      const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      if (!this.admit(address)) {
        this.refused++;
        socket.destroy();
        return;
      }
      this.adopt(socket);
    });
    server.maxConnections = this.opts.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.point.address, port: this.point.port, ipv6Only: isIPv6(this.point.address), exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.onError(err));
        const addr = server.address();
        if (this.point.port === 0 && addr && typeof addr === 'object') this.point.port = addr.port;
        this.idleTimer = setInterval(() => this.sweepIdle(), 30_000);
        this.idleTimer.unref();
        resolve();
      });
    });
  }

  get connectionCount(): number {
    return this.flows.size;
  }

  private keyOf(address: string, port: number): string {
    return address + '|' + port;
  }

  private adopt(socket: net.Socket, remoteHint?: Remote): Flow {
    const address = remoteHint?.address ?? (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = remoteHint?.port ?? socket.remotePort ?? 0;
    const id = nextFlowId++;
    const remote: Remote = { transport: this.kind, address, port, flow: id };
    const flow: Flow = {
      id,
      socket,
      remote,
      framer: new StreamFramer({ maxBuffer: this.opts.maxBuffer }),
      key: this.keyOf(address, port),
      lastActivity: Date.now(),
    };
    this.flows.set(id, flow);
    this.byKey.set(flow.key, flow);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(flow, chunk));
    socket.on('error', () => this.drop(flow));
    socket.on('close', () => this.drop(flow));
    return flow;
  }

  private onData(flow: Flow, chunk: Buffer): void {
    flow.lastActivity = Date.now();
    const r = flow.framer.push(chunk);
    if (r.keepAlive) flow.socket.write('\r\n'); // RFC 5626 §3.5.1: a CRLFCRLF ping gets a CRLF pong
    for (const msg of r.messages) this.onMessage(msg, flow.remote, this.point);
    if (r.error) {
      // Framing is lost (no Content-Length, oversize): the connection must be closed.
      this.framingErrors++;
      this.onFramingError?.(flow.remote, r.error);
      flow.socket.destroy();
      this.drop(flow);
    }
  }

  private drop(flow: Flow): void {
    if (!this.flows.delete(flow.id)) return;
    if (this.byKey.get(flow.key) === flow) this.byKey.delete(flow.key);
    flow.socket.destroy();
    this.onClosed?.(flow.remote);
  }

  /** closes every connection with this address (it was just banned); returns how many */
  closeFrom(address: string): number {
    let n = 0;
    for (const f of [...this.flows.values()]) {
      if (f.remote.address === address) {
        this.drop(f);
        n++;
      }
    }
    return n;
  }

  /** told when a stream's framing is lost (for the security log and the IDS) */
  onFramingError?: (remote: Remote, error: string) => void;

  /** told when a connection goes away, so transactions bound to it fail fast (RFC 3261 §17.1.4) */
  onClosed?: (remote: Remote) => void;

  private sweepIdle(): void {
    const limit = Date.now() - this.opts.idleTimeoutMs;
    for (const f of this.flows.values()) if (f.lastActivity < limit) this.drop(f);
  }

  /** send on the given flow; or on an open flow to that address; or connect */
  send(data: Buffer, remote: Remote): void {
    // the flow the peer opened, if it is still up (RFC 5626-style connection reuse)
    let flow = remote.flow !== undefined ? this.flows.get(remote.flow) : undefined;
    if (!flow) flow = this.byKey.get(this.keyOf(remote.address, remote.port));
    if (!flow) flow = this.connect(remote);
    flow.lastActivity = Date.now();
    if (flow.pending) flow.pending.push(data);
    else flow.socket.write(data);
  }

  private connect(remote: Remote): Flow {
    const { socket, readyEvent } = this.dial(remote);
    const flow = this.adopt(socket, { transport: this.kind, address: remote.address, port: remote.port });
    flow.pending = [];
    socket.once(readyEvent, () => {
      const q = flow.pending ?? [];
      flow.pending = undefined;
      for (const b of q) socket.write(b);
    });
    return flow;
  }

  close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    for (const f of [...this.flows.values()]) this.drop(f);
    const server = this.server;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
