// Call park, as Asterisk's res_parking with its default lot: a call blind-
// transferred to the park extension (`parkext`, 700) — or a channel running
// Park() — waits in the first free slot of `parkpos` (701-720) with music on
// hold; the slot is said to whoever parked it; anyone dials the slot to take
// the call (ParkedCall()); after `parkingtime` seconds (45) it rings the
// extension that parked it (comebacktoorigin) for `comebackdialtime`
// seconds, then ends.
//
//   office:
//     parking:
//       parkext: 700
//       parkpos: 701-720
//       parkingtime: 45
import type { MapReader } from '../../config/yaml-reader.js';
import type { Channel } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { TransferHandOff, TransferService, Transferor } from '../../channel/channel-features.js';
import { EndpointBridge } from '../../channel/endpoint-bridge.js';
import type { MediaEndpoint } from '../../media/media-endpoint.js';
import { Player } from '../../media/player/player.js';
import { MUSIC_CLASS } from '../../media/player/music-on-hold.js';
import { sayDigitsPrompts } from '../../media/prompts/say.js';
import type { Logger } from '../../observability/logger.js';

export interface ParkingConfig {
  enabled: boolean;
  /** the number a call is transferred to (or dialled) to be parked */
  parkext: string;
  /** the slots, first to last */
  first: number;
  last: number;
  /** seconds a call waits before it rings the parker back */
  parkingtime: number;
  /** seconds the parker's phone rings on the way back */
  comebackdialtime: number;
  /** ring the extension that parked the call when the time is up (else the call ends) */
  comebacktoorigin: boolean;
  /** the music on hold class the parked caller hears */
  parkedmusicclass: string;
}

export const PARKING_DEFAULTS: ParkingConfig = {
  enabled: true,
  parkext: '700',
  first: 701,
  last: 720,
  parkingtime: 45,
  comebackdialtime: 30,
  comebacktoorigin: true,
  parkedmusicclass: 'default',
};

