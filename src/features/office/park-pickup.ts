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
import type { Logger } from '../../observability/logger.js';
import { PARKING_DEFAULTS, ParkingLot, readParking, type ParkingConfig } from './parking.js';
import { PICKUP_DEFAULTS, Pickup, readPickup, type PickupConfig } from './pickup.js';
import { FEATURE_DEFAULTS, FeatureCodes, readFeatureCodes, type FeatureCodesConfig } from './feature-codes.js';

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
  extensions: { has(number: string): boolean };
}

export class ParkPickup {
  readonly lot: ParkingLot;
  readonly pickup: Pickup;
  private readonly off: Array<() => void> = [];

  constructor(
    cfg: OfficeConfig,
    private readonly s: ParkPickupServices,
    private readonly log: Logger,
  ) {
    this.lot = new ParkingLot(cfg.parking, { prompts: s.mediaServices.prompts, mediaFor: (ch) => new EndpointMedia(ch, s.mediaServices), log });
    this.pickup = new Pickup(cfg.pickup, s.channelFeatures, log);
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
    ch.vars.set('LASTDATA', r.slot);
    await r.done;
  }

  /** ParkedCall(slot): take the call parked there; PARKEDCALLSTATUS=SUCCESS|EMPTY */
  async parkedCall(ch: Channel, media: ChannelMedia, slot: string): Promise<boolean> {
    ch.vars.set('LASTAPP', 'ParkedCall');
    ch.vars.set('LASTDATA', slot);
    if (!ch.answered) await ch.answer();
    const ok = await this.lot.retrieve(slot, ch);
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
    const ok = await this.pickup.pickup(ch, who, target);
    ch.vars.set('PICKUPSTATUS', ok ? 'SUCCESS' : 'FAILED');
    if (!ok) {
      if (!ch.answered) await ch.answer();
      await media.play(['invalid']);
    }
    return ok;
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
    this.lot.stop();
  }
}

/** Park(), ParkedCall() and Pickup(), working once the module runs */
export function parkPickupApps(running: () => ParkPickup | null): DialplanApp[] {
  return [
    {
      name: 'Park',
      synopsis: 'Park the caller in the first free slot, say the slot, music on hold: Park([,s]) (s: say nothing); sets PARKINGSLOT',
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
      async run(call, args) {
        const pp = running();
        const who = call.channel.peer.account;
        if (!pp || !who) return void call.vars.set('PICKUPSTATUS', 'FAILED');
        const target = (args[0] ?? '')
          .split('@')[0]!
          .replace(/^(?:PJSIP|SIP)\//i, '')
          .trim();
        await pp.pick(call.channel, call.media, who, target || undefined);
      },
    },
  ];
}
