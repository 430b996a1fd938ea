// The security module: ACLs, address reputation and the toll-fraud guard
// (SecurityGuard), the intrusion defences (SecurityService: security log,
// IDS rules and bans, alert mails). It answers the four defence points
// (docs/architecture.md, Layers) and adds the control commands bans,
// ban-add, ban-remove, reputation, reputation-reset, fraud-reload, guard
// and the `security` field of `status`.
import { hostname } from 'node:os';
import type { ModuleDeclarations, PalisadeModule } from '../core/module.js';
import { runBans } from './cli/cmd-bans.js';
import { runReputation } from './cli/cmd-reputation.js';
import { runFraud } from './cli/cmd-fraud.js';
import type { LoadedConfig } from './config/load-config.js';
import type { LogRoot } from '../observability/logger.js';
import type { Database } from '../storage/database.js';
import type { Mailer } from '../mail/mailer.js';
import type { PacketGate } from '../transport/transport-layer.js';
import type { ListenPoint, Remote } from '../transport/types.js';
import type { GateStage, ScreenStage } from '../sip/pipeline/request-pipeline.js';
import type { CallGateApi, TrunkPolicySettings } from '../core/call-gate.js';
import { SecurityGuard, GUARD_COMMANDS } from './security-guard.js';
import { SecurityService, registeredAddresses } from './ids/security-service.js';
import type { SecurityEventSink } from '../core/security-event.js';
import type { AuthOutcome } from '../core/auth.js';
import { pinOutcomeEvent } from './ids/auth-events.js';
import type { PinOutcomeSink } from '../core/pin-outcome.js';
import type { DefenceSync } from '../core/defence-sync.js';

/** What the security module needs of the running server (the host hands in a superset). */
export interface SecurityModuleServices {
  cfg: LoadedConfig;
  logs: LogRoot;
  storage: Database;
  mailer: Mailer | null;
  /** extensions, and numbers the dialplan serves itself (IVR, voicemail): internal for the fraud guard */
  isInternalNumber(n: string): boolean;
  /**
   * the extensions served (the configuration's and the database's), and the
   * numbers set aside by "disable" (isSetAside): the listener runs now and
   * after every reload (an extension made, disabled or deleted through the
   * API, `reload-extensions`, another node's change)
   */
  extensions: { has(n: string): boolean; isSetAside(n: string): boolean; createdAt(n: string): number | undefined; onReload(listener: () => Promise<undefined>): void };
  /** the trunks that run now: their owner (the trunks module) publishes the list at start and after each change */
  trunkSet: { follow(fn: (now: readonly { name: string }[], setAside: readonly string[]) => Promise<void>): () => void };
  location: { all(): Array<{ received: { address: string } }> };
  transport: { localFor(remote: Remote): ListenPoint; closeFlowsFrom(address: string): number };
  pipeline: { addScreen(s: ScreenStage): void; addGate(g: GateStage): void };
  defences: {
    addPacketGate(g: PacketGate): void;
    onAuthOutcome(sink: (o: AuthOutcome) => void): void;
    onPinOutcome(sink: PinOutcomeSink): void;
    onSecurityEvent(sink: SecurityEventSink): void;
    onMalformed(sink: (remote: Remote, local: ListenPoint, error: string, method: string | undefined) => void): void;
    addRegisterCheck(check: (aor: string, remote: Remote) => boolean): void;
    setCallGate(g: CallGateApi): void;
    /** a trunk's call-gate settings, declared by the module that owns trunks */
    trunkPolicy(name: string): TrunkPolicySettings | undefined;
    /** bans, reputation, fraud numbers and learned profiles shared with other nodes */
    sync: DefenceSync;
  };
}

