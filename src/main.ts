// The composition root: the one place that wires the layers together.
// transport → transaction manager → UAS core → registrar / B2BUA, with the
// media relay, storage and security pieces handed in as small interfaces.
import type { MailboxConfig, PalisadeConfig } from './config/config-types.js';
import { extensionMailbox } from './config/voicemail-conf.js';
import { LogRoot, type LogSink } from './observability/logger.js';
import { TransportLayer, formatListenPoint } from './transport/transport-layer.js';
import { TransactionManager } from './sip/transaction/transaction-manager.js';
import { TimerWheelClock } from './sip/transaction/clock.js';
import { DigestAuthenticator } from './security/auth/digest.js';
import { LocationService, formatRemote, requestTarget } from './sip/ua/location.js';
import type { Remote } from './transport/types.js';
import { Registrar } from './sip/ua/registrar.js';
import { Qualifier } from './sip/ua/qualifier.js';
import { UaCore } from './sip/ua/ua-core.js';
import { B2bua } from './sip/b2bua/b2bua.js';
import { ControlServer } from './admin/control-socket.js';
import { openStorage, type Database } from './storage/database.js';
import { createMediaApi } from './sip/b2bua/media-bridge.js';
import type { ExtensionInfo } from './sip/b2bua/types.js';
import type { Ha1Set } from './security/auth/digest.js';
import { SipMessage } from './sip/message/sip-message.js';
import { newToken } from './sip/dialog/dialog.js';
import { formatHost } from './transport/address.js';
import { SecurityService, registeredAddresses } from './security/ids/security-service.js';
import { securityEvent } from './security/ids/event-levels.js';
import { RequestAuthenticator } from './sip/ua/request-auth.js';
import { pinOutcomeEvent } from './security/ids/auth-events.js';
import type { PinOutcomeSink } from './security/auth/pin-outcome.js';
import { EventServer, notifyThrough } from './sip/events/index.js';
import { hostname, networkInterfaces } from 'node:os';
import { createVoicemail, voicemailDialplanApps, type VoicemailFeature } from './features/voicemail/index.js';
import { registerApp } from './dialplan/app-registry.js';
import { loadDialplan, type LoadedDialplan } from './dialplan/load-dialplan.js';
import { Mailer } from './mail/mailer.js';
import { SecurityGuard, GUARD_COMMANDS } from './security/security-guard.js';
import type { SecurityEventSink } from './security/ids/security-event.js';
import { buildResponse } from './sip/message/response.js';
import { SipParseError } from './sip/message/sip-message.js';
import { SipChannelFactory, type DialplanRunner } from './channel/sip-channel-factory.js';
import { PromptStore } from './media/prompts/prompt-store.js';
import { defaultPromptDir, generatePrompts, promptsComplete } from './media/prompts/generate-prompts.js';
import { MusicOnHold } from './media/player/music-on-hold.js';
import { MixerRegistry } from './media/mixer/mixer.js';
import { createTroubleshoot } from './features/troubleshoot/index.js';

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
  /** mailboxes, MWI and the VoiceMail/VoiceMailMain applications for the dialplan */
  readonly voicemail: VoicemailFeature;
  /** the dialplan engine (null when dialplan.file is not set); a SIP channel runs calls with dialplan.engine.run(channel) */
  readonly dialplan: LoadedDialplan | null;
  /** null without a mail section in the configuration */
  readonly mailer: Mailer | null;
}

interface ExtensionRecord extends ExtensionInfo {
  ha1: Ha1Set;
}

