// The office module's call park and pickup (parking.ts, pickup.ts) wired to
// the server: the `office:` section's `parking` and `pickup` keys, the
// numbers they serve without a dialplan line (a call router, classed
// internal by the call gate: 700, 701-720, *8, **EXT), the parking lot as
// the transfer service a blind transfer to 700 reaches, and the dialplan
// applications Park(), ParkedCall() and Pickup().
//
//   exten => 700,1,Park()                 exten => *8,1,Pickup()
//   exten => _7[01]X,1,ParkedCall(${EXTEN}) exten => _**X.,1,Pickup(${EXTEN:2})
import type { MapReader } from '../../config/yaml-reader.js';
import type { Channel } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { CallRouter } from '../../channel/call-routers.js';
import type { ChannelFeatures } from '../../channel/channel-features.js';
import { EndpointMedia, type MediaServiceDeps } from '../../channel/endpoint-media.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import { splitArgs } from '../../dialplan/app-args.js';
import type { Logger } from '../../observability/logger.js';
import type { WorkerBus } from '../../core/worker-bus.js';
import { PARKING_DEFAULTS, ParkingLot, readParking, type ParkingConfig } from './parking.js';
import { PICKUP_DEFAULTS, Pickup, readPickup, type PickupConfig, type RingingElsewhere } from './pickup.js';
import type { Dialplan } from '../../dialplan/dialplan-types.js';
import { appReached } from '../../dialplan/numbers-running.js';
import { FEATURE_DEFAULTS, FeatureCodes, readFeatureCodes, type FeatureCodesConfig } from './feature-codes.js';
import { WorkerHandover, type HandoverServices } from './handover.js';
import type { MethodRoute } from '../../sip/pipeline/routing-stage.js';
import type { DialTechnology } from '../../channel/dial-technology.js';
import type { ExtensionInfo } from '../../core/directory.js';

export interface OfficeConfig {
  parking: ParkingConfig;
  pickup: PickupConfig;
  /** in-call feature codes (features.conf's blindxfer, atxfer) */
  features: FeatureCodesConfig;
}

export const OFFICE_DEFAULTS: OfficeConfig = { parking: PARKING_DEFAULTS, pickup: PICKUP_DEFAULTS, features: FEATURE_DEFAULTS };

/** `office:` in palisade.yaml */
export function readOffice(m: MapReader): OfficeConfig {
  const parking = readParking(m.child('parking'));
  const pickup = readPickup(m.child('pickup'));
  const features = readFeatureCodes(m.child('features'));
  m.done();
  return { parking, pickup, features };
}

/** what park and pickup need of the running server */
export interface ParkPickupServices {
  callRouters: { add(r: CallRouter): () => void };
  channelFeatures: ChannelFeatures;
  mediaServices: MediaServiceDeps;
  /** get: several workers, the caller of a call handed over (handover.ts) */
  extensions: { has(number: string): boolean; get?(number: string): ExtensionInfo | undefined };
  /** several workers: the slots each holds, and the codes steered to where their call is */
  workers: Pick<WorkerBus, 'publish' | 'subscribe' | 'onPeer' | 'replay' | 'steer' | 'shared' | 'index'>;
  /** the calls other workers hold whose callee rings (src/core/call-events.ts) */
  callEvents: { remoteRinging(): RingingElsewhere };
  /** several workers: a number whose dialplan runs ParkedCall() or Pickup() is steered as the code would be */
  dialplan?: { engine: { readonly dialplan: Dialplan } } | null;
  /** several workers: what a call handed to another worker needs (handover.ts) */
  pipeline?: { claimRoute(method: string, route: MethodRoute): void };
  dialTechnologies?: { register(t: DialTechnology): () => void };
  sipLegs?: HandoverServices['legs'];
  media?: { allocatePair: HandoverServices['allocatePair'] };
  transport?: { readonly listenPoints: HandoverServices['listenPoints'] };
  cfg?: { rtp: { address: string } };
  channels?: HandoverServices['channels'];
}

/** the dialplan applications whose call is steered to where its slot or ringing call is (lower-case, as appReached takes them) */
const PARK_PICKUP_APPS: readonly string[] = ['parkedcall', 'pickup'];

