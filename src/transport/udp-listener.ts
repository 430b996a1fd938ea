// One UDP socket bound exactly where the configuration says.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
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
    /** several workers: the one socket the cluster primary holds, shared by every worker (src/host/workers/) */
    private readonly shared = false,
  ) {
    this.socket = dgram.createSocket({ type: isIPv6(point.address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(point.address) });
  }

  start(): Promise<void> {
    const s = this.socket;
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error) => reject(err);
      s.once('error', onBindError);
      s.bind({ address: this.point.address, port: this.point.port, exclusive: !this.shared }, () => {
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

  send(data: Buffer, remote: Remote): void {
    // No completion callback: it costs a closure call per packet; a failed send
    // surfaces as the socket's 'error' event, which is counted and logged.
    this.socket.send(data, remote.port, remote.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
