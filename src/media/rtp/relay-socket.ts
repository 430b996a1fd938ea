// One bound UDP socket of the relay. It outlives the sessions that use it:
// when a session ends the socket goes back to the relay's pool still bound,
// because binding costs ~25 µs of CPU per socket here (bench/rtp-relay-bench.mjs
// measures it) and a busy PBX opens four per call. Its one 'message' listener
// is made once, at creation, and dispatches to whichever flow owns it now.
import dgram from 'node:dgram';
import { literalLookup } from '../../core/udp-lookup.js';

/** whoever receives a socket's packets: a relay flow, or a Palisade-terminated RTP endpoint */
export interface PacketSink {
  receive(msg: Buffer, address: string, port: number): void;
}

export interface RelaySocketEvents {
  /** a packet reached a socket that no session owns (late packets of an ended call) */
  onStray(): void;
  /** a send failed (ICMP unreachable reported by the kernel, etc.) */
  onSendError(): void;
  /**
   * the receiving flow threw on a packet (a fault of ours, or input no check
   * foresaw): the packet is dropped and counted, the process and the call go on
   */
  onReceiveError(err: unknown): void;
}

export class RelaySocket {
  readonly socket: dgram.Socket;
  readonly port: number;
  /** the flow that receives this socket's packets, null while pooled */
  flow: PacketSink | null = null;
  bound = false;
  failed: Error | null = null;
  /** resolves when bound, rejects when the bind fails */
  readonly ready: Promise<void>;

  constructor(address: string, port: number, recvBufferSize: number | undefined, events: RelaySocketEvents) {
    this.port = port;
    const type = address.indexOf(':') >= 0 ? 'udp6' : 'udp4';
    this.socket = dgram.createSocket({ type, ipv6Only: type === 'udp6', recvBufferSize, lookup: literalLookup });
    this.ready = new Promise<void>((resolve, reject) => {
      this.socket.on('error', (err) => {
        if (!this.bound) {
          this.failed = err;
          reject(err);
          return;
        }
        events.onSendError();
      });
      this.socket.bind({ port, address, exclusive: true }, () => {
        this.bound = true;
        resolve();
      });
    });
    // Whoever awaits `ready` sees the failure; nobody awaiting must not crash the process.
    this.ready.catch(() => undefined);
    this.socket.on('message', (msg, rinfo) => {
      const flow = this.flow;
      if (flow === null) {
        events.onStray();
        return;
      }
      // an exception here would escape to the event loop and end the process
      try {
        flow.receive(msg, rinfo.address, rinfo.port);
      } catch (err) {
        events.onReceiveError(err);
      }
    });
  }

  private closing: Promise<void> | null = null;

  /** Closes the socket; calling it again returns the same promise. */
  close(): Promise<void> {
    this.flow = null;
    if (this.closing === null) {
      this.closing = new Promise((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // the handle is already gone
        }
      });
    }
    return this.closing;
  }
}
