// The office module: busy-lamp fields (the `dialog` event package, driven
// by the dialplan's `hint` lines and the call events), and the `blf`
// control command that shows what each hinted number's lamp shows.
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { Dialplan } from '../../dialplan/dialplan-types.js';
import type { LogRoot } from '../../observability/logger.js';
import type { EventRegistry } from '../../sip/events/index.js';
import type { CallEvent, DeviceState } from '../../core/call-events.js';
import { DialogPackage, hintDevices } from './dialog-package.js';

/** What the office module needs of the running server (the host hands in a superset). */
export interface OfficeServices {
  cfg: { sip: { domain: string } };
  logs: LogRoot;
  events: EventRegistry;
  callEvents: {
    activeCalls(): CallEvent[];
    deviceState(extension: string): DeviceState;
    onCall(fn: (e: CallEvent) => void): () => void;
    onDeviceState(fn: (extension: string, state: DeviceState) => void): () => void;
  };
  dialplan: { engine: { readonly dialplan: Dialplan } } | null;
}

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

export function officeModule(): PalisadeModule<ModuleDeclarations<DialplanApp>, OfficeServices> {
  let blf: DialogPackage | null = null;
  let services: OfficeServices | null = null;
  const unsubscribe: Array<() => void> = [];
  const index = (): HintIndex | null => (services?.dialplan ? hintIndex(services.dialplan.engine.dialplan) : null);
  return {
    name: 'office',
    declare(d) {
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
    start(s) {
      services = s;
      const log = s.logs.get('office');
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
        s.callEvents.onCall((e) => {
          for (const x of [e.fromExtension, e.toExtension]) if (x) blf?.changed(x, resourcesOf);
        }),
        // a transfer takes an extension out of a call whose event no longer names it
        s.callEvents.onDeviceState((ext) => blf?.changed(ext, resourcesOf)),
      );
    },
    stop() {
      for (const u of unsubscribe.splice(0)) u();
      blf = null;
      services = null;
    },
  };
}