/** the worker bus topic of park slots: { slot, held } from the worker that holds it */
const PARK_TOPIC = 'office.park';
/** how long a slot just taken waits for another worker's claim before it is said (the bus carries a claim in ~1 ms) */
const PARK_CLAIM_MS = 50;

export class ParkPickup {
  readonly lot: ParkingLot;
  readonly pickup: Pickup;
  private readonly off: Array<() => void> = [];
  /** several workers: the slots other workers hold, and by which */
  private readonly elsewhere = new Map<string, number>();
  /** several workers: a call handed to the worker where its slot's call waits or its pickup rings */
  readonly handover: WorkerHandover | null = null;
  private stopped = false;

  constructor(
    cfg: OfficeConfig,
    private readonly s: ParkPickupServices,
    private readonly log: Logger,
  ) {
    // several workers: a slot another worker holds is not free here, and its number is dialled there
    const elsewhere = this.elsewhere;
    const bus = s.workers;
    this.lot = new ParkingLot(cfg.parking, {
      prompts: s.mediaServices.prompts,
      mediaFor: (ch) => new EndpointMedia(ch, s.mediaServices),
      log,
      ...(bus.shared
        ? {
            heldElsewhere: (slot: string) => elsewhere.has(slot),
            changed: (slot: string, held: boolean, at: number) => bus.publish(PARK_TOPIC, { slot, held, at: performance.timeOrigin + at }),
            claimMs: PARK_CLAIM_MS,
          }
        : {}),
    });
    this.pickup = new Pickup(cfg.pickup, s.channelFeatures, log);
    if (bus.shared) {
      this.off.push(
        bus.subscribe(PARK_TOPIC, (body, from) => {
          const { slot, held, at } = body as { slot: string; held: boolean; at?: number };
          if (held) {
            elsewhere.set(slot, from);
            // two workers took the same slot at once: the later claim (on a tie, the higher worker) moves, in both workers' eyes alike
            const mine = this.lot.claimedAt(slot);
            if (mine !== undefined) {
              const mineAt = performance.timeOrigin + mine;
              if (at === undefined || mineAt > at || (mineAt === at && bus.index > from)) this.lot.move(slot);
            }
          } else if (elsewhere.get(slot) === from) elsewhere.delete(slot);
        }),
        bus.onPeer((worker, up) => {
          // a worker gone took its parked calls with it
          if (!up) for (const [slot, w] of elsewhere) if (w === worker) elsewhere.delete(slot);
        }),
        // one that came learns the slots held here
        bus.replay(PARK_TOPIC, () => this.lot.held().map((slot) => ({ slot, held: true, at: performance.timeOrigin + (this.lot.claimedAt(slot) ?? 0) }))),
        // a slot's number goes where its call waits; a pickup code where a call it may take rings;
        // and so does a number whose dialplan runs ParkedCall(slot) or Pickup(ext) (`_7XX => ParkedCall(${EXTEN})`,
        // or a variable Set() on the way: `Set(T=${EXTEN:2})` then `Pickup(${T})`; one the call decides is not steered)
        bus.steer((r) => {
          const slotWorker = (slot: string) => (this.lot.holds(slot) ? -1 : (elsewhere.get(slot) ?? -1));
          if (this.lot.isSlot(r.user)) return slotWorker(r.user);
          const ringing = () => s.callEvents.remoteRinging();
          const byCode = this.pickup.workerFor(r.user, r.fromUser, ringing);
          const dp = s.dialplan?.engine.dialplan;
          if (byCode >= 0 || !dp) return byCode;
          const hit = appReached(dp, r.user, PARK_PICKUP_APPS);
          if (!hit) return -1;
          const arg = (splitArgs(hit.data)[0] ?? '').trim();
          if (hit.app === 'parkedcall') return this.lot.isSlot(arg) ? slotWorker(arg) : -1;
          return this.pickup.workerForTarget(pickupTarget(arg), r.fromUser, ringing);
        }),
      );
    }
    if (bus.shared && s.pipeline && s.dialTechnologies && s.sipLegs && s.media && s.transport && s.cfg && s.channels && s.extensions.get) {
      const handover = new WorkerHandover(
        {
          index: bus.index,
          legs: s.sipLegs,
          allocatePair: () => s.media!.allocatePair(),
          moh: s.mediaServices.moh,
          listenPoints: s.transport.listenPoints,
          rtpAddress: s.cfg.rtp.address,
          extensions: { get: (n) => s.extensions.get?.(n) },
          channels: s.channels,
          log,
        },
        {
          ready: (h) => (h.app === 'park' ? this.lot.holds(h.arg) : h.account !== '' && this.pickup.candidates(h.account, h.arg || undefined).length > 0),
          run: async (h, ch, media) => {
            if (h.app === 'park') await this.parkedCall(ch, media, h.arg);
            else await this.pick(ch, media, h.account, h.arg || undefined);
          },
        },
      );
      this.handover = handover;
      this.off.push(s.dialTechnologies.register(handover));
      // the pipeline keeps its routes: a stopped module's route declines
      s.pipeline.claimRoute('INVITE', (tx, req, remote) => !this.stopped && handover.route(tx, req, remote));
    }
    for (const [name, members] of cfg.pickup.groups) for (const n of members) if (!s.extensions.has(n)) log.warn('pickup-group-member-unknown', { group: name, extension: n });
    const router: CallRouter = {
      name: 'office',
      has: (_context, exten) => this.serves(exten),
      internal: (exten) => this.serves(exten),
      run: (ch, media) => this.run(ch, media),
    };
    const codes = new FeatureCodes(cfg.features, { prompts: s.mediaServices.prompts, log });
    this.off.push(
      s.callRouters.add(router),
      s.channelFeatures.addTransferService(this.lot),
      s.channelFeatures.onBridged((b) => codes.attach(b)),
    );
    // a busy-lamp key pressed: an INVITE with Replaces naming a ringing call's early dialog
    const features = s.channelFeatures;
    features.pickupByReplaces = (picker, d) => this.pickup.byReplaces(picker, d);
    this.off.push(() => {
      features.pickupByReplaces = null;
    });
  }

