// The office module: busy-lamp fields (the `dialog` event package, driven
// by the dialplan's `hint` lines and the call events) with the `blf`
// control command; do-not-disturb and call forwarding (unconditional, busy,
// no answer) per extension, kept in its own table and installed as the
// core's diversion policy, set by control commands (`dnd`, `forward`,
// `diversions`) and by feature codes written in the dialplan with the
// DND() and CallForward() applications. Call park and pickup (the
// `office:` section, Park(), ParkedCall(), Pickup()): park-pickup.ts; ring
// groups and follow-me (office-calls.ts: RingGroup(), FollowMe(),
// `ring_groups:`, `follow_me:`).
//
//   exten => *78,1,DND(on)                 exten => _*72X.,1,CallForward(always,${EXTEN:3})
//   exten => *79,1,DND(off)                exten => *73,1,CallForward(always)
//   exten => _*90X.,1,CallForward(busy,${EXTEN:3})
//   exten => _*52X.,1,CallForward(noanswer,${EXTEN:3},15)
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { Dialplan } from '../../dialplan/dialplan-types.js';
import type { LogRoot } from '../../observability/logger.js';
import type { EventRegistry } from '../../sip/events/index.js';
import type { CallEvent, DeviceState } from '../../core/call-events.js';
import { DialogPackage, hintDevices } from './dialog-package.js';
import { isTransferable } from '../../channel/channel-transfer.js';
import type { Diversion, DiversionPort } from '../../core/call-diversion.js';
import type { DndHub } from '../../core/dnd.js';
import type { ExtensionInfo } from '../../core/directory.js';
import type { Database } from '../../storage/database.js';
import { DiversionStore, OFFICE_MIGRATIONS, type ForwardKind } from './diversion-store.js';
import type { MapReader } from '../../config/yaml-reader.js';
import { OFFICE_DEFAULTS, ParkPickup, parkPickupApps, readOffice, type OfficeConfig, type ParkPickupServices } from './park-pickup.js';
import { OfficeCalls, type OfficeCallServices } from './office-calls.js';

/** What the office module needs of the running server (the host hands in a superset). */
export interface OfficeServices extends ParkPickupServices, Omit<OfficeCallServices, 'cfg' | 'dialplan' | 'extensions' | keyof ParkPickupServices> {
  cfg: { sip: { domain: string }; rtp: { address: string }; sections: Readonly<Record<string, unknown>> } & OfficeCallServices['cfg'];
  dialTechnologies: OfficeCallServices['dialTechnologies'];
  extensions: OfficeCallServices['extensions'] & { get(number: string): ExtensionInfo | undefined };
  logs: LogRoot;
  events: EventRegistry;
  callEvents: {
    activeCalls(): CallEvent[];
    remoteRinging(): Array<{ event: CallEvent; worker: number; rung: string[] }>;
    deviceState(extension: string): DeviceState;
    onCall(fn: (e: CallEvent) => void, o?: { everyWorker?: boolean }): () => void;
    onDeviceState(fn: (extension: string, state: DeviceState) => void): () => void;
  };
  dialplan: { engine: { readonly dialplan: Dialplan } & NonNullable<OfficeCallServices['dialplan']>['engine'] } | null;
  storage: Pick<Database, 'migrateModule' | 'kysely'>;
  diversion: Pick<DiversionPort, 'set'>;
  /** do-not-disturb as presence (and the XMPP bridge) show it */
  dnd: Pick<DndHub, 'register' | 'changed'>;
}

const KINDS: readonly ForwardKind[] = ['always', 'busy', 'noanswer'];

/** the hints of one dialplan: hinted number → devices, device → hinted numbers */
interface HintIndex {
  devices: Map<string, string[]>;
  resources: Map<string, string[]>;
}

const indexes = new WeakMap<Dialplan, HintIndex>();

/** built once per parsed dialplan (a reload brings a new one) */
function hintIndex(dp: Dialplan): HintIndex {
  let ix = indexes.get(dp);
  if (ix) return ix;
  ix = { devices: new Map(), resources: new Map() };
  for (const ctx of dp.contexts.values()) {
    for (const e of ctx.extensions.values()) {
      if (e.hint === null || e.name.startsWith('_')) continue;
      const devs = hintDevices(e.hint);
      ix.devices.set(e.name, devs);
      for (const d of devs) ix.resources.set(d, [...(ix.resources.get(d) ?? []), e.name]);
    }
  }
  indexes.set(dp, ix);
  return ix;
}

