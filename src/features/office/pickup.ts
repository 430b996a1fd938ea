// Call pickup, as Asterisk's features.conf `pickupexten` and its directed
// pickup: an extension dials `*8` to answer a call ringing another member
// of one of its pickup groups (Asterisk's callgroup and pickupgroup in one:
// a group's members may answer each other's calls), or `**1002` to answer
// the call ringing 1002 whatever the group. The caller, whose Dial() was
// ringing, is answered and talks to the one who picked up; the phones that
// rang are cancelled.
//
// A busy-lamp key does the same without a code: the phone learnt the
// ringing call's early dialog from the `dialog` package's NOTIFY
// (dialog-package.ts) and sends an INVITE with Replaces naming it (RFC
// 3891). The rules are the codes': the picker may take the call when `*8`
// or `**EXT` would let it (byReplaces).
//
//   office:
//     pickup:
//       pickupexten: "*8"
//       directed_prefix: "**"
//       groups:
//         sales: [1001, 1002, 1003]
import type { MapReader } from '../../config/yaml-reader.js';
import type { Channel } from '../../channel/channel.js';
import type { ChannelFeatures, NamedDialog, ReplacesPickup, RingingCall } from '../../channel/channel-features.js';
import type { Logger } from '../../observability/logger.js';

export interface PickupConfig {
  /** group pickup's feature code ('' = off) */
  pickupexten: string;
  /** directed pickup: this prefix and an extension ('' = off) */
  directedPrefix: string;
  /** whether directed pickup needs a shared group too (Asterisk: no) */
  directedNeedsGroup: boolean;
  /** group name → member extensions */
  groups: Map<string, string[]>;
}

export const PICKUP_DEFAULTS: PickupConfig = { pickupexten: '*8', directedPrefix: '**', directedNeedsGroup: false, groups: new Map() };