  /** a number park or pickup answers without a dialplan line (never one of our extensions) */
  serves(exten: string): boolean {
    if (this.s.extensions.has(exten)) return false;
    const park = this.lot.config;
    if (park.enabled && (exten === park.parkext || this.lot.isSlot(exten))) return true;
    const pk = this.pickup.config;
    if (pk.pickupexten && exten === pk.pickupexten) return true;
    const t = this.pickup.directedTarget(exten);
    return t !== '' && this.s.extensions.has(t);
  }

  /** a call to one of those numbers, by one of our extensions (a trunk's caller proves none: refused) */
  private async run(ch: Channel, media: ChannelMedia): Promise<void> {
    const who = ch.peer.account;
    if (!who) {
      this.log.info('office-code-refused', { channel: ch.name, exten: ch.dialed, why: 'not an extension' });
      return void (await ch.hangup('rejected'));
    }
    const exten = ch.dialed;
    if (exten === this.lot.config.parkext) return this.parkSelf(ch, media, null);
    if (this.lot.isSlot(exten)) return void (await this.parkedCall(ch, media, exten));
    const target = this.pickup.directedTarget(exten);
    await this.pick(ch, media, who, target || undefined);
  }

  /** Park(): the channel parks itself, hears its slot, waits with music */
  async parkSelf(ch: Channel, media: ChannelMedia, parker: string | null, announce = true): Promise<void> {
    ch.vars.set('LASTAPP', 'Park');
    if (!ch.answered) await ch.answer();
    // the caller hears its slot, then the music
    const r = this.lot.park(ch, media, parker, announce ? (slot) => media.sayDigits(slot) : undefined);
    if (!r) {
      await media.play(['invalid']);
      return;
    }
    ch.vars.set('LASTDATA', await r.settled);
    await r.done;
  }