export async function startPalisade(cfg: PalisadeConfig, opts: StartOptions = {}): Promise<RunningPalisade> {
  const logs = new LogRoot(cfg.log.level, cfg.log.levels, opts.logSink);
  const log = logs.get('core');
  const started = Date.now();

  // ---- storage and extensions (config file + imported into the database)
  const storage = await openStorage(cfg.storage);
  const extensions = new Map<string, ExtensionRecord>();
  /** the mailboxes of imported extensions with voicemail, handed to the voicemail feature (built further down) */
  let importedMailboxes: MailboxConfig[] = [];
  let voicemailFeature: VoicemailFeature | null = null;
  /** (re)load extensions: imported rows first, the configuration file wins on the same number */
  const loadExtensions = async (): Promise<number> => {
    const next = new Map<string, ExtensionRecord>();
    const rows = await storage.extensions.list();
    const configured = new Set(cfg.extensions.map((e) => e.number));
    importedMailboxes = rows
      .filter((r) => r.voicemail && !configured.has(r.number))
      .map((r) => extensionMailbox(r, r.voicemailPin ?? '', { file: `${cfg.storage.driver} database`, line: 0, col: 0 }));
    voicemailFeature?.service.setImportedMailboxes(importedMailboxes);
    for (const row of rows) {
      next.set(row.number, {
        number: row.number,
        name: row.name ?? '',
        context: row.context ?? 'default',
        directMedia: !!row.directMedia,
        ha1: { md5: row.ha1Md5 ?? undefined, sha256: row.ha1Sha256 ?? undefined },
      });
    }
    for (const e of cfg.extensions) {
      next.set(e.number, {
        number: e.number,
        name: e.name,
        context: e.context,
        directMedia: e.directMedia,
        encryption: e.encryption,
        ha1: { md5: e.ha1Md5 ?? undefined, sha256: e.ha1Sha256 ?? undefined },
      });
    }
    // swap in place: the authenticator and the B2BUA hold this map
    extensions.clear();
    for (const [k, v] of next) extensions.set(k, v);
    return extensions.size;
  };
  await loadExtensions();

  // ---- dialplan: parsed and checked against the extensions' contexts at start
  // (VoiceMail/VoiceMailMain are registered first: the parser refuses unknown
  // applications; they reach the voicemail feature built further down)
  for (const app of voicemailDialplanApps(() => voicemailFeature)) registerApp(app.name, app);
  // PINs checked during calls reach the defences built further down (pinOutcome)
  let pinSink: PinOutcomeSink = () => {};
  const dialplan = loadDialplan(cfg, logs.get('dialplan'), { pinOutcome: (o) => pinSink(o) });
  // extensions from the config file were checked with their YAML line; imported ones can only be reported
  for (const e of dialplan ? extensions.values() : []) {
    if (!dialplan!.engine.dialplan.contexts.has(e.context)) log.warn('extension-context-missing', { extension: e.number, context: e.context });
  }

  // ---- outgoing mail (voicemail, security alerts): spooled, retried until delivered
  const mailer = cfg.mail
    ? new Mailer({ smtp: cfg.mail.smtp, from: cfg.mail.from, spoolDir: cfg.mail.spoolDir, retryMs: cfg.mail.retrySeconds * 1000 }, logs.get('mail'))
    : null;
  mailer?.start();
  // ---- security: ACLs, reputation, toll-fraud guard (src/security). Its
  // events go to the JSON log and, once the IDS below is up, into its bus
  // (security log in Asterisk's format, rules, alert mails).
  const secLog = logs.get('security');
  let idsSink: SecurityEventSink | undefined;
  const securitySink: SecurityEventSink = {
    emit: (ev) => {
      secLog.info('security-event', { type: ev.type, level: ev.level, remote: ev.remote?.address, account: ev.account, detail: ev.detail, ...ev.extra });
      idsSink?.emit(ev.local || !ev.remote ? ev : { ...ev, local: transport.localFor(ev.remote) });
    },
  };
  const guard = await SecurityGuard.create({
    cfg: cfg.guard,
    extensions: cfg.extensions,
    // extensions, and numbers the dialplan serves itself (IVR, voicemail): internal
    isExtension: (n) => extensions.has(n) || (dialplan?.engine.servesExactly(n) ?? false),
    storage,
    sink: securitySink,
    log: secLog,
    registeredAddresses: () => location.all().map((b) => b.received.address),
  });

  // ---- transport and transactions
  const transport = new TransportLayer(cfg.sip.listen, logs.get('sip'), { udpRecvBuffer: cfg.sip.udpRecvBuffer, maxMessageSize: 65535 });
  transport.serverHeader = cfg.sip.userAgent;
  if (cfg.tls) transport.tlsCredentials = cfg.tls; // tls: listen points (src/transport/tls-listener.ts)
  const clock = new TimerWheelClock();
  // the names this server answers to: To hosts it registers, digest-uris it accepts
  const localHosts = localHostNames(cfg);
  const auth = new DigestAuthenticator({
    realm: cfg.sip.realm,
    algorithms: cfg.auth.algorithms,
    nonceLifetimeSec: cfg.auth.nonceLifetime,
    lookupHa1: (user) => extensions.get(user)?.ha1,
    server: { hosts: localHosts, ports: cfg.sip.listen.map((p) => p.port) },
  });
  const location = new LocationService({
    persistence: storage.location,
    onPersistError: (err, op) => logs.get('registrar').warn('persist-failed', { op, error: (err as Error).message }),
  });
  const restored = await location.restore();
  location.start();

  // ---- intrusion defences: events, security log, IDS/IPS (packet gate), alerts
  const security = new SecurityService(cfg.security, {
    log: logs.get('security'),
    isRegisteredAddress: registeredAddresses(() => location.all().map((b) => b.received.address)),
    closeFlowsFrom: (address) => transport.closeFlowsFrom(address),
    sendMail: mailer ? async (to, subject, text) => void (await mailer.send({ to, subject, text })) : undefined,
    hostName: hostname(),
  });
  security.start();
  idsSink = security;
  transport.gate = security.gate;
  transport.onMalformed = (remote, local, error, method) => security.malformed(remote, local, error, method);
  // every authentication outcome feeds the IDS (events, bans) and reputation
  const authOutcome = (o: Parameters<SecurityService['authOutcome']>[0]) => {
    security.authOutcome(o, (r) => transport.localFor(r));
    guard.authOutcome(o.ok, o.reason, o.account, o.remote);
  };
  // and so does every PIN checked during a call (VoiceMailMain, Authenticate(),
  // ReportAuthFailure()): the same events, bans and reputation, by the caller's address
  const pinOutcome: PinOutcomeSink = (o) => {
    securitySink.emit(pinOutcomeEvent(o));
    guard.pinOutcome(o);
  };
  pinSink = pinOutcome;

  const registrar = new Registrar({
    location,
    auth,
    domain: cfg.sip.domain,
    isLocalDomain: (host: string) => localHosts.has(host.toLowerCase()),
    minExpires: cfg.registrar.minExpires,
    maxExpires: cfg.registrar.maxExpires,
    defaultExpires: cfg.registrar.defaultExpires,
    maxContacts: cfg.registrar.maxContacts,
    isLocalExtension: (user: string) => extensions.has(user),
    server: cfg.sip.userAgent,
    onAuth: (e) => authOutcome({ ok: e.ok, reason: e.reason, method: 'REGISTER', account: e.username ?? e.aor, remote: e.remote, callId: e.callId, cseq: e.cseq, nonce: e.nonce, attempt: e.attempt, userAgent: e.userAgent }),
    mayRegister: (aor, remote) => guard.mayRegister(aor, remote),
  });

  const media = createMediaApi({
    address: cfg.rtp.address,
    advertisedAddress: cfg.rtp.advertisedAddress,
    portMin: cfg.rtp.portMin,
    portMax: cfg.rtp.portMax,
    inactivityTimeoutMs: cfg.rtp.timeout * 1000,
  });

  // ---- call traces and captures (palisade trace / pcap): a tap on the transport and the relay
  const troubleshoot = createTroubleshoot({ rtp: { sessionAt: (port) => media.sessionAt(port) } });
  transport.tap = troubleshoot.tap;
  troubleshoot.start();

  let core: UaCore | undefined;
  const tm = new TransactionManager({
    sender: transport,
    clock,
    tu: {
      onRequest: (tx, msg, remote) => {
        // the request gate: global ACL, address reputation, calls claiming an internal user from outside
        let refusal = null;
        try {
          refusal = guard.checkRequest(msg, remote);
        } catch (err) {
          // a malformed header: the UAS core answers 400; a fault of ours is logged and the request served
          if (!(err instanceof SipParseError)) secLog.error('request-gate-failed', { method: msg.method, error: (err as Error).stack });
        }
        if (refusal) {
          tx.respond(buildResponse(msg, refusal.status, refusal.reason, { toTag: newToken(), server: cfg.sip.userAgent }));
          return;
        }
        core!.onRequest(tx, msg, remote);
      },
      onAck: (msg) => core!.onAck(msg),
      onCancel: (msg) => core!.onCancel(msg),
      onStrayResponse: (msg) => core!.onStrayResponse(msg),
    },
  });

  const cdrLog = logs.get('cdr');
  const b2bua = new B2bua(
    {
      domain: cfg.sip.domain,
      userAgent: cfg.sip.userAgent,
      ringTimeoutMs: cfg.calls.ringTimeout * 1000,
      maxDurationMs: cfg.calls.maxDuration * 1000,
    },
    {
      tx: {
        sendRequest: (req, remote, h) => {
          const ctx = tm.sendRequest(req, remote, { onResponse: (res) => h.onResponse(res), onTimeout: () => h.onTimeout(), onTransportError: () => h.onTimeout() });
          return { cancel: () => ctx.cancel() };
        },
        sendStateless: (req, remote) => {
          tm.stampVia(req, remote);
          transport.send(req.toBuffer(), remote);
        },
        retransmit2xx: (res, remote, onGiveUp) => tm.retransmit2xx(res, remote, onGiveUp),
      },
      auth,
      media,
      extensions: { get: (n) => extensions.get(n) },
      location: {
        lookup: (aor) => location.lookupForCall(aor).map((b) => ({ contactUri: b.contactUri, remote: requestTarget(b) })),
      },
      cdr: {
        write: (rec) => {
          storage.cdr.insert(rec).catch((err: Error) => cdrLog.error('cdr-insert-failed', { uniqueid: rec.uniqueid, error: err.message }));
        },
      },
      onAuth: authOutcome,
      onEncryptionRefused: (e) =>
        security.emit(securityEvent('RequestNotAllowed', { remote: e.remote, local: transport.localFor(e.remote), account: e.account, sessionId: e.callId, detail: e.detail })),
      gate: guard.callGate,
    },
    transport,
    logs.get('b2bua'),
  );
  // ---- channels: calls the dialplan answers, with Palisade's own media
  const promptDir = cfg.prompts.dir ?? defaultPromptDir();
  if (cfg.prompts.generate && !promptsComplete(promptDir)) {
    // first start on a fresh install: make the English prompts (espeak-ng + sox)
    try {
      const r = await generatePrompts(promptDir);
      log.info('prompts-generated', { dir: promptDir, generated: r.generated.length });
    } catch (err) {
      log.warn('prompts-generation-failed', { dir: promptDir, error: (err as Error).message });
    }
  }
  // the dialplan named in the configuration, unless the caller embeds its own
  const runner: DialplanRunner | undefined =
    opts.dialplan ??
    (dialplan
      ? {
          // read dialplan.engine on each call: a reload swaps it
          has: (context, exten, callerId) => dialplan.engine.has(context, exten, callerId),
          run: (channel) => dialplan.engine.run(channel),
        }
      : undefined);
  let channels: SipChannelFactory | undefined;
  if (runner) {
    channels = new SipChannelFactory(
      {
        ua: b2bua,
        allocatePair: () => media.allocatePair(),
        mediaAddress: cfg.rtp.advertisedAddress,
        prompts: new PromptStore(promptDir, cfg.prompts.customDir),
        moh: new MusicOnHold([cfg.prompts.customDir, promptDir]),
        mixers: new MixerRegistry(),
        log: logs.get('channel'),
        rtpTimeoutMs: cfg.rtp.timeout * 1000,
      },
      runner,
    );
    b2bua.deps.dialplan = channels.routing();
  }
  const requestAuth = new RequestAuthenticator({ auth, server: cfg.sip.userAgent, onAuth: authOutcome });
  // ---- SUBSCRIBE/NOTIFY (RFC 6665): the event server; packages register with it
  const events = new EventServer({
    // the same digest check (and IDS reporting) as every request the UAS core answers
    authenticate: (req, remote) => requestAuth.check(req, remote),
    send: notifyThrough(tm),
    contactFor: (remote) => b2bua.contactFor(remote, 'events'),
    contactsOf: (aor) => location.lookup(aor).map((b) => ({ contactUri: b.contactUri, remote: requestTarget(b) })),
    isLocalDomain: (host) => localHosts.has(host.toLowerCase()),
    domain: cfg.sip.domain,
    userAgent: cfg.sip.userAgent,
    clock,
    log: logs.get('events'),
    refused: (e) => security.emit(securityEvent('RequestNotAllowed', { remote: e.remote, local: transport.localFor(e.remote), account: e.subscriber, sessionId: e.callId, detail: e.detail })),
  });
  location.on((e) => {
    if (e.type === 'added') void events.contactRegistered(e.binding.aor, e.binding.contactUri, requestTarget(e.binding));
  });
  // ---- voicemail and MWI (the message-summary package)
  const voicemail = createVoicemail(cfg.voicemail, {
    // the spool has the mail (and a copy of the WAV) on disk once send() returns
    mail: mailer ? { enqueue: async (m) => void (await mailer.send(m)) } : null,
    log: logs.get('voicemail'),
    extensionEmail: (n) => cfg.extensions.find((e) => e.number === n)?.email ?? null,
    security,
    pinOutcome,
    events,
    domain: cfg.sip.domain,
  });
  voicemail.service.setImportedMailboxes(importedMailboxes);
  await voicemail.start();
  voicemailFeature = voicemail;
  core = new UaCore(
    {
      userAgent: cfg.sip.userAgent,
      allow: b2bua.allow,
      authenticate: (req, remote) => {
        const r = requestAuth.check(req, remote);
        return 'response' in r ? r.response : null;
      },
      onRejected: (req, remote, status, reason) => {
        if (status === 400) security.malformed(remote, transport.localFor(remote), reason, req.method);
      },
    },
    registrar,
    b2bua,
    logs.get('ua'),
    events.handleSubscribe,
  );
  transport.flowClosed = (remote) => tm.transportError(remote);
  transport.onMessage((msg, remote, local) => {
    // the request gate: known scanners are dropped without an answer
    if (msg.isRequest && security.dropRequest(msg.get('user-agent'), remote, local, msg.get('call-id'))) return;
    if (msg.isRequest) tm.receiveRequest(msg, remote);
    else tm.receiveResponse(msg, remote);
  });

  // qualify: OPTIONS keep-alive to every registered contact
  const qualifier =
    cfg.registrar.qualifyInterval > 0
      ? new Qualifier({
          location,
          intervalSec: cfg.registrar.qualifyInterval,
          sendOptions: (b) => sendOptions(tm, transport, b.contactUri, b.aor, requestTarget(b), cfg.sip.userAgent, cfg.sip.domain),
        })
      : undefined;

  await transport.start();
  qualifier?.start();

  // ---- control socket for the CLI
  const control = new ControlServer(cfg.control.socket, (cmd, args) => {
    if (GUARD_COMMANDS.has(cmd)) return guard.control(cmd, args);
    if (Object.hasOwn(troubleshoot.commands, cmd)) return troubleshoot.commands[cmd]!(args);
    switch (cmd) {
      case 'status':
        return {
          version: '0.1.0',
          uptime_s: Math.round((Date.now() - started) / 1000),
          listen: cfg.sip.listen.map(formatListenPoint),
          extensions: extensions.size,
          registrations: location.count(),
          active_calls: b2bua.activeCalls,
          calls: b2bua.stats,
          transactions: tm.stats(),
          packets: transport.stats,
          tcp_connections: transport.tcpConnections(),
          tls_connections: transport.tlsConnections(),
          tls_handshake_errors: transport.tlsHandshakeErrors(),
          security: security.status(),
          mail_pending: mailer?.pending() ?? null,
          rss_mb: Math.round(process.memoryUsage().rss / 1048576),
          heap_used_mb: Math.round(process.memoryUsage().heapUsed / 1048576),
        };
      case 'registrations':
        return location.all().map((b) => ({
          aor: b.aor,
          contact: b.contactUri,
          received: formatRemote(b.received),
          expires_in: Math.max(0, Math.round((b.expiresAt - Date.now()) / 1000)),
          user_agent: b.userAgent,
          reachable: b.reachable === null ? 'unknown' : b.reachable ? 'yes' : 'no',
        }));
      case 'calls':
        return [...b2bua.listCalls(), ...(channels?.list() ?? [])];
      case 'bans':
      case 'ban-add':
      case 'ban-remove':
        return security.control(cmd, args);
      case 'reload-extensions':
        return loadExtensions().then((n) => {
          const mailboxes = voicemail.service.mailboxes().length;
          log.info('extensions-reloaded', { extensions: n, mailboxes });
          return { extensions: n, mailboxes };
        });
      case 'reload-dialplan': {
        if (!dialplan) throw new Error('no dialplan configured (dialplan.file)');
        // ConfigError keeps the running dialplan; calls in progress keep theirs either way
        const r = dialplan.reload();
        log.info('dialplan-reloaded', r);
        return r;
      }
      default: {
        const vm = voicemail.command(cmd, args);
        if (vm) return vm;
        throw new Error(`unknown command "${cmd}"`);
      }
    }
  });
  await control.start();

  log.info('ready', {
    listen: cfg.sip.listen.map(formatListenPoint),
    rtp: `${cfg.rtp.address}:${cfg.rtp.portMin}-${cfg.rtp.portMax}`,
    extensions: extensions.size,
    restored_registrations: restored,
    storage: cfg.storage.driver,
  });

  let stopped = false;
  return {
    transport,
    storage,
    voicemail,
    dialplan,
    mailer,
    async stop(reason = 'stop') {
      if (stopped) return;
      stopped = true;
      log.info('stopping', { reason });
      b2bua.hangupAll();
      channels?.hangupAll();
      qualifier?.stop();
      voicemail.stop();
      events.stop();
      // give the BYEs a moment to leave before the sockets close
      await new Promise((r) => setTimeout(r, 50));
      await control.close();
      await transport.close();
      troubleshoot.stop();
      await security.stop();
      location.stop();
      await location.flush();
      await guard.stop();
      clock.stop();
      await media.close();
      await dialplan?.close();
      await mailer?.stop();
      await storage.close();
      log.info('stopped', { reason });
    },
  };
}

