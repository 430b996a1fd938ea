// Hands INVITEs the dialplan claims to new SIP channels, gives each its
// media services (endpoint-media.ts) and runs the dialplan on the pair;
// when the dialplan returns, the channel is hung up (as Asterisk does at the
// end of the extension).
import type { SipMessage } from '../sip-message/sip-message.js';
import type { Remote } from '../transport/types.js';
import type { CallTicket, DialplanRouting, ExtensionInfo, ServerTxHandle } from '../sip/b2bua/types.js';
import type { Channel } from './channel.js';
import type { ChannelMedia } from './channel-media.js';
import { EndpointMedia, type MediaServiceDeps } from './endpoint-media.js';
import { SipChannel, type ChannelOrigin, type SipChannelDeps } from './sip-channel.js';
import type { ReplacesId } from '../sip/b2bua/refer.js';
import { reinvite, type ChannelDialogMatch, type FarParty } from './channel-transfer.js';
import { AnsweredLeg } from './sip-dial.js';
import type { RingingCall } from './channel-features.js';
import { DirectTransferServices } from './direct-services.js';
import { MediaSession } from '../media/media-session.js';
import { MediaLeg } from '../media/media-leg.js';
import type { DirectRinging } from '../sip/b2bua/leg-host.js';
import { originate, type OriginateRequest, type OriginateResult } from './originate.js';

/** what main.ts needs from the dialplan engine (src/dialplan/ implements it) */
export interface DialplanRunner {
  /** does `context` have an extension matching `exten` (for this caller)? */
  has(context: string, exten: string, callerId: string): boolean;
  /** run the dialplan on an incoming channel, with its media services, until it ends */
  run(channel: Channel, media: ChannelMedia): Promise<void>;
}

export class SipChannelFactory {
  private readonly channels = new Set<SipChannel>();
  private readonly originated = new Set<Channel>();
  private readonly deps: SipChannelDeps & MediaServiceDeps;

  constructor(
    deps: SipChannelDeps & MediaServiceDeps,
    private readonly dialplan: DialplanRunner,
  ) {
    // an attended transfer's Replaces may name another channel's dialog
    this.deps = { ...deps, replaceable: (r) => this.dialogNamed(r) };
    // the B2BUA's direct calls ringing now may be picked up as channels' Dial()s are
    const ua = deps.ua;
    if (ua.ringingDirect) deps.features?.addRingingSource(() => ua.ringingDirect!().map((r) => this.ringingCall(r)));
    // and a direct call's blind REFER to a service number (parking) is handed to the service through channels
    if (deps.features && !ua.directServices)
      ua.directServices = new DirectTransferServices(
        ua,
        deps.features,
        () => new MediaSession(new MediaLeg(deps.allocatePair(), deps.mediaAddress, 0), deps.mediaAddress),
        deps.log,
        deps.technologies,
      );
  }

  /** a direct call ringing, as pickup sees it */
  private ringingCall(r: DirectRinging): RingingCall {
    return {
      channel: { name: `SIP/${r.caller.number}`, callerIdNum: r.caller.number, peer: { transport: 'udp', address: '', port: 0, account: r.caller.number } },
      extensions: [r.callee],
      since: r.since,
      early: () => r.early(),
      pickup: (by) => this.pickupDirect(r, by),
    };
  }

  /**
   * Pickup of a direct call: the caller's INVITE leaves the B2BUA's call
   * unanswered and becomes a channel, answered and joined with the picker's
   * channel until one of them ends. False when it rang no more.
   */
  private async pickupDirect(r: DirectRinging, by: Channel): Promise<boolean> {
    if (by.hungUp) return false;
    const taken = r.take(by.peer.account ?? by.name);
    if (!taken) return false;
    const ch = this.open(taken.tx, taken.req, taken.remote, taken.caller, taken.dialled, taken.ticket);
    if (!ch) return false;
    ch.emitPhase('start');
    this.deps.log.info('channel-new', { channel: ch.name, exten: taken.dialled, context: taken.caller.context, pickedUpBy: by.name });
    await ch.joinPicker(by);
    await ch.hangup('normal');
    return true;
  }

