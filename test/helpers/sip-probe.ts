// Raw-socket SIP probing of a live server for the torture and fuzz tests:
// UDP sockets that record every datagram they get back (and from where), TCP
// connections that record what comes back and whether the server hung up,
// valid OPTIONS/REGISTER builders, the RFC 4475 archive, the server's
// `palisade status`, and the check that no route leaves loopback.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sharedTestdata } from './paths.js';
import { parseMessage } from '../../src/sip-message/parser.js';
import { SipMessage } from '../../src/sip-message/sip-message.js';

export interface Received {
  data: Buffer;
  from: { address: string; port: number };
  at: number;
}

/** the RFC 4475 archive (byte-exact .dat files), by name without .dat */
export function tortureMessages(): Map<string, Buffer> {
  const dir = sharedTestdata('rfc4475');
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.dat'))
    .sort()) {
    out.set(f.slice(0, -4), readFileSync(join(dir, f)));
  }
  return out;
}

/**
 * Parse what the server sent. A 400 echoes the request's Via, From, To,
 * Call-ID and CSeq as they came (RFC 3261 §8.2.6.2), malformed or missing
 * ones included, so only the status line must be sound; the header lines
 * are then taken as they are. A request, or no status line, fails the test.
 */
export function parseResponse(data: Buffer): SipMessage {
  const r = parseMessage(data);
  let msg = r.msg;
  if (!msg) {
    const text = data.toString('latin1');
    const sl = /^SIP\/2\.0 ([1-6]\d\d) ([^\r\n]*)\r\n/.exec(text);
    if (!sl) throw new Error(`server sent something without a status line (${r.ok ? '' : r.code + ': ' + r.error}):\n${text}`);
    msg = new SipMessage();
    msg.status = Number(sl[1]);
    msg.reason = sl[2]!;
    const headEnd = text.indexOf('\r\n\r\n');
    for (const line of text.slice(sl[0].length, headEnd < 0 ? undefined : headEnd).split('\r\n')) {
      const c = line.indexOf(':');
      if (c > 0) msg.headers.push({ name: line.slice(0, c).trim().toLowerCase(), value: line.slice(c + 1).trim() });
    }
  }
  if (msg.isRequest) throw new Error(`server sent a request where a response was expected:\n${data.toString('latin1')}`);
  return msg;
}

/** A UDP socket on a loopback address (127.0.0.1 unless told) that keeps every datagram it receives. */
export class UdpProbe {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly sock: UdpSocket,
    readonly port: number,
  ) {
    sock.on('message', (data, r) => {
      this.received.push({ data, from: { address: r.address, port: r.port }, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** `host`: another loopback address, e.g. one a given worker owns (test/helpers/worker-addresses.ts) */
  static async open(port = 0, host = '127.0.0.1'): Promise<UdpProbe> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    // a send that fails must not crash the test process
    sock.on('error', () => {});
    // a fuzzing burst's answers must not overflow the default ~200 KB queue while this process pauses (GC, a loaded machine)
    try {
      sock.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // the kernel's limit is lower: keep its default
    }
    return new UdpProbe(sock, sock.address().port);
  }

  send(data: Buffer | string, port: number, host = '127.0.0.1'): void {
    this.sock.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, host);
  }

  /** resolves true once pred holds for what was received, false after timeoutMs */
  async waitFor(pred: (got: readonly Received[]) => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.received)) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }
}

/** A TCP connection to the server that keeps every byte it gets back. */
export class TcpProbe {
  data = Buffer.alloc(0);
  closedAt: number | null = null;
  error: string | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly sock: TcpSocket) {
    const wake = () => {
      for (const w of this.waiters.splice(0)) w();
    };
    sock.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      wake();
    });
    sock.on('error', (e) => {
      this.error = e.message;
    });
    sock.on('close', () => {
      this.closedAt = Date.now();
      wake();
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<TcpProbe> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, host);
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.setNoDelay(true);
        resolve(new TcpProbe(sock));
      });
    });
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.sock.destroyed || this.closed) return resolve();
      this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve());
    });
  }

  /** the complete responses received so far (framed by Content-Length) */
  responses(): SipMessage[] {
    return frameAll(this.data).map(parseResponse);
  }

  async waitFor(pred: (p: TcpProbe) => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!pred(this)) {
      const left = end - Date.now();
      if (left <= 0 || this.closed) return pred(this);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * Splits a byte stream of server messages at header end + Content-Length.
 * CRLFs between messages are keep-alive pongs (RFC 5626 §3.5.1) and are
 * skipped. Only a CRLF starts a line: a 400 may echo a header value holding
 * a lone CR, which must not pass for the start of a Content-Length line.
 */
function frameAll(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    while (pos < buf.length && (buf[pos] === 0x0d || buf[pos] === 0x0a)) pos++;
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end < 0) return out;
    const head = buf.toString('latin1', pos, end);
    const m = /(?:^|\r\n)(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
    const total = end + 4 + (m ? Number(m[1]) : 0);
    if (total > buf.length) return out;
    out.push(buf.subarray(pos, total));
    pos = total;
  }
}