/**
 * The SIP domain and every listening address, lower-case; for a wildcard
 * listen point (0.0.0.0, ::) the machine's own interface addresses, which
 * phones configured with the server's IP put in their To and digest URIs.
 */
function localHostNames(cfg: PalisadeConfig): Set<string> {
  const out = new Set<string>([cfg.sip.domain.toLowerCase()]);
  for (const p of cfg.sip.listen) {
    const a = p.address.toLowerCase();
    if (a !== '0.0.0.0' && a !== '::') {
      out.add(a);
      continue;
    }
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) if (a === '::' || i.family === 'IPv4') out.add(i.address.toLowerCase());
    }
  }
  return out;
}

/** OPTIONS to a registered contact (qualify); resolves with reachability and RTT */
function sendOptions(
  tm: TransactionManager,
  transport: TransportLayer,
  contactUri: string,
  aor: string,
  remote: Remote,
  userAgent: string,
  domain: string,
): Promise<{ ok: boolean; rtt: number }> {
  return new Promise((resolve) => {
    const m = new SipMessage();
    m.method = 'OPTIONS';
    m.uri = contactUri;
    const tag = newToken();
    // the transaction layer adds the Via (RFC 3261 §8.1.1.7)
    m.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `<sip:qualify@${domain}>;tag=${tag}` },
      { name: 'to', value: `<sip:${aor}@${domain}>` },
      { name: 'call-id', value: `${tag}@${formatHost(transport.localFor(remote).address)}` },
      { name: 'cseq', value: '1 OPTIONS' },
      { name: 'user-agent', value: userAgent },
    );
    const t0 = Date.now();
    tm.sendRequest(m, remote, {
      // any response, even an error, proves the contact is alive
      onResponse: (res) => {
        if (res.status >= 200) resolve({ ok: true, rtt: Date.now() - t0 });
      },
      onTimeout: () => resolve({ ok: false, rtt: Date.now() - t0 }),
      onTransportError: () => resolve({ ok: false, rtt: Date.now() - t0 }),
    });
  });
}
