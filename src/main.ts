// The composition root: builds the core services in dependency order, lets
// the modules (src/host/modules.ts) declare and start, and returns the
// running server. No feature logic lives here (docs/architecture.md, "Modules").
import type { LoadedConfig } from './security/config/load-config.js';
import { LogRoot, type LogSink } from './observability/logger.js';
import { formatListenPoint, type TransportLayer } from './transport/transport-layer.js';
import { ControlServer } from './admin/control-socket.js';
import { openStorage, type Database } from './storage/database.js';
import { loadDialplan, type LoadedDialplan } from './dialplan/load-dialplan.js';
import { Mailer } from './mail/mailer.js';
import type { DialplanRunner } from './channel/sip-channel-factory.js';
import { createHost } from './host/index.js';
import { DefenceHooks } from './host/defence-hooks.js';
import { DndHub } from './core/dnd.js';
import { ChatHub } from './core/chat.js';
import { TrunkSet } from './core/trunk-set.js';
import { ExtensionDirectory } from './host/extension-directory.js';
import { buildSipStack } from './host/sip-stack.js';
import { addCoreCommands } from './host/core-commands.js';
import { preparePrompts } from './host/prepare-prompts.js';
import { createMetricsRegistry } from './observability/metrics.js';
import { addCoreMetrics } from './host/core-metrics.js';
import { ApiRoutes } from './core/api-routes.js';
import { StoredChangeHub } from './core/stored-changes.js';
import { portShare, thisWorker } from './core/workers.js';
import { WorkerBus } from './core/worker-bus.js';
import { steerHomedApps, openWorkerLink, runsInWorker, singleWorkerCommand } from './host/workers/index.js';

export type { DialplanRunner } from './channel/sip-channel-factory.js';
export { defaultPromptDir } from './media/prompts/generate-prompts.js';

export interface StartOptions {
  /** the dialplan engine; without it every call goes straight to the dialled extension */
  dialplan?: DialplanRunner;
  /** where log lines go (stdout by default); tests embedding Palisade capture them */
  logSink?: LogSink;
}

export interface RunningPalisade {
  stop(reason?: string): Promise<void>;
  readonly transport: TransportLayer;
  readonly storage: Database;
  /** the dialplan engine (null when dialplan.file is not set); a SIP channel runs calls with dialplan.engine.run(channel) */
  readonly dialplan: LoadedDialplan | null;
  /** null without a mail section in the configuration */
  readonly mailer: Mailer | null;
}

