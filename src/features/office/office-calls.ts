// Ring groups and follow-me in the office module: the `ring_groups:` and
// `follow_me:` sections, the RingGroup() and FollowMe() applications, the
// `ringgroups` and `followme` commands, and a call router (src/channel/
// call-routers.ts) for numbers dialled directly — a group's number, an
// extension with a follow-me list — that the configured dialplan does not
// take itself. Such calls run in a small dialplan of the office's own
// (context palisade-office) so both ways share one code path.
import type { CallRouters } from '../../channel/call-routers.js';
import type { Channel } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanRegistry } from '../../dialplan/dialplan-registry.js';
import { DialplanEngine } from '../../dialplan/engine.js';
import { parseExtensionsConfText } from '../../dialplan/parse-extensions-conf.js';
import type { LogRoot, Logger } from '../../observability/logger.js';
import { type FollowMeConfig, type RingGroupConfig, destinationText, readFollowMe, readRingGroups } from './office-config.js';
import { followMeApp } from './follow-me.js';
import { OFFICE_CONTEXT, ringGroupApp } from './ring-groups.js';
import { confirmTechnology } from './follow-me-confirm.js';
import type { DialTechnologies } from '../../channel/dial-technology.js';

type Start = { context: string; exten: string; priority: string };

/** what ring groups and follow-me need of the running server */
export interface OfficeCallServices {
  cfg: { calls: { ringTimeout: number }; sections: Readonly<Record<string, unknown>> };
  logs: LogRoot;
  extensions: { has(number: string): boolean; get(number: string): { context: string } | undefined };
  dialplan: { engine: { run(channel: Channel, media: ChannelMedia, start?: Start): Promise<void>; has(context: string, exten: string, callerId: string): boolean } } | null;
  registry: DialplanRegistry;
  callRouters: Pick<CallRouters, 'add'>;
  defences: { callGate: CallGateApi };
  dialTechnologies: Pick<DialTechnologies, 'register' | 'dial'>;
  mediaServices: { prompts: { load(name: string): Int16Array } };
}

interface DeclareApi {
  configSection(key: string, read: (section: MapReader) => unknown): void;
  app(app: DialplanApp): void;
  command(name: string, run: (args: Record<string, unknown>) => unknown): void;
}

export class OfficeCalls {
  private groups = new Map<string, RingGroupConfig>();
  private follow = new Map<string, FollowMeConfig>();
  private s: OfficeCallServices | null = null;
  private log: Logger | null = null;
  private off: Array<() => void> = [];

  declare(d: DeclareApi): void {
    d.configSection('ring_groups', (section) => readRingGroups(section));
    d.configSection('follow_me', (section) => readFollowMe(section));
    const deps = {
      ringTimeSecs: () => this.s?.cfg.calls.ringTimeout ?? 30,
      runDialplan: (ch: Channel, media: ChannelMedia, start: Start) => this.s?.dialplan?.engine.run(ch, media, start) ?? null,
      log: () => this.log,
    };
    d.app(ringGroupApp({ ...deps, group: (n) => this.groups.get(n) }));
    d.app(
      followMeApp({
        ...deps,
        entry: (n) => this.follow.get(n),
        isExtension: (n) => this.s?.extensions.has(n) ?? false,
        contextOf: (n) => this.s?.extensions.get(n)?.context,
        callGate: () => this.s?.defences.callGate ?? null,
      }),
    );
    d.command('ringgroups', () =>
      [...this.groups.values()].map((g) => ({
        number: g.number,
        name: g.name,
        strategy: g.strategy,
        ring_time: g.ringTime,
        members: g.members.map((m) => (m.ringTime ? `${m.extension}:${m.ringTime}` : m.extension)).join(' '),
        destination: destinationText(g.destination),
      })),
    );
    d.command('followme', () =>
      [...this.follow.values()].map((f) => ({
        extension: f.extension,
        steps: f.steps.map((x) => `${x.number}:${x.ringTime}`).join(' '),
        confirm: f.confirm,
        destination: destinationText(f.destination),
      })),
    );
  }

  start(s: OfficeCallServices): void {
    this.s = s;
    const log = s.logs.get('office');
    this.log = log;
    this.groups = new Map(((s.cfg.sections.ring_groups as RingGroupConfig[] | undefined) ?? []).map((g) => [g.number, g]));
    this.follow = new Map(((s.cfg.sections.follow_me as FollowMeConfig[] | undefined) ?? []).map((f) => [f.extension, f]));
    // members and follow-me owners may be imported users: checked against the running directory
    for (const g of this.groups.values()) {
      if (s.extensions.has(g.number)) log.warn('ringgroup-shadows-extension', { group: g.number });
      for (const m of g.members) if (!s.extensions.has(m.extension)) log.warn('ringgroup-unknown-member', { group: g.number, member: m.extension });
    }
    for (const f of this.follow.values()) if (!s.extensions.has(f.extension)) log.warn('followme-unknown-extension', { extension: f.extension });
    if ([...this.follow.values()].some((f) => f.confirm)) {
      const prompt = () => {
        try {
          return [s.mediaServices.prompts.load('press-1')];
        } catch (err) {
          log.warn('prompt-missing', { prompt: 'press-1', error: (err as Error).message });
          return [];
        }
      };
      this.off.push(s.dialTechnologies.register(confirmTechnology({ technologies: s.dialTechnologies, prompt, log })));
    }
    if (this.groups.size === 0 && this.follow.size === 0) return;
    const lines = [`[${OFFICE_CONTEXT}]`];
    for (const g of this.groups.values()) lines.push(`exten => ${g.number},1,RingGroup(${g.number})`, ' same => n,Hangup()');
    for (const f of this.follow.values()) {
      if (!this.groups.has(f.extension)) lines.push(`exten => ${f.extension},1,FollowMe(${f.extension})`, ' same => n,Hangup()');
    }
    const engine = new DialplanEngine(parseExtensionsConfText(`${lines.join('\n')}\n`, 'ring_groups/follow_me', { registry: s.registry }), { registry: s.registry });
    this.off.push(
      s.callRouters.add({
        name: 'office',
        has: (_context, exten) => this.groups.has(exten) || this.follow.has(exten),
        internal: (exten) => this.groups.has(exten),
        run: async (channel, media) => {
          // a trunk's caller proved no extension: it reaches groups and follow-me through an inbound route to the dialplan only
          if (channel.peer.account === undefined) {
            log.info('office-refused', { channel: channel.name, to: channel.dialed, why: 'not an extension' });
            return channel.hangup('unallocated');
          }
          await engine.run(channel, media, { context: OFFICE_CONTEXT, exten: channel.dialed, priority: '1' });
        },
      }),
    );
    log.info('office-calls-ready', { ring_groups: this.groups.size, follow_me: this.follow.size });
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
    this.s = null;
    this.log = null;
  }
}