/** `office.parking` in palisade.yaml; errors carry file:line:col */
export function readParking(m: MapReader): ParkingConfig {
  const enabled = m.bool('enabled', PARKING_DEFAULTS.enabled);
  const parkext = m.string('parkext', PARKING_DEFAULTS.parkext, { pattern: /^[0-9*#]{1,10}$/, expect: 'expected a number such as 700' });
  const pos = m.string('parkpos', `${PARKING_DEFAULTS.first}-${PARKING_DEFAULTS.last}`, {
    pattern: /^\d{1,9}-\d{1,9}$/,
    expect: 'expected a range of slots such as 701-720',
  });
  let [first, last] = pos.split('-').map(Number) as [number, number];
  if (first > last || last - first >= 1000) {
    m.error('parkpos', `office.parking.parkpos "${pos}" is not valid; expected first-last with first <= last and at most 1000 slots, such as 701-720`);
    [first, last] = [PARKING_DEFAULTS.first, PARKING_DEFAULTS.last];
  }
  if (Number(parkext) >= first && Number(parkext) <= last) m.error('parkext', `office.parking.parkext ${parkext} is one of the slots ${pos}; choose a number outside parkpos`);
  const parkingtime = m.int('parkingtime', PARKING_DEFAULTS.parkingtime, 1, 3600, 'seconds');
  const comebackdialtime = m.int('comebackdialtime', PARKING_DEFAULTS.comebackdialtime, 1, 300, 'seconds');
  const comebacktoorigin = m.bool('comebacktoorigin', PARKING_DEFAULTS.comebacktoorigin);
  const parkedmusicclass = m.string('parkedmusicclass', PARKING_DEFAULTS.parkedmusicclass, { pattern: MUSIC_CLASS, expect: 'expected a music on hold class name' });
  m.done();
  return { enabled, parkext, first, last, parkingtime, comebackdialtime, comebacktoorigin, parkedmusicclass };
}

/** what the lot needs of the media services */
export interface ParkingDeps {
  prompts: { load(name: string): Int16Array };
  /** media services for a channel the dialplan is not running (a caller handed over by a transfer) */
  mediaFor(channel: Channel): ChannelMedia;
  log: Logger;
  /** several workers: a slot another worker holds (a call parked there waits in that worker) */
  heldElsewhere?: (slot: string) => boolean;
  /** a slot was taken (true, with when: claimedAt) or freed (false) here: the other workers hear it */
  changed?: (slot: string, held: boolean, claimedAt: number) => void;
  /**
   * Several workers: how long (ms) a slot just taken waits for another
   * worker's claim on the same slot before it is said to anyone (move()).
   * 0 (one process): said at once.
   */
  claimMs?: number;
}

interface Parked {
  slot: string;
  channel: Channel;
  media: ChannelMedia;
  /** the extension that parked the call (rung back at the timeout); null when it parked itself */
  parker: string | null;
  since: number;
  /** when this slot was taken (performance.now()); a move takes another */
  claimedAt: number;
  timer: NodeJS.Timeout;
  music: AbortController;
  done: () => void;
}

export class ParkingLot implements TransferService {
  readonly name = 'parking';
  private readonly slots = new Map<string, Parked>();

  constructor(
    private cfg: ParkingConfig,
    private readonly deps: ParkingDeps,
  ) {}

  get config(): ParkingConfig {
    return this.cfg;
  }

  isSlot(n: string): boolean {
    if (!/^\d+$/.test(n)) return false;
    const v = Number(n);
    return v >= this.cfg.first && v <= this.cfg.last && String(v) === n;
  }

  /** TransferService: the park extension */
  takes(number: string): boolean {
    return this.cfg.enabled && number === this.cfg.parkext;
  }

  /** a blind transfer to the park extension: the caller is parked, the transferor hears the slot */
  take(channel: Channel, _number: string, transferor: Transferor): TransferHandOff | null {
    const r = this.park(channel, this.deps.mediaFor(channel), transferor.number);
    if (!r) return null;
    return { announced: r.settled.then((slot) => this.announce(transferor.endpoint, slot)), done: r.done };
  }

  /** the first slot free here and in every other worker ('' when none) */
  private firstFree(): string {
    for (let n = this.cfg.first; n <= this.cfg.last; n++) {
      if (!this.slots.has(String(n)) && !this.deps.heldElsewhere?.(String(n))) return String(n);
    }
    return '';
  }

  /** when the call waiting at `slot` here took it (performance.now()), if one does */
  claimedAt(slot: string): number | undefined {
    return this.slots.get(slot)?.claimedAt;
  }

  /**
   * Another worker took `slot` too, at the same moment (two workers' parks
   * cross on the bus): the call waiting here moves to the next free slot
   * before its slot is said (claimMs). The caller decides who moves, the
   * same way in both workers (park-pickup.ts): the later claim, or on a tie
   * the higher worker index.
   */
  move(slot: string): string | null {
    const p = this.slots.get(slot);
    if (!p) return null;
    const next = this.firstFree();
    if (!next) {
      this.deps.log.warn('parking-full', { channel: p.channel.name, parker: p.parker, contested: slot });
      return null;
    }
    this.slots.delete(slot);
    this.deps.changed?.(slot, false, p.claimedAt);
    p.slot = next;
    p.claimedAt = performance.now();
    this.slots.set(next, p);
    this.deps.changed?.(next, true, p.claimedAt);
    p.channel.vars.set('PARKINGSLOT', next);
    p.channel.vars.set('PARKINGEXTEN', next);
    this.deps.log.info('park-slot-moved', { from: slot, to: next, channel: p.channel.name });
    return next;
  }

  /** resolves with the slot once no other worker's claim can move it any more */
  private async settle(p: Parked): Promise<string> {
    const claim = this.deps.claimMs ?? 0;
    if (claim <= 0) return p.slot;
    for (;;) {
      const left = p.claimedAt + claim - performance.now();
      if (left <= 0) return p.slot;
      await new Promise((r) => setTimeout(r, Math.ceil(left)));
    }
  }

  /**
   * park `channel` in the first free slot (`first`: said to it before the
   * music). `slot` is the slot taken; `settled` the slot to say, once no
   * other worker's claim can move it. null when every slot is taken.
   */
  park(
    channel: Channel,
    media: ChannelMedia,
    parker: string | null,
    first?: (slot: string) => Promise<unknown>,
  ): { slot: string; settled: Promise<string>; done: Promise<void> } | null {
    if (channel.hungUp) return null;
    const slot = this.firstFree();
    if (!slot) {
      this.deps.log.warn('parking-full', { channel: channel.name, parker });
      return null;
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const p: Parked = {
      slot,
      channel,
      media,
      parker,
      since: Date.now(),
      claimedAt: performance.now(),
      timer: setTimeout(() => void this.timeout(p), this.cfg.parkingtime * 1000),
      music: new AbortController(),
      done: resolve,
    };
    this.slots.set(slot, p);
    this.deps.changed?.(slot, true, p.claimedAt);
    channel.vars.set('PARKINGSLOT', slot);
    channel.vars.set('PARKINGEXTEN', slot);
    if (parker) channel.vars.set('PARKER', parker);
    const settled = this.settle(p);
    void (async () => {
      const said = await settled;
      await first?.(said);
      if (!p.music.signal.aborted) await media.musicOnHold(this.cfg.parkedmusicclass, 0, { signal: p.music.signal });
    })();
    void channel.ended.then(() => {
      if (this.slots.get(p.slot) !== p) return;
      this.release(p);
      this.deps.log.info('parked-call-abandoned', { slot: p.slot, channel: channel.name, waitedMs: Date.now() - p.since });
      p.done();
    });
    this.deps.log.info('call-parked', { slot, channel: channel.name, caller: channel.callerIdNum, parker, timeout: this.cfg.parkingtime });
    return { slot, settled, done };
  }

  /** the slot said on `endpoint` (the parker's leg); resolves when it was said */
  private async announce(endpoint: MediaEndpoint, slot: string): Promise<void> {
    const items: Int16Array[] = [];
    for (const f of sayDigitsPrompts(slot)) {
      try {
        items.push(this.deps.prompts.load(f));
      } catch (err) {
        this.deps.log.warn('prompt-missing', { prompt: f, error: (err as Error).message });
      }
    }
    const player = new Player(items, false);
    endpoint.source = player;
    // at most 10 s, whatever the prompts' length
    const cap = new Promise<void>((r) => setTimeout(r, 10_000).unref());
    await Promise.race([player.done, cap]);
    if (endpoint.source === player) endpoint.source = null;
    this.deps.log.info('park-announced', { slot });
  }

  /** the slots taken here */
  held(): string[] {
    return [...this.slots.keys()];
  }

  /** whether a call waits at `slot` here */
  holds(slot: string): boolean {
    return this.slots.has(slot);
  }

  /** who waits where, for `palisade` commands */
  list(): Array<{ slot: string; channel: string; caller: string; parker: string | null; seconds: number }> {
    return [...this.slots.values()].map((p) => ({
      slot: p.slot,
      channel: p.channel.name,
      caller: p.channel.callerIdNum,
      parker: p.parker,
      seconds: Math.round((Date.now() - p.since) / 1000),
    }));
  }

  /** out of the lot: no more music, no timeout */
  private release(p: Parked): void {
    this.slots.delete(p.slot);
    this.deps.changed?.(p.slot, false, p.claimedAt);
    clearTimeout(p.timer);
    p.music.abort();
  }

  /**
   * `by` (answered) takes the call parked at `slot`: the two talk until one
   * hangs up, then both calls end. False when the slot is empty.
   */
  async retrieve(slot: string, by: Channel): Promise<boolean> {
    const p = this.slots.get(slot);
    if (!p || p.channel.hungUp) return false;
    this.release(p);
    // the music's player lets go of the endpoint on the abort; the bridge takes it next
    await Promise.resolve();
    const bridge = new EndpointBridge(p.channel.endpoint, by.endpoint);
    this.deps.log.info('parked-call-retrieved', { slot, channel: p.channel.name, by: by.name, extension: by.peer.account ?? '', waitedMs: Date.now() - p.since });
    await Promise.race([p.channel.ended, by.ended]);
    bridge.close();
    await p.channel.hangup();
    p.done();
    return true;
  }

  /** the time is up: ring the parker back (music meanwhile), or end the call */
  private async timeout(p: Parked): Promise<void> {
    if (this.slots.get(p.slot) !== p) return;
    this.release(p);
    const ch = p.channel;
    this.deps.log.info('parked-call-timeout', { slot: p.slot, channel: ch.name, parker: p.parker, comeback: this.cfg.comebacktoorigin && p.parker !== null });
    if (!p.parker) return p.done(); // Park() without a parker: the dialplan goes on
    if (this.cfg.comebacktoorigin && !ch.hungUp) {
      const r = await ch.dial([{ tech: 'SIP', resource: p.parker }], { timeoutMs: this.cfg.comebackdialtime * 1000, options: 'm' });
      this.deps.log.info('parked-call-comeback', { slot: p.slot, channel: ch.name, parker: p.parker, status: r.status });
    }
    await ch.hangup();
    p.done();
  }

  /** hang up every parked call (the module stops) */
  stop(): void {
    for (const p of [...this.slots.values()]) {
      this.release(p);
      void p.channel.hangup();
      p.done();
    }
  }
}