  /** ParkedCall(slot): take the call parked there; PARKEDCALLSTATUS=SUCCESS|EMPTY */
  async parkedCall(ch: Channel, media: ChannelMedia, slot: string): Promise<boolean> {
    ch.vars.set('LASTAPP', 'ParkedCall');
    ch.vars.set('LASTDATA', slot);
    if (!ch.answered) await ch.answer();
    // several workers: a slot whose call waits in another worker is taken there, the caller handed over
    const there = this.handover && !this.lot.holds(slot) ? this.elsewhere.get(slot) : undefined;
    const ok = there !== undefined ? await this.handover!.place(ch, there, 'park', slot) : await this.lot.retrieve(slot, ch);
    ch.vars.set('LASTAPP', 'ParkedCall');
    ch.vars.set('LASTDATA', slot);
    ch.vars.set('PARKEDCALLSTATUS', ok ? 'SUCCESS' : 'EMPTY');
    if (!ok) {
      this.log.info('parked-call-none', { channel: ch.name, slot });
      await media.play(['invalid']);
    }
    return ok;
  }

  /** Pickup(): group pickup, or directed to `target`; PICKUPSTATUS=SUCCESS|FAILED */
  async pick(ch: Channel, media: ChannelMedia, who: string, target?: string): Promise<boolean> {
    ch.vars.set('LASTAPP', 'Pickup');
    ch.vars.set('LASTDATA', target ?? '');
    // several workers: a call to take that rings in another worker (and none here) is taken there, the caller handed over
    const there = this.handover ? this.pickup.workerForTarget(target, who, () => this.s.callEvents.remoteRinging()) : -1;
    const ok = there >= 0 ? await this.handover!.place(ch, there, 'pickup', target ?? '') : await this.pickup.pickup(ch, who, target);
    ch.vars.set('LASTAPP', 'Pickup');
    ch.vars.set('LASTDATA', target ?? '');
    ch.vars.set('PICKUPSTATUS', ok ? 'SUCCESS' : 'FAILED');
    if (!ok) {
      if (!ch.answered) await ch.answer();
      await media.play(['invalid']);
    }
    return ok;
  }

  stop(): void {
    this.stopped = true;
    for (const f of this.off.splice(0)) f();
    this.lot.stop();
  }
}

/** Pickup()'s argument: the extension (`1002`, `1002@ctx`, `SIP/1002`), or undefined for the caller's groups */
function pickupTarget(arg: string): string | undefined {
  const target = arg
    .split('@')[0]!
    .replace(/^(?:PJSIP|SIP)\//i, '')
    .trim();
  return target || undefined;
}

/** Park(), ParkedCall() and Pickup(), working once the module runs */
export function parkPickupApps(running: () => ParkPickup | null): DialplanApp[] {
  return [
    {
      name: 'Park',
      synopsis: 'Park the caller in the first free slot, say the slot, music on hold: Park([,s]) (s: say nothing); sets PARKINGSLOT',
      placesNoCall: true,
      async run(call, args) {
        const pp = running();
        if (!pp) return;
        // reached by a blind transfer, the transferor is the parker (rung back at the timeout)
        const parker = call.vars.get('BLINDTRANSFER') || call.vars.get('PARKER') || null;
        await pp.parkSelf(call.channel, call.media, parker, !(args[1] ?? '').includes('s'));
      },
    },
    {
      name: 'ParkedCall',
      synopsis: 'Take the call parked in a slot: ParkedCall(slot); sets PARKEDCALLSTATUS=SUCCESS|EMPTY',
      placesNoCall: true,
      async run(call, args) {
        const pp = running();
        const slot = (args[0] ?? '').trim();
        if (!pp?.lot.isSlot(slot)) return void call.vars.set('PARKEDCALLSTATUS', 'EMPTY');
        await pp.parkedCall(call.channel, call.media, slot);
      },
    },
    {
      name: 'Pickup',
      synopsis: "Answer a call ringing another extension: Pickup() for the caller's pickup groups, Pickup(ext) directed; sets PICKUPSTATUS=SUCCESS|FAILED",
      placesNoCall: true,
      async run(call, args) {
        const pp = running();
        const who = call.channel.peer.account;
        if (!pp || !who) return void call.vars.set('PICKUPSTATUS', 'FAILED');
        await pp.pick(call.channel, call.media, who, pickupTarget(args[0] ?? ''));
      },
    },
  ];
}