export async function startPalisade(cfg: LoadedConfig, opts: StartOptions = {}): Promise<RunningPalisade> {
  const logs = new LogRoot(cfg.log.level, cfg.log.levels, opts.logSink);
  // several workers: each line says which one wrote it
  if (thisWorker !== null && thisWorker.count > 1) logs.setWorker(thisWorker.index);
  const log = logs.get('core');
  const started = Date.now();
  const host = createHost();
  const defences = new DefenceHooks();

  const storage = await openStorage(cfg.storage);
  const extensions = new ExtensionDirectory(cfg, storage);
  await extensions.load();
  // parsed against every module's applications; PINs checked in calls reach the defences;
  // the DBLookup data sources are the dblookup module's (opened when it starts)
  const dialplan = loadDialplan(cfg, logs.get('dialplan'), { pinOutcome: defences.pinOutcome, registry: host.registry, datasources: null });
  // extensions from the config file were checked with their YAML line; imported ones can only be reported
  for (const e of dialplan ? extensions.values() : []) {
    if (!dialplan?.engine.dialplan.contexts.has(e.context)) log.warn('extension-context-missing', { extension: e.number, context: e.context });
  }
  // outgoing mail (voicemail, security alerts): spooled, retried until delivered
  const mailer = cfg.mail ? new Mailer({ smtp: cfg.mail.smtp, from: cfg.mail.from, spoolDir: cfg.mail.spoolDir, retryMs: cfg.mail.retrySeconds * 1000 }, logs.get('mail')) : null;
  mailer?.start();

  // the dialplan named in the configuration, unless the caller embeds its own
  const runner: DialplanRunner | undefined =
    opts.dialplan ??
    (dialplan
      ? {
          // read dialplan.engine on each call: a reload swaps it
          has: (context, exten, callerId) => dialplan.engine.has(context, exten, callerId),
          run: (channel, media) => dialplan.engine.run(channel, media),
        }
      : undefined);
  const promptDir = await preparePrompts(cfg, log);
  // several workers (sip.workers > 1, src/host/workers/): this one's index; worker 0 runs the once-per-server parts
  const worker = thisWorker !== null && thisWorker.count > 1 ? thisWorker : null;
  const singletons = worker === null || worker.index === 0;
  const stack = await buildSipStack(cfg, { logs, storage, extensions, defences, runner, promptDir, worker });
  const { transport, tm, location, events, pipeline, media, dialTechnologies, mediaServices, callEvents, b2bua, channels, callRouters, requestAuth } = stack;
  const metrics = createMetricsRegistry();
  // extensions (and their mailboxes) changed through the API of another node of a cluster: read them again
  const storedChanges = new StoredChangeHub();
  storedChanges.onChanged('extensions', () => extensions.load());
  addCoreMetrics(metrics, stack, () => host.statusField('security'));
  const bans = () => host.statusField<{ bans_active?: number }>('security')?.bans_active ?? 0;
  // what feature modules share with the other workers (nothing alone)
  const workers = new WorkerBus(worker?.index ?? 0, worker?.count ?? 1);
  const link = worker ? await openWorkerLink(worker, stack, { sync: defences.sync, stored: storedChanges, bus: workers, bans, metrics, log: logs.get('workers') }) : null;
  steerHomedApps(workers, dialplan);

  await host.start(
    {
      cfg,
      singletons,
      logs,
      storage,
      mailer,
      extensions,
      dialplan,
      // a feature code by pattern whose every extension stays inside (no Dial(), no jump) is internal too
      isInternalNumber: (n) => extensions.has(n) || (dialplan ? dialplan.engine.servesExactly(n) || dialplan.engine.staysInside(n) : false) || callRouters.servesInternal(n),
      defences,
      transport,
      tm,
      location,
      events,
      pipeline,
      requestAuth,
      dialTechnologies,
      mediaServices,
      callEvents,
      dnd: new DndHub(),
      workers,
      chat: new ChatHub(),
      trunkSet: new TrunkSet(),
      diversion: stack.b2bua.diversion,
      media,
      sipLegs: b2bua,
      channels,
      callRouters,
      channelFeatures: stack.channelFeatures,
      commands: host.commands,
      registry: host.registry,
      metrics,
      // several workers: /metrics (worker 0's console) merges every worker's registry
      scrapeMetrics: link && worker?.index === 0 ? () => link.scrapeMetrics() : undefined,
      onCdr: (fn) => stack.onCdr(fn),
      api: new ApiRoutes(),
      storedChanges,
      originate: (r) => channels.originate(r),
    },
    (name) => runsInWorker(name, worker),
  );
  await stack.start();

  // ---- control socket for the CLI: the one command table
  addCoreCommands(host.commands, { cfg, log, started, stack, extensions, dialplan, mailer, moduleStatus: () => host.status(), sections: host.sections });
  if (link) link.serve(host.commands, host.countedStatus);
  else singleWorkerCommand(host.commands, stack, bans);
  // one control socket: worker 0's
  const control = singletons ? new ControlServer(cfg.control.socket, (cmd, args) => host.commands.run(cmd, args)) : null;
  await control?.start();

  // several workers: this worker's share of the RTP range
  const rtpPorts = worker ? portShare(cfg.rtp.portMin, cfg.rtp.portMax, worker.index, worker.count) : cfg.rtp;
  log.info('ready', {
    listen: cfg.sip.listen.map(formatListenPoint),
    rtp: `${cfg.rtp.address}:${rtpPorts.portMin}-${rtpPorts.portMax}`,
    extensions: extensions.size,
    restored_registrations: stack.restored,
    storage: cfg.storage.driver,
    ...(worker ? { worker: worker.index, workers: worker.count } : {}),
  });
  link?.ready();

  let stopped = false;
  return {
    transport,
    storage,
    dialplan,
    mailer,
    async stop(reason = 'stop') {
      if (stopped) return;
      stopped = true;
      log.info('stopping', { reason });
      // hang up every call and give the BYEs a moment to leave before the sockets close
      await stack.hangupAll();
      await control?.close();
      await host.stop();
      await stack.close();
      await dialplan?.close();
      await mailer?.stop();
      await storage.close();
      await link?.close();
      log.info('stopped', { reason });
    },
  };
}