export function officeModule(): PalisadeModule<ModuleDeclarations<DialplanApp, never, MapReader>, OfficeServices> {
  // ring groups and follow-me (office-calls.ts)
  const calls = new OfficeCalls();
  let blf: DialogPackage | null = null;
  /** per call: the extensions whose phones ring in its early dialogs (their lamps change when these stop) */
  const ringingOf = new Map<string, string[]>();
  let parkPickup: ParkPickup | null = null;
  /** the DND provider is registered once per process (the hub has no way to take one back) */
  let dndRegistered = false;
  let services: OfficeServices | null = null;
  let store: DiversionStore | null = null;
  const running = (): DiversionStore => {
    if (!store) throw new Error('the office module is not running');
    return store;
  };
  /** a forward goes to one of our extensions (no trunks yet), never to the extension itself */
  const checkTarget = (ext: string, target: string): void => {
    if (target === '') return;
    if (target === ext) throw new Error('an extension cannot forward to itself');
    if (!services?.extensions.has(target)) throw new Error(`${target} is not an extension`);
  };
  const setForward = async (ext: string, kind: string, target: string, seconds?: number) => {
    if (!KINDS.includes(kind as ForwardKind)) throw new Error(`forward type "${kind}": expected always, busy or noanswer`);
    if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= 1 && seconds <= 300)) throw new Error('seconds: expected 1 to 300');
    checkTarget(ext, target);
    const d = await running().setForward(ext, kind as ForwardKind, target, seconds);
    services?.logs.get('office').info('forward-set', { extension: ext, kind, target: target || null });
    return d;
  };
  const unsubscribe: Array<() => void> = [];
  const index = (): HintIndex | null => (services?.dialplan ? hintIndex(services.dialplan.engine.dialplan) : null);
  return {
    name: 'office',
    declare(d) {
      d.configSection('office', (section) => readOffice(section));
      for (const app of parkPickupApps(() => parkPickup)) d.app(app);
      d.command('parked', () => parkPickup?.lot.list() ?? []);
      calls.declare(d);
      d.command('dnd', async (args) => {
        const ext = String(args.extension ?? '');
        if (!services?.extensions.has(ext)) throw new Error(`${ext || '(none)'} is not an extension`);
        const r = await running().setDnd(ext, args.on === true || args.on === 'on' || args.on === 'true');
        services.logs.get('office').info('dnd-set', { extension: ext, dnd: r.dnd });
        return { extension: ext, ...r };
      });
      d.command('forward', async (args) => {
        const ext = String(args.extension ?? '');
        if (!services?.extensions.has(ext)) throw new Error(`${ext || '(none)'} is not an extension`);
        const r = await setForward(ext, String(args.type ?? ''), String(args.target ?? ''), args.seconds === undefined ? undefined : Number(args.seconds));
        return { extension: ext, ...r };
      });
      d.command('diversions', () => running().list());
      d.status('office', () => ({ dnd: store?.list().filter((x) => x.dnd).length ?? 0, forwards: store?.list().filter((x) => x.always || x.busy || x.noAnswer).length ?? 0 }));
      d.app({
        name: 'Transfer',
        synopsis: 'Transfer the caller: Transfer([Tech/]destination); sets TRANSFERSTATUS=SUCCESS|FAILURE|UNSUPPORTED',
        async run(call, args) {
          const dest = (args[0] ?? '').replace(/^(?:PJSIP|SIP)\//i, '');
          if (!dest || !/^[0-9*#+]+$/.test(dest)) return void call.vars.set('TRANSFERSTATUS', 'FAILURE');
          const status = isTransferable(call.channel) ? await call.channel.transferTo(dest) : 'UNSUPPORTED';
          call.vars.set('TRANSFERSTATUS', status);
        },
      });
      d.app({
        name: 'DND',
        synopsis: 'Do-not-disturb of the calling extension: DND(on|off|toggle); sets DNDSTATUS=ON|OFF',
        placesNoCall: true,
        async run(call, args) {
          const ext = call.channel.peer.account;
          if (!ext || !store) return void call.vars.set('DNDSTATUS', 'FAILED');
          const mode = (args[0] ?? 'toggle').toLowerCase();
          const on = mode === 'on' ? true : mode === 'off' ? false : !(store.of(ext)?.dnd ?? false);
          await store.setDnd(ext, on);
          services?.logs.get('office').info('dnd-set', { extension: ext, dnd: on, via: 'dialplan' });
          call.vars.set('DNDSTATUS', on ? 'ON' : 'OFF');
        },
      });
      d.app({
        name: 'CallForward',
        synopsis: 'Call forwarding of the calling extension: CallForward(always|busy|noanswer[,number[,seconds]]); no number turns it off; sets CFSTATUS',
        // only to one of our extensions (checkTarget): were outside targets allowed, this mark would have to go
        placesNoCall: true,
        async run(call, args) {
          const ext = call.channel.peer.account;
          if (!ext || !store) return void call.vars.set('CFSTATUS', 'FAILED');
          try {
            await setForward(ext, (args[0] ?? '').toLowerCase(), args[1] ?? '', args[2] ? Number(args[2]) : undefined);
            call.vars.set('CFSTATUS', args[1] ? 'ON' : 'OFF');
          } catch (err) {
            call.log.warn('callforward-refused', { extension: ext, error: (err as Error).message });
            call.vars.set('CFSTATUS', 'FAILED');
          }
        },
      });
      // what each hinted number's lamp shows now (Asterisk: core show hints with the dialogs)
      d.command('blf', () => {
        const ix = index();
        if (!ix || !blf || !services) return [];
        return [...ix.devices.entries()].map(([resource, devices]) => ({
          resource,
          devices: devices.join('&'),
          state: devices.map((x) => services!.callEvents.deviceState(x)).join('&'),
          dialogs: blf!.dialogsOf(resource).map((x) => `${x.direction} ${x.state} ${x.remote}`),
        }));
      });
    },
    async start(s) {
      services = s;
      const log = s.logs.get('office');
      await s.storage.migrateModule('office', OFFICE_MIGRATIONS);
      store = new DiversionStore(s.storage.kysely as never);
      const n = await store.load();
      s.diversion.set(store);
      // the DND of the feature codes and commands is what presence shows too (src/core/dnd.ts)
      const diversions = store;
      if (!dndRegistered) {
        s.dnd.register({ name: 'office', isDnd: (ext) => store?.of(ext)?.dnd === true });
        dndRegistered = true;
      }
      // several workers: a change made in one (a feature code, a command) holds in every one at once
      diversions.onSaved = (extension, d) => {
        s.dnd.changed(extension);
        if (s.workers.shared) s.workers.publish('office.diversion', { extension, d });
      };
      if (s.workers.shared) {
        unsubscribe.push(
          s.workers.subscribe('office.diversion', (body) => {
            const { extension, d } = body as { extension: string; d: Diversion };
            diversions.adopt(extension, d);
            s.dnd.changed(extension);
          }),
        );
      }
      const oc = (s.cfg.sections.office as OfficeConfig | undefined) ?? OFFICE_DEFAULTS;
      parkPickup = new ParkPickup(oc, s, log);
      calls.start(s);
      log.info('office-ready', {
        diversions: n,
        parkext: oc.parking.enabled ? oc.parking.parkext : null,
        parkpos: `${oc.parking.first}-${oc.parking.last}`,
        pickupexten: oc.pickup.pickupexten || null,
      });
      blf = new DialogPackage(
        {
          domain: s.cfg.sip.domain,
          hintDevices: (r) => index()?.devices.get(r),
          calls: s.callEvents,
          log,
        },
        s.events,
      );
      s.events.register(blf);
      // every phase of a call a hinted device is in changes some lamp
      const resourcesOf = (ext: string): readonly string[] => index()?.resources.get(ext) ?? [];
      unsubscribe.push(
        s.callEvents.onCall(
          (e) => {
            for (const x of [e.fromExtension, e.toExtension]) if (x) blf?.changed(x, resourcesOf);
            // the phones of a Dial() to several extensions ring too, and stop when it ends or is answered
            const was = ringingOf.get(e.callId);
            const now = e.phase === 'end' ? undefined : e.early?.map((d) => d.extension);
            for (const x of [...(was ?? []), ...(now ?? [])]) blf?.changed(x, resourcesOf);
            if (now?.length) ringingOf.set(e.callId, now);
            else if (now || e.phase === 'end') ringingOf.delete(e.callId);
            // a lamp shows the calls of every worker (sip.workers > 1): a BLF key picks up a call the watcher's worker does not hold
          },
          { everyWorker: true },
        ),
        // a transfer takes an extension out of a call whose event no longer names it
        s.callEvents.onDeviceState((ext) => blf?.changed(ext, resourcesOf)),
      );
    },
    stop() {
      parkPickup?.stop();
      parkPickup = null;
      calls.stop();
      services?.diversion.set(null);
      store = null;
      for (const u of unsubscribe.splice(0)) u();
      ringingOf.clear();
      blf = null;
      services = null;
    },
  };
}