export interface RequestOptions {
  /** Request-URI host and To/From domain */
  domain: string;
  transport?: 'UDP' | 'TCP';
  /** port named in Via sent-by (the probe's own port) */
  localPort: number;
  callId: string;
  branch?: string;
  user?: string;
}

/** a valid out-of-dialog OPTIONS, as a phone sends it (RFC 3261 §11.1) */
export function optionsRequest(o: RequestOptions): string {
  const user = o.user ?? 'probe';
  return [
    `OPTIONS sip:${o.domain} SIP/2.0`,
    `Via: SIP/2.0/${o.transport ?? 'UDP'} 127.0.0.1:${o.localPort};branch=${o.branch ?? 'z9hG4bK-' + o.callId};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${o.domain}>;tag=${o.callId.slice(0, 8)}`,
    `To: <sip:${o.domain}>`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 OPTIONS',
    `Contact: <sip:${user}@127.0.0.1:${o.localPort}>`,
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** OPTIONS over UDP from the loopback address `from` (a fresh port and Call-ID each time); resolves with whether an answer came within a second */
export function udpOptions(pal: { domain: string; sipPort: number; address?: string }, from: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, from, () => {
      const callId = `probe-${from}-${s.address().port}-${Date.now()}`;
      s.send(optionsRequest({ domain: pal.domain, localPort: s.address().port, callId }), pal.sipPort, pal.address ?? '127.0.0.1');
      const t = setTimeout(() => {
        s.close();
        resolve(false);
      }, 1000);
      s.on('message', () => {
        clearTimeout(t);
        s.close();
        resolve(true);
      });
    });
  });
}

/** a valid first REGISTER without credentials (RFC 3261 §10.2) */
export function registerRequest(o: RequestOptions & { user: string }): string {
  return [
    `REGISTER sip:${o.domain} SIP/2.0`,
    `Via: SIP/2.0/${o.transport ?? 'UDP'} 127.0.0.1:${o.localPort};branch=${o.branch ?? 'z9hG4bK-' + o.callId};rport`,
    'Max-Forwards: 70',
    `From: <sip:${o.user}@${o.domain}>;tag=${o.callId.slice(0, 8)}`,
    `To: <sip:${o.user}@${o.domain}>`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${o.user}@127.0.0.1:${o.localPort};transport=${(o.transport ?? 'UDP').toLowerCase()}>`,
    'Expires: 300',
    'User-Agent: palisade-probe',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** `palisade status --config FILE`, each "key: value" line (JSON values parsed) */
export function palisadeStatus(configPath: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'status', '--config', configPath], {
    encoding: 'utf8',
    timeout: 15_000,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) throw new Error(`palisade status failed (${r.status}): ${r.stderr || r.stdout}`);
  const out: Record<string, unknown> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(': ');
    if (i <= 0) continue;
    const v = line.slice(i + 2);
    try {
      out[line.slice(0, i)] = JSON.parse(v);
    } catch {
      out[line.slice(0, i)] = v;
    }
  }
  return out;
}

/** the error code of a UDP send to addr (null when it left) */
export function udpSendError(address: string, port = 5060): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.send(Buffer.from('OPTIONS sip:probe SIP/2.0\r\n\r\n'), port, address, (err) => {
      s.close();
      resolve(err ? ((err as NodeJS.ErrnoException).code ?? 'error') : null);
    });
  });
}

/** true while a process with that PID exists */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