  /** the live channel and which of its dialogs a Replaces names */
  private dialogNamed(r: ReplacesId): ChannelDialogMatch | undefined {
    for (const channel of this.channels) {
      const role = channel.dialogNamed(r);
      if (role) return { channel, role };
    }
    return undefined;
  }

  get count(): number {
    return this.channels.size + this.originated.size;
  }

  /** the hook the B2BUA asks before routing an INVITE itself */
  routing(): DialplanRouting {
    return {
      routes: (caller: ExtensionInfo, dialled: string) => this.dialplan.has(caller.context, dialled, caller.number),
      accept: (tx, req, remote, caller, dialled, ticket) => this.accept(tx, req, remote, caller, dialled, ticket),
      replacing: (tx, req, remote, caller, r, ticket) => this.replacing(tx, req, remote, caller, r, ticket),
    };
  }

  /**
   * An INVITE with Replaces (RFC 3891 §3): the caller's phone takes the
   * place of the named dialog's party X in its call, and X gets BYE. What
   * can be replaced: the caller of a Dial() channel (its far party is
   * moved to a new channel for this INVITE) and either party of an
   * answered direct call (the other party is re-INVITEd towards that
   * channel's media). The call gate judged the INVITE already, as a call by
   * its caller. False when nothing matches (the B2BUA answers 481).
   */
  replacing(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, r: ReplacesId, ticket?: CallTicket): boolean {
    const m = this.dialogNamed(r);
    const rp = m ? undefined : this.deps.ua.replacedParty?.(r);
    if (!m && !rp) return this.pickingUp(tx, req, remote, caller, r, ticket);
    if (r.earlyOnly) {
      // RFC 3891 §3: early-only, and the dialog it names is answered: 486 Busy Here, the dialog left as it is
      const refused = new SipChannel(this.deps, tx, req, remote, caller, req.ruri.user ?? '');
      refused.lastApp = 'Replaces';
      ticket?.ended(0);
      this.deps.log.info('replaces-early-only', { by: caller.number });
      void refused.hangup('busy');
      return true;
    }
    if (m ? m.role !== 'caller' || !m.channel.farNumber : !rp?.live) return false;
    const ch = this.open(tx, req, remote, caller, req.ruri.user ?? '', ticket);
    if (!ch) return true;
    ch.emitPhase('start');
    const how = `replaced by ${caller.number}`;
    void (async () => {
      let far: FarParty | null = null;
      if (m) {
        const other = m.channel;
        far = other.detachFar();
        if (far) void other.hangup();
      } else if (rp) {
        const session = ch.newFarSession();
        const answer = await reinvite(this.deps.ua, rp.dialog, session.offer());
        try {
          if (answer && rp.live) {
            session.takeAnswer(answer);
            far = { leg: new AnsweredLeg(this.deps.ua, rp.dialog, rp.party.number), session };
            session.leg.start();
            rp.release(how)?.ended(0);
          }
        } catch {
          far = null;
        }
        if (!far) session.leg.close();
      }
      if (!far) {
        this.deps.log.info('replaces-failed', { channel: ch.name, by: caller.number });
        return ch.hangup('failure');
      }
      this.deps.log.info('call-replaced', { channel: ch.name, by: caller.number, with: far.leg.number, dialog: m ? m.channel.name : 'direct' });
      await ch.adoptFar(far, how);
      await ch.hangup('normal');
    })();
    return true;
  }

  /**
   * An INVITE with Replaces naming an early dialog of a ringing call: a
   * busy-lamp key pressed to pick the call up. RFC 3891 §3 lets a UA
   * replace an early dialog it started, and Palisade sent the INVITE that
   * rings the phone. The office module's pickup rules decide
   * (ChannelFeatures.pickupByReplaces); the ringing phones are cancelled and
   * the caller is answered and joined with this INVITE's channel. False
   * (481) when there is no such call and when the caller may not take it,
   * the same answer for both.
   */
  private pickingUp(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, r: ReplacesId, ticket?: CallTicket): boolean {
    const found = this.deps.features?.pickupByReplaces?.(caller.number, r);
    if (!found) return false;
    const ch = this.open(tx, req, remote, caller, req.ruri.user ?? '', ticket);
    if (!ch) return true;
    ch.lastApp = 'Pickup';
    ch.lastData = found.callerIdNum;
    ch.connectedTo = found.callerIdNum;
    ch.emitPhase('start');
    this.deps.log.info('channel-new', { channel: ch.name, exten: ch.dialed, context: caller.context, pickup: 'replaces' });
    void (async () => {
      const ok = await found.take(ch);
      ch.vars.set('PICKUPSTATUS', ok ? 'SUCCESS' : 'FAILED');
      await ch.hangup('normal');
    })();
    return true;
  }

