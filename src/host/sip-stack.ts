// The SIP side of the server, built in dependency order: transport →
// transactions → request pipeline → UAS core → registrar / B2BUA / event
// server, with media, the dialplan's channels and the defence points handed
// in. Nothing listens until start(). Where two parts call each other (the
// transaction layer delivers to the UAS core, which answers through it) the
// earlier one holds a callback to the later one, declared once, never
// re-assigned.
import { networkInterfaces } from 'node:os';
import type { PalisadeConfig } from '../config/config-types.js';
import type { LogRoot } from '../observability/logger.js';
import { TransportLayer } from '../transport/transport-layer.js';
import { parseUdpFds, UDP_FDS_ENV } from '../transport/steered-udp.js';
import { TransactionManager } from '../sip/transaction/transaction-manager.js';
import { TimerWheelClock } from '../sip/transaction/clock.js';
import { DigestAuthenticator } from '../sip/auth/digest.js';
import { LocationService, requestTarget } from '../sip/ua/location.js';
import { Registrar } from '../sip/ua/registrar.js';
import { UaCore } from '../sip/ua/ua-core.js';
import { routeB2bua, routeRegistrar } from '../sip/ua/core-routes.js';
import { SanityStage } from '../sip/pipeline/sanity-stage.js';
import { AuthStage } from '../sip/pipeline/auth-stage.js';
import { RoutingStage } from '../sip/pipeline/routing-stage.js';
import { RequestAuthenticator } from '../sip/ua/request-auth.js';
import { B2bua } from '../sip/b2bua/b2bua.js';
import { createMediaApi } from '../sip/b2bua/media-bridge.js';
import { EventServer, notifyThrough } from '../sip/events/index.js';
import { securityEvent } from '../security/ids/event-levels.js';
import { RequestPipeline } from '../sip/pipeline/request-pipeline.js';
import { SipChannelFactory, type DialplanRunner } from '../channel/sip-channel-factory.js';
import { DialTechnologies } from '../channel/dial-technology.js';
import type { CdrInput } from '../core/cdr.js';
import { CallRouters } from '../channel/call-routers.js';
import { ChannelFeatures } from '../channel/channel-features.js';
import { CallEventHub } from '../core/call-events.js';
import { PromptStore } from '../media/prompts/prompt-store.js';
import { MusicOnHold } from '../media/player/music-on-hold.js';
import { MixerRegistry } from '../media/mixer/mixer.js';
import type { Database } from '../storage/database.js';
import { sipExtensionTechnology } from '../channel/sip-extension-technology.js';
import type { DefenceHooks } from './defence-hooks.js';
import type { ExtensionDirectory } from './extension-directory.js';
import { portShare, type WorkerIdentity } from '../core/workers.js';

export interface SipStackDeps {
  logs: LogRoot;
  storage: Database;
  extensions: ExtensionDirectory;
  defences: DefenceHooks;
  /** runs the calls the dialplan claims; without one every call goes straight to the dialled extension */
  runner?: DialplanRunner;
  /** the prompts folder (generated on first start) */
  promptDir: string;
  /** several workers (sip.workers > 1): this one, which takes its own share of the RTP ports */
  worker?: WorkerIdentity | null;
}

export type SipStack = Awaited<ReturnType<typeof buildSipStack>>;

