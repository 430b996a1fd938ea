// The iax2 module: IAX2 (RFC 5456) as a second channel technology beside
// SIP. It owns the `iax2:` section, listens where `iax2.listen` says (and
// nowhere when it is absent), lets extensions with an IAX2 account and
// `host: dynamic` trunks register, turns authenticated calls into dialplan
// channels (iax2-channel.ts), registers to trunks that say `register: true`,
// and adds the IAX2 Dial() technology. Its trunks are the type: iax2 ones
// of the trunk set (src/core/trunk-set.ts: palisade.yaml's and the API's),
// followed live: a trunk made or edited through the API (re)registers, one
// edited, disabled or deleted releases its registration (REGREL), a
// `host: dynamic` one takes its peer's REGREQ from then on; calls in
// progress keep going. Every datagram passes the packet
// gate, every authentication is reported to the defences (Service "IAX2"
// in the security log) and calls leaving by a trunk pass the call gate.
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { TrunkLinkStatus } from '../../channel/dial-technology.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { HostServicesFor } from './iax2-services.js';
import { CidrSet } from '../../core/cidr.js';
import { IAX_DEFAULT_PORT, Cause, Ie } from '../../iax2/iax2-constants.js';
import { Iax2Engine } from '../../iax2/iax2-engine.js';
import { chooseFormat, Iax2Server, type Iax2Account } from '../../iax2/iax2-server.js';
import { Iax2Registration } from '../../iax2/iax2-registration.js';
import type { PeerAddress } from '../../iax2/iax2-session.js';
import type { Iax2Call } from '../../iax2/iax2-call.js';
import type { Ies } from '../../iax2/iax2-frame.js';
import { EndpointMedia } from '../../channel/endpoint-media.js';
import { IAX2_DEFAULTS, readIax2, type Iax2Config } from './read-iax2.js';
import type { TrunkConfig } from '../trunks/trunk-config.js';
import { Iax2Channel } from './iax2-channel.js';
import { iax2DialTechnology, type DialTrunk } from './iax2-dial.js';

interface PeerBinding {
  account: Iax2Account;
  remote: PeerAddress;
  expires: number;
  registeredAt: string;
  /** registrations taken on this binding (the first and every refresh) */
  count: number;
}

interface TrunkState extends DialTrunk {
  cfg: TrunkConfig;
  resolved: PeerAddress | null;
  registration: Iax2Registration | null;
  /** the REGREL of a registration this trunk replaced: the new one starts after it (or the server would drop the new binding) */
  released: Promise<unknown>;
}

/** what a registration to the far end depends on (an edit of anything else keeps it) */
const registrationOf = (t: TrunkConfig, at: PeerAddress | null) => JSON.stringify([t.register && t.username && t.secret ? [t.username, t.secret] : null, at?.address, at?.port]);