const CODE = /^[0-9*#]{1,10}$/;

/** `office.pickup` in palisade.yaml; `isExtension` checks each member */
export function readPickup(m: MapReader, isExtension?: (n: string) => boolean): PickupConfig {
  const pickupexten = m.string('pickupexten', PICKUP_DEFAULTS.pickupexten, {
    pattern: /^[0-9*#]{0,10}$/,
    expect: 'expected a feature code such as "*8" (quoted in YAML), or "" to turn it off',
  });
  const directedPrefix = m.string('directed_prefix', PICKUP_DEFAULTS.directedPrefix, {
    pattern: /^[*#0-9]{0,5}$/,
    expect: 'expected a prefix such as "**" (quoted in YAML), or "" to turn it off',
  });
  const directedNeedsGroup = m.bool('directed_needs_group', false);
  const groups = new Map<string, string[]>();
  const g = m.child('groups');
  for (const name of g.keys()) {
    const items = g.list(name) ?? [];
    const members: string[] = [];
    for (const it of items) {
      const n = it.text ?? '';
      if (!CODE.test(n)) g.error(name, `office.pickup.groups.${name}: "${n}" is not an extension number; expected a list such as [1001, 1002]`);
      else if (isExtension && !isExtension(n)) g.error(name, `office.pickup.groups.${name}: ${n} is not one of the extensions; add it to extensions or remove it from the group`);
      else members.push(n);
    }
    groups.set(name, members);
  }
  m.done();
  return { pickupexten, directedPrefix, directedNeedsGroup, groups };
}

/** the calls other workers hold whose callee rings (src/core/call-events.ts remoteRinging) */
export type RingingElsewhere = Array<{ worker: number; event: { fromExtension?: string }; rung: string[] }>;

export class Pickup {
  constructor(
    private cfg: PickupConfig,
    private readonly features: Pick<ChannelFeatures, 'ringingNow'>,
    private readonly log: Logger,
  ) {}

  get config(): PickupConfig {
    return this.cfg;
  }

  /** do `a` and `b` share a pickup group? */
  sameGroup(a: string, b: string): boolean {
    for (const members of this.cfg.groups.values()) if (members.includes(a) && members.includes(b)) return true;
    return false;
  }

  /** the extension a directed pickup code names ('' when it is none) */
  directedTarget(exten: string): string {
    const p = this.cfg.directedPrefix;
    return p && exten.startsWith(p) && exten.length > p.length ? exten.slice(p.length) : '';
  }

  /** the ringing calls `picker` may answer: one ringing `target`, or any ringing a member of its groups */
  candidates(picker: string, target?: string): RingingCall[] {
    return this.features.ringingNow(target).filter((c) => {
      // never one's own call, nor a call ringing oneself (answer the phone)
      if (c.channel.peer.account === picker || c.extensions.includes(picker)) return false;
      if (target !== undefined) return !this.cfg.directedNeedsGroup || this.sameGroup(picker, target);
      return c.extensions.some((e) => this.sameGroup(picker, e));
    });
  }

  /** may `picker` take a call ringing `rung` by a feature code: `*8` (a shared group) or `**EXT` (directed)? */
  mayTake(picker: string, rung: string): boolean {
    const c = this.cfg;
    if (c.pickupexten !== '' && this.sameGroup(picker, rung)) return true;
    return c.directedPrefix !== '' && (!c.directedNeedsGroup || this.sameGroup(picker, rung));
  }

  /**
   * Several workers: the worker a pickup code's INVITE should go to (`*8`
   * or `**EXT` dialled by `picker`): the one that holds the longest ringing
   * call the picker may take, when none rings in this worker; -1 otherwise
   * (not a pickup code, a call to take here, or none anywhere: this worker
   * answers as alone). The rules are candidates()'.
   */
  workerFor(dialled: string, picker: string, elsewhere: () => RingingElsewhere): number {
    const c = this.cfg;
    let target: string | undefined;
    if (c.pickupexten !== '' && dialled === c.pickupexten) target = undefined;
    else {
      target = this.directedTarget(dialled);
      if (!target) return -1;
    }
    return this.workerForTarget(target, picker, elsewhere);
  }

  /** as workerFor, for a pickup of `target` (undefined: the picker's groups), as Pickup() in the dialplan asks */
  workerForTarget(target: string | undefined, picker: string, elsewhere: () => RingingElsewhere): number {
    const c = this.cfg;
    if (this.candidates(picker, target).length > 0) return -1;
    for (const r of elsewhere()) {
      if (r.event.fromExtension === picker || r.rung.includes(picker)) continue;
      const takes = target !== undefined ? r.rung.includes(target) && (!c.directedNeedsGroup || this.sameGroup(picker, target)) : r.rung.some((e) => this.sameGroup(picker, e));
      if (takes) return r.worker;
    }
    return -1;
  }

  /**
   * A busy-lamp key pressed: `picker` sent an INVITE whose Replaces names
   * `d`, one phone's early dialog of a ringing call (to-tag: the stand-in
   * tag the lamp showed for Palisade's, from-tag: the phone's). The call
   * when the picker may take it by the codes' rules, else null: the INVITE
   * gets 481 whether the dialog is unknown or the picker may not take it.
   */
  byReplaces(picker: string, d: NamedDialog): ReplacesPickup | null {
    for (const c of this.features.ringingNow()) {
      const e = c.early?.().find((x) => x.callId === d.callId && x.pickupTag === d.toTag && x.phoneTag === d.fromTag);
      if (!e) continue;
      // never one's own call, nor a call ringing oneself
      if (c.channel.peer.account === picker || c.extensions.includes(picker) || !this.mayTake(picker, e.extension)) {
        this.log.info('pickup-refused', { by: picker, ringing: e.extension, how: 'replaces' });
        return null;
      }
      return {
        callerIdNum: c.channel.callerIdNum,
        take: async (by) => {
          if (!by.answered) await by.answer();
          const ok = await c.pickup(by);
          if (ok) this.log.info('call-picked-up', { channel: c.channel.name, caller: c.channel.callerIdNum, ringing: e.extension, by: picker, how: 'replaces' });
          else this.log.info('pickup-nothing', { channel: by.name, by: picker, target: e.extension, why: 'answered meanwhile', how: 'replaces' });
          return ok;
        },
      };
    }
    this.log.info('pickup-nothing', { by: picker, how: 'replaces' });
    return null;
  }

  /**
   * `channel` (the extension `picker`) answers a ringing call: the longest
   * ringing one it may take. False when there was none to take.
   */
  async pickup(channel: Channel, picker: string, target?: string): Promise<boolean> {
    const found = this.candidates(picker, target);
    if (found.length === 0) {
      this.log.info('pickup-nothing', { channel: channel.name, by: picker, target: target ?? null });
      return false;
    }
    if (!channel.answered) await channel.answer();
    for (const c of found) {
      // resolves false at once when the call is no longer ringing, else when the bridged call is over
      if (!(await c.pickup(channel))) continue;
      this.log.info('call-picked-up', { channel: c.channel.name, caller: c.channel.callerIdNum, ringing: c.extensions.join('&'), by: picker, how: target ? 'directed' : 'group' });
      return true;
    }
    this.log.info('pickup-nothing', { channel: channel.name, by: picker, target: target ?? null, why: 'answered meanwhile' });
    return false;
  }
}