export async function buildSipStack(cfg: PalisadeConfig, d: SipStackDeps) {
  const { logs, extensions, defences } = d;
  // the dialplan, then the numbers modules route themselves (outbound and inbound routes)
  const runner = new CallRouters(d.runner);
  const transport = new TransportLayer(cfg.sip.listen, logs.get('sip'), {
    udpRecvBuffer: cfg.sip.udpRecvBuffer,
    // every worker's socket gets the same cap: it is reported once
    reportRecvBuffer: (d.worker?.index ?? 0) === 0,
    // several workers: this one's sockets of the steered groups the primary opened (src/transport/steered-udp.ts)
    udpFds: d.worker ? parseUdpFds(process.env[UDP_FDS_ENV]) : undefined,
    maxMessageSize: 65535,
    serverHeader: cfg.sip.userAgent,
    // tls: listen points (src/transport/tls-listener.ts)
    tlsCredentials: cfg.tls ?? undefined,
    gate: defences.packetGate,
    onMalformed: defences.malformed,
  });
  const clock = new TimerWheelClock();
  // Dial() technologies modules add (trunks, IAX2): src/channel/dial-technology.ts
  const dialTechnologies = new DialTechnologies();
  // call phases and registrations, for busy lamps, presence, queues, the console: src/core/call-events.ts
  const callEvents = new CallEventHub();
  // transfer services (parking) and pickup of ringing calls, which the office module provides
  const channelFeatures = new ChannelFeatures();
  // the names this server answers to: To hosts it registers, digest-uris it accepts
  const localHosts = localHostNames(cfg);
  const isLocalDomain = (host: string) => localHosts.has(host.toLowerCase());
  const auth = new DigestAuthenticator({
    realm: cfg.sip.realm,
    algorithms: cfg.auth.algorithms,
    nonceLifetimeSec: cfg.auth.nonceLifetime,
    lookupHa1: (user) => extensions.get(user)?.ha1,
    server: { hosts: localHosts, ports: cfg.sip.listen.map((p) => p.port) },
  });
  const location = new LocationService({
    persistence: d.storage.location,
    onPersistError: (err, op) => logs.get('registrar').warn('persist-failed', { op, error: (err as Error).message }),
  });
  const restored = await location.restore();
  location.on((e) => {
    if (e.type === 'reachability') return;
    callEvents.emitRegistration({
      extension: e.binding.aor,
      contact: e.binding.contactUri,
      registered: e.type !== 'removed',
      kind: e.type === 'added' ? 'added' : e.type === 'updated' ? 'refreshed' : 'removed',
      contacts: location.liveCount(e.binding.aor),
      via: 'sip',
      at: Date.now(),
    });
  });
  for (const b of location.all()) {
    callEvents.emitRegistration({ extension: b.aor, contact: b.contactUri, registered: true, kind: 'added', contacts: location.liveCount(b.aor), via: 'sip', at: Date.now() });
  }
  const localFor = transport.localFor.bind(transport);

  const registrar = new Registrar({
    location,
    auth,
    domain: cfg.sip.domain,
    isLocalDomain,
    minExpires: cfg.registrar.minExpires,
    maxExpires: cfg.registrar.maxExpires,
    defaultExpires: cfg.registrar.defaultExpires,
    maxContacts: cfg.registrar.maxContacts,
    isLocalExtension: (user: string) => extensions.has(user),
    server: cfg.sip.userAgent,
    onAuth: (e) =>
      defences.authOutcome({
        ok: e.ok,
        reason: e.reason,
        method: 'REGISTER',
        account: e.username ?? e.aor,
        remote: e.remote,
        callId: e.callId,
        cseq: e.cseq,
        nonce: e.nonce,
        attempt: e.attempt,
        userAgent: e.userAgent,
      }),
    mayRegister: defences.mayRegister,
  });
  const media = createMediaApi({
    address: cfg.rtp.address,
    advertisedAddress: cfg.rtp.advertisedAddress,
    // several workers: disjoint shares, so a call's media lives in the worker that owns the call
    ...(d.worker ? portShare(cfg.rtp.portMin, cfg.rtp.portMax, d.worker.index, d.worker.count) : { portMin: cfg.rtp.portMin, portMax: cfg.rtp.portMax }),
    inactivityTimeoutMs: cfg.rtp.timeout * 1000,
    // call-quality-poor, one-way-audio; the thresholds come from a module (setQuality)
    qualityLog: logs.get('quality'),
  });

  const tm: TransactionManager = new TransactionManager({
    sender: transport,
    clock,
    tu: {
      onRequest: (tx, msg, remote) => pipeline.gate(tx, msg, remote, (t, m, r) => core.onRequest(t, m, r)),
      onAck: (msg) => core.onAck(msg),
      onCancel: (msg) => core.onCancel(msg),
      onStrayResponse: (msg) => core.onStrayResponse(msg),
    },
  });

  const cdrLog = logs.get('cdr');
  // modules that read each call's record as it is written (the quality module's histograms)
  const cdrWatchers = new Set<(rec: CdrInput) => void>();
  const b2bua: B2bua = new B2bua(
    { domain: cfg.sip.domain, userAgent: cfg.sip.userAgent, ringTimeoutMs: cfg.calls.ringTimeout * 1000, maxDurationMs: cfg.calls.maxDuration * 1000 },
    {
      tx: {
        sendRequest: (req, remote, h) => {
          const ctx = tm.sendRequest(req, remote, { onResponse: (res) => h.onResponse(res), onTimeout: () => h.onTimeout(), onTransportError: () => h.onTimeout() });
          return { cancel: () => ctx.cancel() };
        },
        sendStateless: (req, remote) => {
          tm.stampVia(req, remote);
          transport.send(req.toBuffer(), remote, req);
        },
        retransmit2xx: (res, remote, onGiveUp) => tm.retransmit2xx(res, remote, onGiveUp),
      },
      auth,
      media,
      extensions,
      location: { lookup: (aor) => location.lookupForCall(aor).map((b) => ({ contactUri: b.contactUri, remote: requestTarget(b), path: b.path })) },
      cdr: {
        write: (rec) => {
          d.storage.cdr.insert(rec).catch((err: Error) => cdrLog.error('cdr-insert-failed', { uniqueid: rec.uniqueid, error: err.message }));
          for (const w of cdrWatchers) {
            try {
              w(rec);
            } catch (err) {
              cdrLog.error('cdr-watcher-failed', { uniqueid: rec.uniqueid, error: (err as Error).message });
            }
          }
        },
      },
      onAuth: defences.authOutcome,
      onEncryptionRefused: (e) =>
        defences.securityEvents.emit(
          securityEvent('RequestNotAllowed', { remote: e.remote, local: localFor(e.remote), account: e.account, sessionId: e.callId, detail: e.detail }),
        ),
      gate: defences.callGate,
      callEvents,
      // calls the dialplan claims become channels (below)
      dialplan: {
        routes: (caller, dialled) => runner.has(caller.context, dialled, caller.number),
        accept: (tx, req, remote, caller, dialled, ticket) => void channels.accept(tx, req, remote, caller, dialled, ticket),
        // an INVITE with Replaces (RFC 3891) becomes a channel bridged with the replaced dialog's other party
        replacing: (tx, req, remote, caller, r, ticket) => channels.replacing(tx, req, remote, caller, r, ticket),
      },
    },
    transport,
    logs.get('b2bua'),
  );
  // ---- channels: calls the dialplan answers, with Palisade's own media
  // the media services every channel technology shares (prompts, music, conference rooms)
  const mediaServices = {
    prompts: new PromptStore(d.promptDir, cfg.prompts.customDir),
    moh: new MusicOnHold([cfg.prompts.customDir, d.promptDir]),
    mixers: new MixerRegistry(),
    log: logs.get('channel'),
  };
  const channels = new SipChannelFactory(
    {
      ua: b2bua,
      allocatePair: () => media.allocatePair(),
      mediaAddress: cfg.rtp.advertisedAddress,
      ...mediaServices,
      rtpTimeoutMs: cfg.rtp.timeout * 1000,
      quality: () => media.quality(),
      technologies: dialTechnologies,
      callEvents,
      features: channelFeatures,
    },
    runner,
  );
  // our extensions' phones for channels of other technologies (an IAX2 call to SIP/2001)
  dialTechnologies.register(
    sipExtensionTechnology({ ua: b2bua, allocatePair: () => media.allocatePair(), mediaAddress: cfg.rtp.advertisedAddress, log: logs.get('channel'), moh: mediaServices.moh }),
  );

  const requestAuth = new RequestAuthenticator({ auth, server: cfg.sip.userAgent, onAuth: defences.authOutcome });
  // ---- SUBSCRIBE/NOTIFY (RFC 6665): the event server; modules register packages with it
  const events = new EventServer({
    // the same digest check (and IDS reporting) as every request the UAS core answers
    authenticate: (req, remote) => requestAuth.check(req, remote),
    send: notifyThrough(tm),
    contactFor: (remote) => b2bua.contactFor(remote, 'events'),
    contactsOf: (aor) => location.lookup(aor).map((b) => ({ contactUri: b.contactUri, remote: requestTarget(b) })),
    isLocalDomain,
    domain: cfg.sip.domain,
    userAgent: cfg.sip.userAgent,
    clock,
    log: logs.get('events'),
    refused: (e) =>
      defences.securityEvents.emit(
        securityEvent('RequestNotAllowed', { remote: e.remote, local: localFor(e.remote), account: e.subscriber, sessionId: e.callId, detail: e.detail }),
      ),
  });
  location.on((e) => {
    // a phone registered through another node of a cluster is that node's to notify
    if (e.type === 'added' && !e.remote) void events.contactRegistered(e.binding.aor, e.binding.contactUri, requestTarget(e.binding));
  });
  // ---- the request pipeline's last stages: sanity → authentication → routing
  const authStage = new AuthStage((req, remote) => {
    const r = requestAuth.check(req, remote);
    return 'response' in r ? r.response : null;
  });
  const routing = new RoutingStage({
    userAgent: cfg.sip.userAgent,
    get allow() {
      return b2bua.allow;
    },
    auth: authStage,
    served: (m) => b2bua.serve(m),
  });
  routeRegistrar(routing, registrar);
  routeB2bua(routing, b2bua);
  routing.register('SUBSCRIBE', events.handleSubscribe);
  const sanity = new SanityStage({
    get allow() {
      return b2bua.allow;
    },
    isRouted: (m) => routing.has(m),
    challengeFirst: authStage.active,
  });
  const secLog = logs.get('security');
  const pipeline = new RequestPipeline({
    userAgent: cfg.sip.userAgent,
    onGateFault: (_stage, req, err) => secLog.error('request-gate-failed', { method: req.method, error: err.stack }),
    routing,
  });
  const core = new UaCore(
    {
      userAgent: cfg.sip.userAgent,
      onRejected: (req, remote, status, reason) => {
        if (status === 400) defences.malformed(remote, localFor(remote), reason, req.method);
      },
    },
    sanity,
    routing,
    logs.get('ua'),
  );
  transport.onFlowClosed((remote) => tm.transportError(remote));
  transport.onMessage((msg, remote, local) => {
    // the pipeline's screen: known scanners are dropped without an answer
    if (msg.isRequest && pipeline.screen(msg, remote, local)) return;
    if (msg.isRequest) tm.receiveRequest(msg, remote);
    else tm.receiveResponse(msg, remote);
  });

  return {
    /** every call record as it is written (B2BUA calls and SIP channels); returns the unsubscribe */
    onCdr(fn: (rec: CdrInput) => void): () => void {
      cdrWatchers.add(fn);
      return () => cdrWatchers.delete(fn);
    },
    transport,
    clock,
    tm,
    location,
    restored,
    registrar,
    b2bua,
    channels,
    dialTechnologies,
    callRouters: runner,
    channelFeatures,
    mediaServices,
    callEvents,
    events,
    pipeline,
    media,
    /** digest authentication of the requests a route answers itself (MESSAGE, PUBLISH...): the challenge, or the user */
    requestAuth,
    /** listens; location starts expiring bindings */
    async start(): Promise<void> {
      location.start();
      await transport.start();
    },
    /** hangs up every call and lets the BYEs leave */
    async hangupAll(): Promise<void> {
      b2bua.hangupAll();
      channels.hangupAll();
      events.stop();
      await new Promise((r) => setTimeout(r, 50));
    },
    async close(): Promise<void> {
      await transport.close();
      location.stop();
      await location.flush();
      clock.stop();
      await media.close();
    },
  };
}

/**
 * The SIP domain and every listening address, lower-case; for a wildcard
 * listen point (0.0.0.0, ::) the machine's own interface addresses, which
 * phones configured with the server's IP put in their To and digest URIs.
 */
export function localHostNames(cfg: PalisadeConfig): Set<string> {
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