export function securityModule(): PalisadeModule<ModuleDeclarations<never, never, never, never, LoadedConfig>, SecurityModuleServices> {
  let running: { guard: SecurityGuard; security: SecurityService; stopPruning: () => void } | null = null;
  const need = () => {
    if (!running) throw new Error('the security module is not running');
    return running;
  };
  return {
    name: 'security',
    declare(d) {
      for (const cmd of GUARD_COMMANDS) d.command(cmd, (args) => need().guard.control(cmd, args));
      for (const cmd of ['bans', 'ban-add', 'ban-remove']) d.command(cmd, (args) => need().security.control(cmd, args));
      d.status('security', () => need().security.status(), ['events', 'ids', 'security_log_lines', 'security_log_dropped', 'alerts_sent']);
      d.cli({
        name: 'bans',
        usage: '  bans list --config FILE        addresses the IDS has banned\n  bans add ADDRESS [--for 1h] [--reason TEXT] --config FILE\n  bans remove ADDRESS --config FILE\n',
        run: runBans,
      });
      d.cli({
        name: 'reputation',
        usage: '  reputation show|reset ADDRESS|USER --config FILE\n                                 reputation score (0-10) of an address or extension; reset to 5\n',
        run: runReputation,
      });
      d.cli({ name: 'fraud', usage: '  fraud import FILE --config FILE\n                                 add known fraud numbers/prefixes (one per line)\n', run: runFraud });
    },
    async start(s) {
      const { cfg, transport, defences } = s;
      const secLog = s.logs.get('security');
      const registered = () => s.location.all().map((b) => b.received.address);
      const mailer = s.mailer;
      const security = new SecurityService(cfg.security, {
        log: secLog,
        isRegisteredAddress: registeredAddresses(registered),
        closeFlowsFrom: (address) => transport.closeFlowsFrom(address),
        sendMail: mailer ? async (to, subject, text) => void (await mailer.send({ to, subject, text })) : undefined,
        hostName: hostname(),
        sync: defences.sync,
      });
      // the guard's events: the JSON log, then the IDS bus (security log in Asterisk's format, rules, alert mails)
      const securitySink: SecurityEventSink = {
        emit: (ev) => {
          secLog.info('security-event', { type: ev.type, level: ev.level, remote: ev.remote?.address, account: ev.account, detail: ev.detail, ...ev.extra });
          security.emit(ev.local || !ev.remote ? ev : { ...ev, local: transport.localFor(ev.remote) });
        },
      };
      const guard = await SecurityGuard.create({
        cfg: cfg.guard,
        extensions: cfg.extensions,
        isExtension: s.isInternalNumber,
        trunkPolicy: (name) => s.defences.trunkPolicy(name),
        storage: s.storage,
        sink: securitySink,
        log: secLog,
        registeredAddresses: registered,
        sync: defences.sync,
        // a disabled extension keeps its profile: it is the same holder when it comes back
        hasExtension: (n) => s.extensions.has(n) || s.extensions.isSetAside(n),
        extensionSince: (n) => s.extensions.createdAt(n),
      });
      security.start();
      // learned profiles of extensions and trunks that are gone are dropped (a number given to someone new starts unlearned)
      // (the directory has no way to stop listening: a stopped guard is no longer told)
      let pruning = true;
      s.extensions.onReload(async () => {
        if (pruning) await guard.pruneProfiles('extensions');
        return undefined;
      });
      // a disabled trunk keeps its profile too: enabled again, it is the same trunk
      const unfollow = s.trunkSet.follow((list, setAside) => guard.trunksNow([...list.map((t) => t.name), ...setAside]));
      const stopPruning = () => {
        pruning = false;
        unfollow();
      };
      running = { guard, security, stopPruning };

      defences.addPacketGate(security.gate);
      s.pipeline.addScreen({ name: 'scanner', drop: (req, remote, local) => security.dropRequest(req.get('user-agent'), remote, local, req.get('call-id')) });
      // global ACL, address reputation, calls claiming an internal user from outside
      s.pipeline.addGate({ name: 'acl-reputation', check: (req, remote) => guard.checkRequest(req, remote) });
      defences.onMalformed((remote, local, error, method) => security.malformed(remote, local, error, method));
      defences.onSecurityEvent(security);
      // a flood a feature measured (MESSAGE): the IDS bans it (above), reputation marks the address and the sender
      defences.onSecurityEvent({
        emit: (ev) => {
          if (ev.type === 'Flood' && ev.remote) guard.floodSeen(ev.remote.address, ev.account);
        },
      });
      // every authentication outcome feeds the IDS (events, bans) and reputation
      defences.onAuthOutcome((o) => {
        security.authOutcome(o, (r) => transport.localFor(r));
        guard.authOutcome(o.ok, o.reason, o.account, o.remote);
      });
      // and so does every PIN checked during a call (VoiceMailMain, Authenticate(),
      // ReportAuthFailure()): the same events, bans and reputation, by the caller's address
      defences.onPinOutcome((o) => {
        securitySink.emit(pinOutcomeEvent(o));
        guard.pinOutcome(o);
      });
      defences.addRegisterCheck((aor, remote) => guard.mayRegister(aor, remote));
      defences.setCallGate(guard.callGate);
    },
    async stop() {
      if (!running) return;
      running.stopPruning();
      await running.security.stop();
      await running.guard.stop();
    },
  };
}
