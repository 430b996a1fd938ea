// What office features (call park, pickup: src/features/office/) need of
// channels without the channel layer knowing them: services a blind
// transfer may hand a caller to when the Refer-To names no extension (the
// parking lot's `700`), and the calls ringing now that another extension may
// answer instead (pickup). The SIP stack makes one and hands it to every
// SIP channel and to the modules (HostServices.channelFeatures).
import type { Channel } from './channel.js';
import type { MediaEndpoint } from '../media/media-endpoint.js';
import type { EarlyDialog } from '../core/call-events.js';

/** the party that transferred a channel's caller to a service, still on the line until announced() */
export interface Transferor {
  readonly number: string;
  /** its media leg, unbridged: what the service plays there (the parking slot) is heard before it is let go */
  readonly endpoint: MediaEndpoint;
}

export interface TransferHandOff {
  /** the transferor may be let go (NOTIFY 200, BYE) */
  announced: Promise<void>;
  /** the service is done with the caller (retrieved and ended, timed out...): its dialplan may go on */
  done: Promise<void>;
}

/** a service a blind transfer hands a channel's caller to, when the number is no extension */
export interface TransferService {
  readonly name: string;
  takes(number: string, context: string): boolean;
  /** null when it cannot take the caller now (every parking slot taken) */
  take(channel: Channel, number: string, transferor: Transferor): TransferHandOff | null;
}

/** who is calling in a ringing call, as pickup sees it: a channel's caller, or a direct call's */
export type RingingCaller = Pick<Channel, 'name' | 'callerIdNum' | 'peer'>;

/** a call ringing extensions now (a channel's Dial(), or a direct call): another extension may answer it instead */
export interface RingingCall {
  readonly channel: RingingCaller;
  /** the extensions its Dial() rings */
  readonly extensions: readonly string[];
  readonly since: number;
  /** its phones ringing in early dialogs now (a pickup's INVITE with Replaces names one) */
  early?(): readonly EarlyDialog[];
  /**
   * answer the caller and bridge it with `by` (answered already) until one
   * of them ends; false when the call is no longer ringing (answered,
   * given up), true once the bridged call is over
   */
  pickup(by: Channel): Promise<boolean>;
}

/**
 * A Dial() bridge between a channel's caller and the far party it rang,
 * as in-call feature codes see it (features.conf's blindxfer and atxfer
 * dialled by the far party: src/features/office/feature-codes.ts).
 */
export interface BridgedCall {
  readonly channel: Channel;
  /** the Dial() options (t: the called party may transfer) */
  readonly options: string;
  /** the far party: its extension and media leg (its DTMF arrives there; prompts played there reach it alone while held) */
  readonly far: { readonly number: string; readonly endpoint: MediaEndpoint };
  /** this far party's part of the call is over (it hung up, was transferred, or the call ended) */
  readonly ended: Promise<void>;
  /** the caller and the far party apart: the caller hears music on hold; resume() joins them again */
  hold(): void;
  resume(): void;
  /**
   * blind transfer by the far party (a call by its extension for the call
   * gate): the caller goes to `target` — an extension, which rings with the
   * caller's identity while the far party waits, or a transfer service (700)
   */
  transfer(target: string): Promise<'SUCCESS' | 'FAILURE'>;
  /** attended transfer: the far party calls `target` (as itself) and talks to it; null when that call fails */
  consult(target: string): Promise<Consultation | null>;
}

/** the far party's consultation call during an attended transfer */
export interface Consultation {
  readonly target: string;
  /** the consulted party hung up (or the consultation was completed or cancelled) */
  readonly ended: Promise<void>;
  /** the caller and the consulted party talk, the far party leaves (also done when the far party hangs up) */
  complete(): void;
  /** the consulted party is hung up and the far party is back with the caller */
  cancel(): void;
}

/** the early dialog an INVITE's Replaces names (RFC 3891), as its recipient sees it: to-tag ours, from-tag the phone's */
export interface NamedDialog {
  readonly callId: string;
  readonly toTag: string;
  readonly fromTag: string;
}

/** a ringing call a pickup's Replaces may take */
export interface ReplacesPickup {
  /** the caller's number, shown to the picker */
  readonly callerIdNum: string;
  /** answers `by` and bridges it with the caller until one ends; false when the call rang no more */
  take(by: Channel): Promise<boolean>;
}

export class ChannelFeatures {
  /**
   * Pickup by an INVITE with Replaces (a busy-lamp key pressed): the
   * extension `picker` names a ringing call's early dialog. Returns what
   * answers the call on the picker's channel (resolving as Pickup's
   * RingingCall.pickup does), or null when no such call may be taken by
   * it. Set by the office module (pickup rules); unset, nothing is taken.
   */
  pickupByReplaces: ((picker: string, d: NamedDialog) => ReplacesPickup | null) | null = null;
  private readonly services: TransferService[] = [];
  private readonly ringingCalls = new Set<RingingCall>();
  private readonly bridgeWatchers = new Set<(b: BridgedCall) => void>();
  private readonly ringingSources = new Set<() => RingingCall[]>();

  /** more calls ringing now, asked at each pickup (the B2BUA's direct calls); returns the removal */
  addRingingSource(fn: () => RingingCall[]): () => void {
    this.ringingSources.add(fn);
    return () => this.ringingSources.delete(fn);
  }

  /** told of every Dial() bridge as it starts (and again when a transfer brings a new far party); returns the removal */
  onBridged(fn: (b: BridgedCall) => void): () => void {
    this.bridgeWatchers.add(fn);
    return () => this.bridgeWatchers.delete(fn);
  }

  bridged(b: BridgedCall): void {
    for (const fn of this.bridgeWatchers) fn(b);
  }

  /** returns the removal */
  addTransferService(s: TransferService): () => void {
    this.services.push(s);
    return () => {
      const i = this.services.indexOf(s);
      if (i >= 0) this.services.splice(i, 1);
    };
  }

  transferService(number: string, context: string): TransferService | undefined {
    return this.services.find((s) => s.takes(number, context));
  }

  /** a Dial() rings; returns the removal (answered, failed, picked up) */
  ringing(c: RingingCall): () => void {
    this.ringingCalls.add(c);
    return () => this.ringingCalls.delete(c);
  }

  /** calls ringing now, the longest ringing first; those ringing `extension` when given */
  ringingNow(extension?: string): RingingCall[] {
    const all = [...this.ringingCalls];
    for (const fn of this.ringingSources) all.push(...fn());
    return all.filter((c) => extension === undefined || c.extensions.includes(extension)).sort((a, b) => a.since - b.since);
  }
}