export function iax2Module(): PalisadeModule<ModuleDeclarations<DialplanApp, DialplanFunction, MapReader, PalisadeConfig>, HostServicesFor> {
  let cfg: Iax2Config = IAX2_DEFAULTS;
  const engines: Iax2Engine[] = [];
  const bindings = new Map<string, PeerBinding>();
  const trunks = new Map<string, TrunkState>();
  const channels = new Set<Iax2Channel>();
  let unregister: (() => void) | null = null;
  let unfollow: (() => void) | null = null;
  let sweep: NodeJS.Timeout | null = null;

  const status = () => ({
    listen: cfg.listen.map((l) => `udp:${l.address}:${l.port}`),
    calltoken: cfg.calltoken,
    registrations: [...bindings.values()].map((b) => ({
      username: b.account.username,
      kind: b.account.kind,
      name: b.account.name,
      address: `${b.remote.address}:${b.remote.port}`,
      registered: b.registeredAt,
      expiresIn: Math.max(0, Math.round((b.expires - Date.now()) / 1000)),
    })),
    trunks: [...trunks.values()].map((t) => ({
      name: t.name,
      host: t.cfg.host,
      address: t.address() ? `${t.address()!.address}:${t.address()!.port}` : null,
      active: t.active,
      registration: t.registration ? { ...t.registration.status } : null,
    })),
    calls: [...channels].map((c) => ({ channel: c.name, from: c.callerIdNum, to: c.dialed, context: c.context, answered: c.answered, codec: c.media.codec })),
    counters: engines.map((e) => ({ ...e.counters, sessions: e.sessions })),
  });

  return {
    name: 'iax2',
    declare(d) {
      d.configSection('iax2', (section, config) => readIax2(section, config));
      d.command('iax2', () => status());
      d.command('show-iax2', () => status());
      // hang up one IAX2 channel by name (an administrator ending a stuck call)
      d.command('iax2-hangup', async (args) => {
        const name = String(args.channel ?? '');
        const ch = [...channels].find((c) => c.name === name);
        if (!ch) throw new Error(`no IAX2 channel ${name}; see palisade show iax2`);
        await ch.hangup('normal');
        return { channel: name, hungUp: true };
      });
      d.status('iax2', () => {
        const s = status();
        return {
          listen: s.listen,
          registrations: s.registrations.length,
          trunks: s.trunks.map((t) => ({ name: t.name, state: t.registration?.state ?? (t.address ? 'reachable' : 'unregistered') })),
          calls: s.calls.length,
        };
      });
    },
    async start(s) {
      cfg = (s.cfg.sections.iax2 as Iax2Config | undefined) ?? IAX2_DEFAULTS;
      const log = s.logs.get('iax2');
      const tokenOptional = CidrSet.parse(cfg.calltokenOptional);
      const iax2Of = (list: readonly TrunkConfig[]) => list.filter((t) => t.type === 'iax2');
      let allTrunks = iax2Of(s.trunkSet.current);
      if (cfg.listen.length === 0) {
        const warn = (list: readonly TrunkConfig[]): void => {
          if (iax2Of(list).length > 0) log.warn('iax2-not-listening', { trunks: iax2Of(list).map((t) => t.name), fix: 'give iax2.listen to use IAX2 trunks' });
        };
        warn(allTrunks);
        unfollow = s.trunkSet.follow(warn);
        return;
      }
      const moh = cfg.hold.mohinterpret;
      if (moh !== 'passthrough' && s.mediaServices.moh.load(moh).length === 0)
        log.warn('iax2-moh-class-missing', { mohinterpret: moh, fix: `add WAV files under moh/${moh}/ in the prompts folder, or set iax2.mohinterpret to default or passthrough` });
      const accounts = new Map(cfg.accounts.map((a) => [a.extension, a.secret]));
      const account = (username: string): Iax2Account | undefined => {
        for (const t of allTrunks) {
          const user = t.username ?? t.name;
          if (user === username && t.secret) return { username, secret: t.secret, kind: 'trunk', name: t.name, context: t.context ?? 'from-trunk' };
        }
        const secret = accounts.get(username);
        const ext = s.extensions.get(username);
        if (secret && ext) return { username, secret, kind: 'extension', name: username, context: ext.context };
        return undefined;
      };

      for (const l of cfg.listen) {
        const engine = new Iax2Engine({
          address: l.address,
          port: l.port,
          admit: (address) => s.defences.packetGate.admit(address, 'udp'),
          requireCallToken: (address) => cfg.calltoken && !tokenOptional.has(address),
          onError: (where, err) => log.error('iax2-error', { where, error: err.message }),
        });
        await engine.listen();
        engines.push(engine);
        const local = { transport: 'udp' as const, address: l.address, port: engine.localPort };
        new Iax2Server({
          engine,
          account,
          refresh: { min: cfg.minRefresh, max: cfg.refresh },
          registered: (acc, remote, refresh) => {
            const reg = (registered: boolean, kind: 'added' | 'refreshed' | 'removed') => {
              if (acc.kind === 'extension') {
                s.callEvents.emitRegistration({
                  extension: acc.name,
                  contact: `iax2:${remote.address}:${remote.port}`,
                  registered,
                  kind,
                  contacts: registered ? 1 : 0,
                  via: 'iax2',
                  at: Date.now(),
                });
              }
            };
            if (refresh === 0) {
              if (bindings.delete(acc.username)) reg(false, 'removed');
              log.info('iax2-unregistered', { username: acc.username, address: remote.address });
              return;
            }
            const prev = bindings.get(acc.username);
            const had = prev !== undefined;
            bindings.set(acc.username, { account: acc, remote, expires: Date.now() + refresh * 1000, registeredAt: new Date().toISOString(), count: (prev?.count ?? 0) + 1 });
            reg(true, had ? 'refreshed' : 'added');
            log.info('iax2-registered', { username: acc.username, kind: acc.kind, address: remote.address, port: remote.port, refresh });
          },
          authOutcome: (r) =>
            s.defences.authOutcome({
              ok: r.ok,
              reason: r.reason,
              method: r.method,
              service: 'IAX2',
              account: r.account,
              remote: { transport: 'udp', address: r.remote.address, port: r.remote.port },
              local,
              callId: r.callId,
              nonce: r.challenge,
              attempt: r.challenge,
            }),
          incoming: (call, acc, ies) => admitCall(call, acc, ies),
        });
        log.info('iax2-listening', { listen: `udp:${l.address}:${engine.localPort}` });
      }
      const engine = engines[0]!;

      const admitCall = (call: Iax2Call, acc: Iax2Account, ies: Ies): void => {
        const dialed = ies.str(Ie.CALLED_NUMBER) || 's';
        const format = chooseFormat(ies.u32(Ie.FORMAT) ?? ies.u64low(Ie.FORMAT2) ?? 0, ies.u32(Ie.CAPABILITY) ?? ies.u64low(Ie.CAPABILITY2) ?? 0);
        if (format === 0) return call.reject('Unable to negotiate codec', Cause.BEARERCAPABILITY_NOTAVAIL);
        const trunk = acc.kind === 'trunk' ? trunks.get(acc.name) : undefined;
        if (trunk?.cfg.allowFrom?.length && !CidrSet.parse(trunk.cfg.allowFrom).has(call.remote.address)) {
          log.info('iax2-trunk-refused', { trunk: acc.name, address: call.remote.address });
          return call.reject('No authority found', Cause.FACILITY_REJECTED);
        }
        const callerNum = acc.kind === 'extension' ? acc.name : ies.str(Ie.CALLING_NUMBER) || acc.name;
        const callerName = ies.str(Ie.CALLING_NAME) || callerNum;
        // the dialplan first, then the routes (an inbound route's DID on a trunk's context)
        const runner = s.callRouters;
        if (!runner.has(acc.context, dialed, callerNum)) {
          log.info('iax2-no-extension', { exten: dialed, context: acc.context });
          return call.reject('No such extension', Cause.UNALLOCATED);
        }
        call.accept(format);
        const ch = new Iax2Channel(
          {
            log,
            dialTechnologies: s.dialTechnologies,
            writeCdr: (rec) => void s.storage.cdr.insert(rec).catch((err: Error) => log.error('cdr-insert-failed', { error: err.message })),
            hold: { cfg: cfg.hold, moh: s.mediaServices.moh },
          },
          call,
          acc.name,
          callerNum,
          callerName,
          dialed,
          acc.context,
          { transport: 'udp', address: call.remote.address, port: call.remote.port, ...(acc.kind === 'extension' ? { account: acc.name } : {}) },
        );
        channels.add(ch);
        ch.emitPhase('start');
        void ch.ended.then(() => channels.delete(ch));
        log.info('iax2-channel-new', { channel: ch.name, exten: dialed, context: acc.context, codec: ch.media.codec });
        runner
          .run(ch, new EndpointMedia(ch, s.mediaServices))
          .catch((err: Error) => log.error('dialplan-failed', { channel: ch.name, error: err.stack ?? err.message }))
          .finally(() => void ch.hangup('normal'));
      };

      // ---- trunks: ours register to theirs, theirs (host: dynamic) register to us
      const forgetPeer = (st: TrunkState): void => {
        const b = bindings.get(st.username ?? st.name);
        if (b?.account.kind === 'trunk' && b.account.name === st.name) bindings.delete(st.username ?? st.name);
      };
      /** stop registering to the far end, telling it so (REGREL) when we were registered */
      const release = (st: TrunkState, why: string): void => {
        const reg = st.registration;
        if (!reg) return;
        st.registration = null;
        st.released = reg.release().then((released) => log.info('iax2-trunk-released', { trunk: st.name, why, released }));
      };
      /** the trunk's configuration now: its address looked up, its registration kept if nothing it depends on changed, else (re)started */
      const setTrunk = async (t: TrunkConfig, st: TrunkState | undefined): Promise<void> => {
        let resolved: PeerAddress | null = null;
        if (t.host !== 'dynamic') {
          try {
            resolved = { address: isIP(t.host) ? t.host : (await lookup(t.host)).address, port: t.port ?? IAX_DEFAULT_PORT };
          } catch (err) {
            log.error('iax2-trunk-unresolved', { trunk: t.name, host: t.host, error: (err as Error).message });
          }
        }
        if (!st) {
          const fresh: TrunkState = {
            cfg: t,
            name: t.name,
            maxChannels: 0,
            active: 0,
            resolved: null,
            registration: null,
            released: Promise.resolve(),
            address: () => {
              if (fresh.cfg.host === 'dynamic') {
                const b = bindings.get(fresh.username ?? fresh.name);
                return b && b.account.kind === 'trunk' && b.expires > Date.now() ? b.remote : null;
              }
              return fresh.resolved;
            },
          };
          st = fresh;
          trunks.set(t.name, st);
        } else {
          // a changed peer's binding was made with the old account: it registers again
          if (st.cfg.host === 'dynamic' && JSON.stringify(st.cfg) !== JSON.stringify(t)) forgetPeer(st);
          if (registrationOf(st.cfg, st.resolved) !== registrationOf(t, resolved)) release(st, 'changed');
        }
        const state = st;
        Object.assign(state, { cfg: t, username: t.username ?? t.name, secret: t.secret ?? undefined, maxChannels: t.maxChannels ?? 0, resolved });
        if (state.registration || !resolved || !t.register || !t.username || !t.secret) return;
        const reg = new Iax2Registration(engine, { remote: resolved, username: t.username, secret: t.secret, refresh: cfg.refresh });
        reg.onChange = (r) => log.info('iax2-trunk-registration', { trunk: t.name, state: r.state, refresh: r.refresh, registrations: r.registrations, error: r.lastError });
        state.registration = reg;
        // after the old registration's REGREL settled (it would otherwise remove the new binding at the server)
        void state.released.then(() => state.registration === reg && reg.start());
      };
      /** the trunk set now: gone trunks released and forgotten, new and changed ones (re)started; calls in progress keep their trunk */
      const applyTrunks = async (list: readonly TrunkConfig[]): Promise<void> => {
        const next = iax2Of(list);
        allTrunks = next;
        trunkContexts = new Set(list.map((t) => t.context ?? 'from-trunk'));
        const names = new Set(next.map((t) => t.name));
        for (const [name, st] of [...trunks]) {
          if (names.has(name)) continue;
          release(st, 'removed');
          forgetPeer(st);
          trunks.delete(name);
          log.info('iax2-trunk-removed', { trunk: name });
        }
        for (const t of next) {
          const st = trunks.get(t.name);
          if (st && JSON.stringify(st.cfg) === JSON.stringify(t)) continue;
          await setTrunk(t, st);
          if (st) log.info('iax2-trunk-changed', { trunk: t.name });
        }
      };

      // every trunk's context (SIP and IAX2): calls from there are a trunk's, never leaving by another unless a route allows it
      let trunkContexts = new Set<string>();
      await applyTrunks(s.trunkSet.current);
      unfollow = s.trunkSet.follow((list) => applyTrunks(list).catch((err: Error) => log.error('iax2-trunks-apply-failed', { error: err.message })));
      const outboundRoutes = (s.cfg.sections.routes as { outbound?: Array<{ name: string; allowTrunkCalls: boolean }> } | undefined)?.outbound ?? [];
      const trunkLink = (name: string): TrunkLinkStatus | undefined => {
        const t = trunks.get(name);
        if (!t) return undefined;
        const at = t.address();
        const address = at ? `${at.address}:${at.port}` : null;
        if (t.cfg.host === 'dynamic') {
          const b = bindings.get(t.username ?? t.name);
          const live = b && b.account.kind === 'trunk' && b.expires > Date.now() ? b : undefined;
          return {
            registration: live ? 'peer-registered' : 'peer-unregistered',
            address,
            expires: live ? Math.max(0, Math.round((live.expires - Date.now()) / 1000)) : '',
            registrations: live ? live.count : '',
            failures: '',
            lastError: '',
            active: t.active,
          };
        }
        const r = t.registration?.status;
        if (!r) return { registration: 'none', address, expires: '', registrations: '', failures: '', lastError: '', active: t.active };
        const left = r.lastRegistered ? r.refresh - (Date.now() - Date.parse(r.lastRegistered)) / 1000 : 0;
        return {
          registration: r.state,
          address,
          expires: r.state === 'registered' ? Math.max(0, Math.round(left)) : '',
          registrations: r.registrations,
          failures: r.failures,
          lastError: r.lastError ?? '',
          active: t.active,
        };
      };
      unregister = s.dialTechnologies.register(
        iax2DialTechnology({
          engine,
          trunk: (name) => trunks.get(name),
          peer: (name) => {
            const b = bindings.get(name);
            return b && b.account.kind === 'extension' && b.expires > Date.now() ? b.remote : null;
          },
          isPeer: (name) => accounts.has(name),
          gate: s.defences.callGate,
          log,
          trunkStatus: (name) => trunkLink(name),
          isTrunkContext: (c) => trunkContexts.has(c),
          routeAllowsTrunkCalls: (name) => outboundRoutes.some((r) => r.name === name && r.allowTrunkCalls),
          hold: { cfg: cfg.hold, moh: s.mediaServices.moh },
        }),
      );
      sweep = setInterval(() => {
        const now = Date.now();
        for (const [k, b] of bindings) {
          if (b.expires > now) continue;
          bindings.delete(k);
          log.info('iax2-registration-expired', { username: k, address: b.remote.address });
          if (b.account.kind === 'extension') {
            s.callEvents.emitRegistration({
              extension: b.account.name,
              contact: `iax2:${b.remote.address}:${b.remote.port}`,
              registered: false,
              kind: 'removed',
              contacts: 0,
              via: 'iax2',
              at: now,
            });
          }
        }
      }, 5000);
      sweep.unref();
    },
    async stop() {
      unfollow?.();
      unfollow = null;
      if (sweep) clearInterval(sweep);
      unregister?.();
      for (const c of [...channels]) await c.hangup('normal');
      for (const t of trunks.values()) t.registration?.stop();
      // let the HANGUPs leave before the sockets close
      if (channels.size > 0) await new Promise((r) => setTimeout(r, 100));
      for (const e of engines) e.close();
      engines.length = 0;
      trunks.clear();
      bindings.clear();
    },
  };
}
