// Shared fixtures for the transaction layer's unit tests: a Sender that
// records what would have gone on the wire, a TU that records what it was
// told, and builders for requests and responses in wire form.
import { parseMessage } from '../../src/sip-message/parser.js';
import { buildResponse } from '../../src/sip-message/response.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';
import type { ListenPoint, Remote, Sender, TransportKind } from '../../src/transport/types.js';
import { FakeClock } from './fake-clock.js';
import type { ServerTransaction } from '../../src/sip/transaction/server-transaction.js';
import { TransactionManager, type TransactionManagerOptions, type TransactionUser } from '../../src/sip/transaction/transaction-manager.js';

export class RecordingSender implements Sender {
  readonly sent: { data: Buffer; remote: Remote; at: number }[] = [];
  constructor(private readonly clock: FakeClock) {}

  send(data: Buffer, remote: Remote): void {
    this.sent.push({ data, remote, at: this.clock.now() });
  }

  localFor(remote: Remote): ListenPoint {
    return { transport: remote.transport, address: '127.0.0.1', port: 5060 };
  }

  /** the i-th sent message, parsed */
  msg(i: number): SipMessage {
    const s = this.sent.at(i);
    if (!s) throw new Error(`nothing sent at index ${i} (${this.sent.length} sent)`);
    return parse(s.data);
  }

  /** times (ms) at which messages whose first line starts with `start` were sent */
  timesOf(start: string): number[] {
    return this.sent.filter((s) => s.data.toString('latin1').startsWith(start)).map((s) => s.at);
  }

  clear(): void {
    this.sent.length = 0;
  }
}

export class RecordingTu implements TransactionUser {
  readonly requests: { tx: ServerTransaction; msg: SipMessage; remote: Remote }[] = [];
  readonly cancels: { msg: SipMessage; target: ServerTransaction }[] = [];
  readonly acks: SipMessage[] = [];
  readonly strays: SipMessage[] = [];
  /** answer every new request at once with this status (0: don't) */
  autoAnswer = 0;

  onRequest(tx: ServerTransaction, msg: SipMessage, remote: Remote): void {
    this.requests.push({ tx, msg, remote });
    if (this.autoAnswer) tx.respond(buildResponse(msg, this.autoAnswer, undefined, { toTag: 'uas1' }));
  }
  onCancel(msg: SipMessage, target: ServerTransaction): void {
    this.cancels.push({ msg, target });
  }
  onAck(msg: SipMessage): void {
    this.acks.push(msg);
  }
  onStrayResponse(msg: SipMessage): void {
    this.strays.push(msg);
  }
}

export function parse(data: Buffer | string): SipMessage {
  const r = parseMessage(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  if (!r.ok) throw new Error(`test message does not parse: ${JSON.stringify(r)}`);
  return r.msg;
}

export const UDP: Remote = { transport: 'udp', address: '127.0.0.1', port: 5070 };
export const TCP: Remote = { transport: 'tcp', address: '127.0.0.1', port: 5070, flow: 7 };

export interface ReqOptions {
  branch?: string | null; // null: no branch parameter (RFC 2543 peer)
  transport?: TransportKind;
  sentBy?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  uri?: string;
  extra?: string[];
}

/** a request as a peer would send it */
export function request(method: string, o: ReqOptions = {}): SipMessage {
  const t = (o.transport ?? 'udp').toUpperCase();
  const branch = o.branch === null ? '' : `;branch=${o.branch ?? 'z9hG4bKpeer1'}`;
  const lines = [
    `${method} ${o.uri ?? 'sip:bob@127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/${t} ${o.sentBy ?? '127.0.0.1:5070'}${branch}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=${o.fromTag ?? 'a1'}`,
    `To: <sip:bob@127.0.0.1>${o.toTag ? ';tag=' + o.toTag : ''}`,
    `Call-ID: ${o.callId ?? 'call-1'}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parse(lines.join('\r\n'));
}

/** a response to `req` as the peer would send it back (wire round trip) */
export function response(req: SipMessage, status: number, toTag?: string): SipMessage {
  return parse(buildResponse(req, status, undefined, { toTag }).toBuffer());
}

/** a manager on a FakeClock with a recording sender and TU */
export function rig(opts: Partial<TransactionManagerOptions> = {}): {
  clock: FakeClock;
  sender: RecordingSender;
  tu: RecordingTu;
  tm: TransactionManager;
} {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const tu = new RecordingTu();
  const tm = new TransactionManager({ sender, clock, tu, trying: 'off', ...opts });
  return { clock, sender, tu, tm };
}

/** a client request as the TU would hand it to sendRequest (no Via yet) */
export function outgoing(method: string, extra: string[] = []): SipMessage {
  const m = request(method, { extra });
  m.remove('via');
  return m;
}
