// Hands INVITEs the dialplan claims to new SIP channels, gives each its
// media services (endpoint-media.ts) and runs the dialplan on the pair;
// when the dialplan returns, the channel is hung up (as Asterisk does at the
// end of the extension).
import type { SipMessage } from '../sip/message/sip-message.js';
import type { Remote } from '../transport/types.js';
import type { CallTicket, DialplanRouting, ExtensionInfo, ServerTxHandle } from '../sip/b2bua/types.js';
import type { Channel } from './channel.js';
import type { ChannelMedia } from './channel-media.js';
import { EndpointMedia, type MediaServiceDeps } from './endpoint-media.js';
import { SipChannel, type SipChannelDeps } from './sip-channel.js';

/** what main.ts needs from the dialplan engine (src/dialplan/ implements it) */
export interface DialplanRunner {
  /** does `context` have an extension matching `exten` (for this caller)? */
  has(context: string, exten: string, callerId: string): boolean;
  /** run the dialplan on an incoming channel, with its media services, until it ends */
  run(channel: Channel, media: ChannelMedia): Promise<void>;
}

export class SipChannelFactory {
  private readonly channels = new Set<SipChannel>();

  constructor(
    private readonly deps: SipChannelDeps & MediaServiceDeps,
    private readonly dialplan: DialplanRunner,
  ) {}

  get count(): number {
    return this.channels.size;
  }

  /** the hook the B2BUA asks before routing an INVITE itself */
  routing(): DialplanRouting {
    return {
      routes: (caller: ExtensionInfo, dialled: string) => this.dialplan.has(caller.context, dialled, caller.number),
      accept: (tx, req, remote, caller, dialled, ticket) => this.accept(tx, req, remote, caller, dialled, ticket),
    };
  }

  accept(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, dialled: string, ticket?: CallTicket): SipChannel | null {
    const ch = new SipChannel(this.deps, tx, req, remote, caller, dialled);
    if (!ch.admit()) {
      ticket?.ended(0);
      return null;
    }
    this.channels.add(ch);
    void ch.ended.then(() => {
      this.channels.delete(ch);
      ticket?.ended(ch.answerAt ? Math.round((Date.now() - ch.answerAt.getTime()) / 1000) : 0);
    });
    ch.emitPhase('start');
    this.deps.log.info('channel-new', { channel: ch.name, exten: dialled, context: caller.context });
    this.dialplan
      .run(ch, new EndpointMedia(ch, this.deps))
      .catch((err: Error) => this.deps.log.error('dialplan-failed', { channel: ch.name, error: err.stack ?? err.message }))
      .finally(() => void ch.hangup('normal'));
    return ch;
  }

  /** rows shaped like the B2BUA's call summaries, for `palisade show calls` */
  list(): Array<Record<string, unknown>> {
    return [...this.channels].map((c) => ({
      id: c.id,
      from: c.callerIdNum,
      to: c.dialed,
      state: c.answered ? 'answered' : 'ringing',
      start: c.start.toISOString(),
      answer: c.answerAt?.toISOString() ?? null,
      source: `${c.remote.transport}:${c.remote.address}:${c.remote.port}`,
      media: `channel ${c.mediaDescription}`,
    }));
  }

  hangupAll(): void {
    for (const c of [...this.channels]) void c.hangup('normal');
  }
}
