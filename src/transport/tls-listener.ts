// SIP over TLS (RFC 3261 §26.2.1, RFC 5630): the TCP listener's framing, flows
// and connection reuse, with each accepted socket handshaken first. Requests
// to a phone that registered over TLS go back on the phone's own connection
// (the TCP listener's flow lookup); a new outgoing connection is a TLS client.
import type net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_STREAM_OPTIONS, TcpListener, type StreamListenerOptions, type StreamMessageHandler } from './tcp-listener.js';
import type { ListenPoint, Remote } from './types.js';

export interface TlsCredentials {
  certPem: string;
  keyPem: string;
  /** trust anchors for client certificates and for connections we open; null = system CAs */
  caPem: string | null;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2; null = Node's default (no RC4/3DES/export) */
  ciphers: string | null;
  /** ask phones for a certificate and refuse those the CA does not sign */
  verifyClient: boolean;
}

export class TlsListener extends TcpListener {
  /** handshakes that failed (wrong version, no common cipher, plain SIP on the TLS port...) */
  handshakeErrors = 0;
  private readonly context: tls.SecureContext;

  constructor(
    point: ListenPoint,
    onMessage: StreamMessageHandler,
    onError: (err: Error) => void,
    private readonly creds: TlsCredentials,
    opts: StreamListenerOptions = DEFAULT_STREAM_OPTIONS,
  ) {
    super(point, onMessage, onError, opts);
    this.context = tls.createSecureContext(this.secureOptions());
  }

  private secureOptions(): tls.SecureContextOptions {
    return {
      cert: this.creds.certPem,
      key: this.creds.keyPem,
      ...(this.creds.caPem ? { ca: this.creds.caPem } : {}),
      minVersion: this.creds.minVersion,
      ...(this.creds.ciphers ? { ciphers: this.creds.ciphers } : {}),
    };
  }

  protected override get kind(): 'tls' {
    return 'tls';
  }

  protected override createServer(onSocket: (socket: net.Socket) => void): net.Server {
    const server = tls.createServer(
      {
        // tls.Server builds its own context from these (it ignores secureContext)
        ...this.secureOptions(),
        requestCert: this.creds.verifyClient,
        rejectUnauthorized: this.creds.verifyClient,
        // a peer that opens a connection and never handshakes holds a socket
        handshakeTimeout: 10_000,
      },
      onSocket,
    );
    // the packet gate before the handshake: a banned address costs no TLS work
    server.on('connection', (raw: net.Socket) => {
      if (!this.admit((raw.remoteAddress ?? '').replace(/^::ffff:/, ''))) {
        this.refused++;
        raw.destroy();
      }
    });
    server.on('tlsClientError', (_err, socket) => {
      this.handshakeErrors++;
      socket.destroy();
    });
    return server;
  }

  protected override dial(remote: Remote): { socket: net.Socket; readyEvent: string } {
    const socket = tls.connect({
      host: remote.address,
      port: remote.port,
      localAddress: this.point.address,
      secureContext: this.context,
      minVersion: this.creds.minVersion,
      // Phones are reached by IP address, and their certificates rarely name
      // it: the chain is checked against the configured CA, not the name.
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
    } as tls.ConnectionOptions); // localAddress is passed on to net.connect
    socket.setNoDelay(true);
    return { socket, readyEvent: 'secureConnect' };
  }
}
