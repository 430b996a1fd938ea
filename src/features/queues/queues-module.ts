// The queues module: Queue() and the member applications, queues.conf
// (the `queues:` section), the queue_log (file and table), the live and
// per-day statistics and the control commands an operator (and the
// console, through the same command table) uses:
//
//   queue-show {queue?}                      queues, members, waiting callers, live figures
//   queue-add {queue, interface, penalty?, name?, paused?, reason?}
//   queue-remove {queue, interface}
//   queue-pause {queue?, interface, reason?}  queue left out: every queue the interface serves
//   queue-unpause {queue?, interface, reason?}
//   queue-penalty {queue, interface, penalty}
//   queue-stats {queue?, day?}               live since start, or one day (YYYY-MM-DD) from the table
//   show-queues {arg?}                       `palisade show queues [QUEUE]`
//
// `palisade queue show|stats|add|remove|pause|unpause ...` asks the running server.
import type { Kysely } from 'kysely';
import type { CliCommand, ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { LogRoot } from '../../observability/logger.js';
import type { Database } from '../../storage/database.js';
import type { CallEventHub } from '../../core/call-events.js';
import { readQueues, emptyQueuesConfig, type QueuesConfig } from './read-queues.js';
import { QueueService } from './queue-service.js';
import { QueueLog, QUEUE_LOG_MIGRATIONS, localDay } from './queue-log.js';
import { queueApps, queueFunctions } from './queue-apps.js';
import { dayStats } from './queue-stats.js';
import type { DeviceStates } from './queue-state.js';
import { queueCli } from './cli/cmd-queue.js';
import type { ApiRoutes } from '../../core/api-routes.js';
import type { StoredChanges } from '../../core/stored-changes.js';
import type { WorkerBus } from '../../core/worker-bus.js';
import type { MemberOp } from './queue-service.js';

export interface QueuesModuleServices {
  cfg: PalisadeConfig;
  logs: LogRoot;
  storage: Database;
  callEvents: Pick<CallEventHub, 'deviceState' | 'onDeviceState'>;
  api: ApiRoutes;
  /** a member changed through the API: the other nodes of a cluster read the members again */
  storedChanges: StoredChanges;
  /** several workers: member changes shared; Queue() homed in worker 0, where calls that lead to it are steered */
  workers: Pick<WorkerBus, 'shared' | 'index' | 'publish' | 'subscribe' | 'home'>;
}

/** the worker bus topic of member changes (MemberOp) */
const MEMBERS_TOPIC = 'queues.members';

/** device states from the core's call and registration events: SIP/PJSIP members are extensions */
export function deviceStatesFrom(hub: Pick<CallEventHub, 'deviceState' | 'onDeviceState'>): DeviceStates {
  return {
    state: (tech, resource) => {
      const t = tech.toUpperCase();
      return t === 'SIP' || t === 'PJSIP' ? hub.deviceState(resource) : 'unknown';
    },
    onChange: (fn) => hub.onDeviceState(() => fn()),
  };
}

class CommandError extends Error {}

function str(args: Record<string, unknown>, key: string, required: boolean): string {
  const v = args[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new CommandError(`${key} is required`);
    return '';
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new CommandError(`${key} must be a string`);
  return String(v).trim();
}

const RESULT_TEXT: Record<string, string> = {
  nosuchqueue: 'no such queue',
  exists: 'already a member',
  notfound: 'not a member of that queue',
  notdynamic: 'a static member (queues.conf): remove it there',
  badinterface: 'interface must be Tech/resource such as PJSIP/1001',
};

export function queuesModule(): PalisadeModule<ModuleDeclarations<DialplanApp, DialplanFunction, MapReader, PalisadeConfig>, QueuesModuleServices> {
  let svc: QueueService | null = null;
  let log: QueueLog | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
  let db: Kysely<any> | null = null;
  const get = () => svc;
  let apiAdded = false;
  const offs: Array<() => void> = [];
  const need = (): QueueService => {
    if (!svc) throw new CommandError('queues are not running (queues: { file: queues.conf } in palisade.yaml)');
    return svc;
  };
  const memberCmd = (name: string, run: (s: QueueService, args: Record<string, unknown>) => string | boolean) => {
    return (args: Record<string, unknown>) => {
      const s = need();
      const r = run(s, args);
      if (r === true || r === 'ok') return { ok: true };
      throw new CommandError(`${name}: ${r === false ? 'not a member of any such queue' : (RESULT_TEXT[r] ?? r)}`);
    };
  };
  return {
    name: 'queues',
    declare(d) {
      d.configSection('queues', (section, config) => readQueues(section, config));
      for (const app of queueApps(get)) d.app(app);
      for (const fn of queueFunctions(get)) d.func(fn);
      d.command('queue-show', (args) => need().status(str(args, 'queue', false) || undefined));
      // `palisade show queues [QUEUE]`: one row per queue, or one queue's members and callers
      d.command('show-queues', (args) => {
        const s = need();
        const one = str(args, 'arg', false);
        if (one) {
          const [q] = s.status(one);
          if (!q) throw new CommandError(`no queue ${one}`);
          const { members, callers, ...figures } = q as Record<string, unknown>;
          return { ...figures, members, callers };
        }
        return s.status().map((q) => ({
          queue: q.queue,
          strategy: q.strategy,
          members: (q.members as unknown[]).length,
          waiting: q.waiting,
          answered: q.answered,
          abandoned: q.abandoned,
          serviceLevelPercent: q.serviceLevelPercent,
          avgHoldSeconds: q.avgHoldSeconds,
        }));
      });
      d.command(
        'queue-add',
        memberCmd('queue-add', (s, a) => {
          const pen = str(a, 'penalty', false);
          if (pen !== '' && !/^\d{1,6}$/.test(pen)) throw new CommandError('penalty must be a whole number');
          return s.addMember(str(a, 'queue', true), str(a, 'interface', true), {
            penalty: pen === '' ? 0 : Number(pen),
            name: str(a, 'name', false),
            paused: a.paused === true,
            reason: str(a, 'reason', false),
          });
        }),
      );
      d.command(
        'queue-remove',
        memberCmd('queue-remove', (s, a) => s.removeMember(str(a, 'queue', true), str(a, 'interface', true))),
      );
      d.command(
        'queue-pause',
        memberCmd('queue-pause', (s, a) => s.setPaused(str(a, 'queue', false), str(a, 'interface', true), true, str(a, 'reason', false).replace(/\|/g, '_'))),
      );
      d.command(
        'queue-unpause',
        memberCmd('queue-unpause', (s, a) => s.setPaused(str(a, 'queue', false), str(a, 'interface', true), false, str(a, 'reason', false).replace(/\|/g, '_'))),
      );
      d.command(
        'queue-penalty',
        memberCmd('queue-penalty', (s, a) => {
          const pen = str(a, 'penalty', true);
          if (!/^\d{1,6}$/.test(pen)) throw new CommandError('penalty must be a whole number');
          return s.setPenalty(str(a, 'queue', true), str(a, 'interface', true), Number(pen));
        }),
      );
      d.command('queue-stats', async (args) => {
        const s = need();
        const queue = str(args, 'queue', false);
        const day = str(args, 'day', false);
        if (day === '') {
          return [...s.queues.values()]
            .filter((q) => !queue || q.def.name === queue)
            .map((q) => ({
              queue: q.def.name,
              ...s.liveStats(q),
              agents: q.members.map((m) => ({ agent: m.name, calls: m.calls, talkSeconds: Math.round(m.talkMs / 1000), ringNoAnswer: m.missed })),
            }));
        }
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day) && day !== 'today') throw new CommandError('day must be YYYY-MM-DD or today');
        if (!db || !log?.hasDatabase) throw new CommandError('per-day statistics need queues.log_database: true');
        await log.flush();
        return dayStats(db, day === 'today' ? localDay(Date.now()) : day, (q) => s.def(q)?.servicelevel ?? 0, queue || undefined);
      });
      d.status('queues', () => (svc ? { queues: svc.queues.size, waiting: [...svc.queues.values()].reduce((n, q) => n + q.entries.length, 0) } : null));
      d.cli(queueCli as CliCommand);
    },
    async start(s) {
      const qc = (s.cfg.sections.queues as QueuesConfig | undefined) ?? emptyQueuesConfig();
      if (!apiAdded) {
        // another node of a cluster changed the members through its API (stored with persistentmembers)
        s.storedChanges.onChanged('queue-members', () => svc?.reloadMembers());
        // the routes, and their schemas, are made when the HTTP API is served
        s.api.addLazy(async () => {
          const { queueApi } = await import('./queue-api.js');
          return queueApi(get).map((route) => {
            // a member change that is stored: once written, the other nodes read the members again
            const handle = route.handle;
            return route.method === 'GET'
              ? route
              : {
                  ...route,
                  async handle(req: Parameters<typeof handle>[0]) {
                    const r = await handle(req);
                    if (svc && (r.status ?? 200) < 300) {
                      await svc.flushMembers();
                      s.storedChanges.changed('queue-members');
                    }
                    return r;
                  },
                };
          });
        }, 'queues');
        apiAdded = true;
      }
      if (qc.file === null) return;
      const logger = s.logs.get('queues');
      if (qc.logDatabase || qc.conf.general.persistentmembers) {
        await s.storage.migrateModule('queues', QUEUE_LOG_MIGRATIONS);
        // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
        db = s.storage.kysely as unknown as Kysely<any>;
      }
      log = new QueueLog(qc.logFile, qc.logDatabase ? db : null, (what, err) => logger.error('queue-log-write-failed', { to: what, error: err.message }));
      svc = new QueueService({ conf: qc.conf, log, devices: deviceStatesFrom(s.callEvents), logger, db });
      await svc.start();
      if (s.workers.shared) {
        const running = svc;
        const bus = s.workers;
        running.onMemberOp = (op) => bus.publish(MEMBERS_TOPIC, op);
        offs.push(bus.subscribe(MEMBERS_TOPIC, (op) => running.applyShared(op as MemberOp)));
        // every queue runs in worker 0: the calls to a number that leads to Queue() go there (src/host/workers/)
        bus.home('queue', 0);
      }
      logger.info('queues-started', { queues: [...svc.queues.keys()], log: qc.logFile, database: qc.logDatabase });
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      await svc?.flushMembers();
      svc?.stop();
      svc = null;
      await log?.close();
      log = null;
    },
  };
}