  /**
   * A channel for this INVITE, counted while it lives; its gate ticket ends
   * with it (with the seconds it was answered). Null when the channel could
   * not be admitted (it answered the INVITE itself; the ticket ends at once).
   */
  private open(
    tx: ServerTxHandle,
    req: SipMessage,
    remote: Remote,
    caller: ExtensionInfo,
    dialled: string,
    ticket?: CallTicket,
    origin?: ChannelOrigin,
    mediaAddress?: string,
  ): SipChannel | null {
    const deps = mediaAddress === undefined ? this.deps : { ...this.deps, mediaAddress };
    const ch = new SipChannel(deps, tx, req, remote, caller, dialled, origin);
    if (!ch.admit()) {
      ticket?.ended(0);
      return null;
    }
    this.channels.add(ch);
    void ch.ended.then(() => {
      this.channels.delete(ch);
      ticket?.ended(ch.answerAt ? Math.round((Date.now() - ch.answerAt.getTime()) / 1000) : 0);
    });
    return ch;
  }

  /** `origin`: the call comes from a trunk, not from one of our extensions (its caller ID proves nothing) */
  accept(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, dialled: string, ticket?: CallTicket, origin?: ChannelOrigin): SipChannel | null {
    return this.take(tx, req, remote, caller, dialled, (ch, media) => this.dialplan.run(ch, media), { ticket, origin });
  }

  /**
   * As accept(), but the call runs `run` instead of the dialplan (a call
   * another worker handed over to take a parked call: the office module);
   * `mediaAddress` replaces the address the channel's SDP offers. Hung up
   * when `run` returns.
   */
  take(
    tx: ServerTxHandle,
    req: SipMessage,
    remote: Remote,
    caller: ExtensionInfo,
    dialled: string,
    run: (ch: Channel, media: ChannelMedia) => Promise<void>,
    o: { ticket?: CallTicket; origin?: ChannelOrigin; mediaAddress?: string } = {},
  ): SipChannel | null {
    const ch = this.open(tx, req, remote, caller, dialled, o.ticket, o.origin, o.mediaAddress);
    if (!ch) return null;
    ch.emitPhase('start');
    this.deps.log.info('channel-new', { channel: ch.name, exten: dialled, context: caller.context, ...(o.origin ? { trunk: o.origin.trunk } : {}) });
    run(ch, new EndpointMedia(ch, this.deps))
      .catch((err: Error) => this.deps.log.error('dialplan-failed', { channel: ch.name, error: err.stack ?? err.message }))
      .finally(() => void ch.hangup('normal'));
    return ch;
  }

  /** Palisade places a call; the answered party runs in the dialplan at the request's context and exten (originate.ts) */
  originate(r: OriginateRequest): Promise<OriginateResult> {
    return originate(
      this.deps,
      {
        run: (ch) => {
          this.originated.add(ch);
          void ch.ended.then(() => this.originated.delete(ch));
          return this.dialplan.run(ch, new EndpointMedia(ch, this.deps));
        },
      },
      r,
    );
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

  /** ends one channel by its id (an administrator's hang-up); false when no such channel runs */
  hangup(id: string): boolean {
    for (const c of this.channels) {
      if (c.id !== id) continue;
      void c.hangup('normal');
      return true;
    }
    return false;
  }

  hangupAll(): void {
    for (const c of [...this.channels]) void c.hangup('normal');
    for (const c of [...this.originated]) void c.hangup('normal');
  }
}
