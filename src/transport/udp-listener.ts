// One UDP socket bound exactly where the configuration says.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { literalLookup } from '../core/udp-lookup.js';
import type { ListenPoint, Remote } from './types.js';

export type DatagramHandler = (data: Buffer, remote: Remote, local: ListenPoint) => void;

export class UdpListener {
  private socket: dgram.Socket;
  sendErrors = 0;
  /**
   * The receive buffer the kernel granted, in the bytes asked for (Linux
   * keeps twice the size for its bookkeeping and reports that; it caps what
   * a process may ask at net.core.rmem_max). 0 until bound.
   */
  recvBufferGranted = 0;

  constructor(
    readonly point: ListenPoint,
    private readonly onDatagram: DatagramHandler,
    private readonly recvBufferSize: number,
    private readonly onError: (err: Error) => void,
    /**
     * several workers (src/host/workers/): `cluster`, the one socket the
     * cluster primary holds, shared by every worker; or `{ fd }`, this
     * worker's own socket of a group the primary opened, steered by source
     * address (src/transport/steered-udp.ts)
     */
    private readonly share: 'none' | 'cluster' | { fd: number } = 'none',
  ) {
    this.socket = dgram.createSocket({ type: isIPv6(point.address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(point.address), lookup: literalLookup });
  }

  start(): Promise<void> {
    const s = this.socket;
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error) => reject(err);
      s.once('error', onBindError);
      const share = this.share;
      const where = typeof share === 'object' ? { fd: share.fd, exclusive: true } : { address: this.point.address, port: this.point.port, exclusive: share !== 'cluster' };
      s.bind(where, () => {
        s.off('error', onBindError);
        s.on('error', (err) => this.onError(err));
        try {
          // A large receive buffer absorbs bursts (the kernel caps it at rmem_max).
          s.setRecvBufferSize(this.recvBufferSize);
          s.setSendBufferSize(Math.min(this.recvBufferSize, 4 * 1024 * 1024));
          this.recvBufferGranted = process.platform === 'linux' ? Math.floor(s.getRecvBufferSize() / 2) : s.getRecvBufferSize();
        } catch (err) {
          this.onError(err as Error);
        }
        if (this.point.port === 0) this.point.port = s.address().port;
        const local = this.point;
        s.on('message', (data, rinfo) => {
          this.onDatagram(data, { transport: 'udp', address: rinfo.address, port: rinfo.port }, local);
        });
        resolve();
      });
    });
  }

  /**
   * Queues a datagram; every datagram queued during one event-loop turn goes
   * out back to back when the turn ends (setImmediate runs after the poll
   * phase has handled every packet that was ready), in the order queued.
   * Why: a send to a peer whose thread sleeps makes the kernel wake it, and
   * on a virtual machine that wake-up (an inter-processor interrupt through
   * the hypervisor) costs the sender some 25–35 µs of CPU, while each further
   * send to the woken peer costs under 1 µs. Sent one by one between the
   * requests of a turn, nearly every response paid a wake-up (dgram's send
   * was 30 % of the REGISTER profile); sent together they share it. The delay
   * is the rest of the turn: microseconds, far below any SIP timer.
   */
  send(data: Buffer, remote: Remote): void {
    // what dgram would refuse at once is refused here, to the caller, not later in the flush
    if (!(remote.port > 0 && remote.port < 65536)) throw new RangeError(`bad port ${remote.port}`);
    const q = this.queue;
    // the port and address as they are now: the caller's Remote may change before the turn ends
    q.push(data, remote.port, remote.address);
    if (q.length === 3) setImmediate(this.flush);
  }

  /** datagrams waiting for the end of the turn: [data, port, address, …] (one array, no object per packet) */
  private readonly queue: Array<Buffer | number | string> = [];

  private readonly flush = (): void => {
    const q = this.queue;
    const s = this.socket;
    // No completion callback: it costs a closure call per packet; a failed send
    // surfaces as the socket's 'error' event, which is counted and logged.
    for (let i = 0; i < q.length; i += 3) {
      try {
        s.send(q[i] as Buffer, q[i + 1] as number, q[i + 2] as string);
      } catch (err) {
        // the socket closed under the queue (shutdown): that datagram is lost, as a send on a closed socket would be
        this.onError(err as Error);
      }
    }
    q.length = 0;
  };

  async close(): Promise<void> {
    if (this.queue.length > 0) {
      this.flush();
      // a datagram to an IP literal is written at once (literalLookup); one to a host name a tick later, after its look-up: let those leave too
      await new Promise((r) => setImmediate(r));
    }
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
