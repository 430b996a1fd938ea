// Requests from trunks, taken before the core sees them (RoutingStage.claim):
//
// - INVITE from a trunk: recognised by where it comes from — an allow_from
//   network, the trunk's host address and port, or the address a dynamic
//   trunk registered from — and, with auth_inbound, by the trunk's digest.
//   It enters the dialplan in the trunk's context (default from-trunk) as a
//   channel that proves no extension; it is not challenged as an extension.
//   Anything else goes on to the B2BUA, which challenges it exactly as
//   before: an unknown address learns nothing new.
// - REGISTER for a dynamic trunk's username (host: dynamic, the far end
//   registers to us, as Asterisk's host=dynamic): answered here with the
//   same 401 the registrar sends, checked against the trunk's secret.
import { isIP } from 'node:net';
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { DigestAuthenticator, credentialsIdentity } from '../../sip/auth/digest.js';
import { computeHa1 } from '../../sip/auth/ha1.js';
import type { ServerNames } from '../../sip/auth/digest-uri.js';
import { randomHex } from '../../sip/dialog/dialog.js';
import type { Remote } from '../../transport/types.js';
import type { ServerTxHandle, CallTicket } from '../../sip/b2bua/types.js';
import { CidrSet } from '../../core/cidr.js';
import type { AuthOutcome } from '../../core/auth.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { DigestAlgorithm } from '../../core/auth.js';
import type { Logger } from '../../observability/logger.js';
import type { ExtensionInfo } from '../../core/directory.js';
import type { ChannelOrigin } from '../../channel/sip-channel.js';
import type { TrunkConfig } from './trunk-config.js';

export interface DynamicBinding {
  contactUri: string;
  /** where its REGISTER came from: calls to the trunk go there, its calls come from there */
  remote: Remote;
  expiresAt: number;
}

export interface InboundDeps {
  realm: string;
  /** this server's names and ports: a digest-uri naming the server itself is accepted (sip/auth/digest-uri.ts) */
  server: ServerNames;
  algorithms: DigestAlgorithm[];
  userAgent: string;
  log: Logger;
  authOutcome(o: AuthOutcome): void;
  callGate: CallGateApi;
  /** does the dialplan or a route take `exten` in `context`? */
  routes(context: string, exten: string, callerId: string): boolean;
  accept(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, dialled: string, ticket: CallTicket | undefined, origin: ChannelOrigin): void;
  /** the trunk may take one more call (max_channels); counts it when true */
  claimChannel(trunk: string): boolean;
  releaseChannel(trunk: string): void;
  /** the resolved addresses of a trunk's host (filled in when resolved) */
  hostAddresses(trunk: string): readonly Remote[];
  now(): number;
  /** registrar limits for a dynamic trunk's binding */
  minExpires: number;
  maxExpires: number;
}

export class TrunkInbound {
  private readonly auth: DigestAuthenticator;
  private readonly nets = new Map<string, CidrSet>();
  readonly dynamic = new Map<string, DynamicBinding>();
  /** several workers: a dynamic trunk's binding changed here (null: unregistered), for the others */
  onDynamic: ((trunk: string, b: DynamicBinding | null) => void) | null = null;
  private readonly byUser = new Map<string, TrunkConfig>();
  /** every SIP trunk's account name: a Request-URI naming one of them carries the DID in To */
  private readonly accounts = new Set<string>();
  stats = { invites: 0, refused: 0, registers: 0 };

  private trunks: readonly TrunkConfig[] = [];

  constructor(
    trunks: readonly TrunkConfig[],
    private readonly d: InboundDeps,
  ) {
    this.setTrunks(trunks);
    this.auth = new DigestAuthenticator({
      realm: d.realm,
      algorithms: d.algorithms,
      server: d.server,
      lookupHa1: (user) => {
        const t = this.byUser.get(user);
        if (!t || t.secret === null) return undefined;
        return { md5: computeHa1('MD5', user, d.realm, t.secret), sha256: computeHa1('SHA-256', user, d.realm, t.secret) };
      },
    });
  }

  /** the trunks now (the API changed them): a dynamic trunk that is gone or changed loses its binding */
  setTrunks(trunks: readonly TrunkConfig[]): void {
    const before = new Map(this.trunks.map((t) => [t.name, JSON.stringify(t)]));
    this.trunks = trunks;
    this.nets.clear();
    this.byUser.clear();
    this.accounts.clear();
    for (const t of trunks) {
      if (t.type !== 'sip') continue;
      if (t.username) this.accounts.add(t.username);
      if (t.allowFrom.length) this.nets.set(t.name, CidrSet.parse(t.allowFrom));
      if (t.username && t.secret !== null && (t.host === 'dynamic' || t.authInbound)) this.byUser.set(t.username, t);
    }
    const now = new Map(trunks.map((t) => [t.name, JSON.stringify(t)]));
    for (const name of [...this.dynamic.keys()]) if (now.get(name) !== before.get(name)) this.dynamic.delete(name);
  }

  /** the trunk a request from `remote` belongs to, by address; null for anyone else */
  identify(remote: Remote): TrunkConfig | null {
    for (const t of this.trunks) {
      if (t.type !== 'sip') continue;
      if (this.nets.get(t.name)?.has(remote.address)) return t;
      if (t.host === 'dynamic') {
        const b = this.dynamic.get(t.name);
        if (b && b.expiresAt > this.d.now() && b.remote.address === remote.address && b.remote.port === remote.port) return t;
        continue;
      }
      // the trunk's own host: its address and the port it sends from (a SIP peer sends from its listening port)
      for (const h of this.d.hostAddresses(t.name)) if (h.address === remote.address && h.port === remote.port) return t;
    }
    return null;
  }

  /** RoutingStage claim for INVITE: true when the INVITE was a trunk's and is handled */
  onInvite = (tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean => {
    if (req.to.params.tag !== undefined) return false;
    const trunk = this.identify(remote);
    if (!trunk) return false;
    this.stats.invites++;
    const server = this.d.userAgent;
    if (trunk.authInbound) {
      const v = this.auth.verify('INVITE', req.get('proxy-authorization'), { proxy: true, requestUri: req.uri });
      const ids = { method: 'INVITE', remote, callId: req.callId, cseq: req.cseq.seq, userAgent: req.get('user-agent') };
      if (!v.ok || v.user !== trunk.username) {
        const c = credentialsIdentity(req.get('proxy-authorization'));
        if (!v.ok && v.reason !== 'missing') this.d.log.info('trunk-auth-failed', { trunk: trunk.name, method: 'INVITE', reason: v.reason, from: remote.address });
        if (!v.ok && v.reason !== 'missing') this.d.authOutcome({ ok: false, reason: v.reason, account: c.username ?? '', nonce: c.nonce, attempt: c.attempt, ...ids });
        if (v.ok) this.d.authOutcome({ ok: false, reason: 'forbidden', account: v.user, ...ids });
        tx.respondStateless(
          buildResponse(req, 407, 'Proxy Authentication Required', {
            toTag: randomHex(6),
            server,
            headers: this.auth.challenge({ proxy: true, stale: !v.ok && v.reason === 'stale' }),
          }),
        );
        return true;
      }
      this.d.authOutcome({ ok: true, account: v.user, ...ids });
    }
    const dialled = this.dialled(req, trunk);
    const callerNum = cleanNumber(req.from.uri.user ?? '') || 'anonymous';
    const refuse = (status: number, reason: string, why: string) => {
      this.stats.refused++;
      this.d.log.info('trunk-call-refused', { trunk: trunk.name, to: dialled, from: remote.address, status, why });
      tx.respond(buildResponse(req, status, reason, { toTag: randomHex(6), server }));
      return true;
    };
    if (!dialled || !this.d.routes(trunk.context, dialled, callerNum)) return refuse(404, 'Not Found', 'no-route');
    // the call gate: the trunk is the principal (its ACL, limits; internal and emergency only unless permitted)
    const g = this.d.callGate.check({ caller: '', trunk: trunk.name, dialled, remote, callId: req.callId, inbound: true });
    if (!g.ok) return refuse(g.status, g.reason, g.verdict);
    if (!this.d.claimChannel(trunk.name)) {
      g.ticket.ended(0);
      return refuse(503, 'Service Unavailable', `max_channels:${trunk.maxChannels}`);
    }
    const caller: ExtensionInfo = { number: callerNum, name: req.from.displayName ?? '', context: trunk.context, directMedia: false };
    const ticket: CallTicket = {
      answered: (cut) => g.ticket.answered(cut),
      ended: (billsec, declined) => {
        this.d.releaseChannel(trunk.name);
        g.ticket.ended(billsec, declined);
      },
    };
    this.d.accept(tx, req, remote, caller, dialled, ticket, { trunk: trunk.name });
    return true;
  };

  /** the number the far end dialled */
  private dialled(req: SipMessage, trunk: TrunkConfig): string {
    return dialledNumber(req.ruri.user ?? '', req.to.uri.user ?? '', (u) => u === trunk.username);
  }

  /** is `user` the account name of some SIP trunk (before the request's trunk is known) */
  isAccount(user: string): boolean {
    return this.accounts.has(user);
  }

  /** RoutingStage claim for REGISTER: a dynamic trunk's registration */
  onRegister = (tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean => {
    const user = req.to.uri.user ?? '';
    const trunk = this.byUser.get(user);
    if (trunk?.host !== 'dynamic') return false;
    this.stats.registers++;
    const server = this.d.userAgent;
    const v = this.auth.verify('REGISTER', req.get('authorization'), { proxy: false, requestUri: req.uri, body: req.body });
    const ids = { method: 'REGISTER', remote, callId: req.callId, cseq: req.cseq.seq, userAgent: req.get('user-agent') };
    if (!v.ok) {
      const c = credentialsIdentity(req.get('authorization'));
      this.d.authOutcome({ ok: false, reason: v.reason, account: c.username ?? user, nonce: c.nonce, attempt: c.attempt, ...ids });
      if (v.reason === 'uri-mismatch') {
        tx.respond(buildResponse(req, 400, 'Digest URI Mismatch', { toTag: randomHex(6), server }));
        return true;
      }
      tx.respondStateless(buildResponse(req, 401, undefined, { toTag: randomHex(6), server, headers: this.auth.challenge({ proxy: false, stale: v.reason === 'stale' }) }));
      return true;
    }
    if (v.user !== user) {
      this.d.authOutcome({ ok: false, reason: 'forbidden', account: v.user, ...ids });
      tx.respond(buildResponse(req, 403, undefined, { toTag: randomHex(6), server }));
      return true;
    }
    this.d.authOutcome({ ok: true, account: v.user, ...ids });
    const contact = req.contacts[0];
    const asked = Number(contact?.params.expires ?? req.get('expires') ?? 3600);
    if (!contact || asked === 0 || req.get('contact')?.trim() === '*') {
      this.dynamic.delete(trunk.name);
      this.onDynamic?.(trunk.name, null);
      this.d.log.info('trunk-peer-unregistered', { trunk: trunk.name, from: remote.address });
      tx.respond(buildResponse(req, 200, 'OK', { toTag: randomHex(6), server }));
      return true;
    }
    if (asked < this.d.minExpires) {
      tx.respond(buildResponse(req, 423, 'Interval Too Brief', { toTag: randomHex(6), server, headers: [['min-expires', String(this.d.minExpires)]] }));
      return true;
    }
    const expires = Math.min(Number.isFinite(asked) ? asked : 3600, this.d.maxExpires);
    const first = !this.dynamic.has(trunk.name);
    const b: DynamicBinding = { contactUri: contact.uri.raw, remote: { ...remote }, expiresAt: this.d.now() + expires * 1000 };
    this.dynamic.set(trunk.name, b);
    this.onDynamic?.(trunk.name, b);
    this.d.log.info(first ? 'trunk-peer-registered' : 'trunk-peer-refreshed', { trunk: trunk.name, from: `${remote.address}:${remote.port}`, expires });
    tx.respond(
      buildResponse(req, 200, 'OK', {
        toTag: randomHex(6),
        server,
        headers: [
          ['contact', `<${contact.uri.raw}>;expires=${expires}`],
          ['expires', String(expires)],
        ],
      }),
    );
    return true;
  };

  /** another worker took the trunk's REGISTER (sip.workers > 1): its calls go there from here too, and its calls in are known */
  adoptDynamic(trunk: string, b: DynamicBinding | null): void {
    if (b) this.dynamic.set(trunk, b);
    else this.dynamic.delete(trunk);
  }

  /** a dynamic trunk's current binding (null when it has not registered or it expired) */
  binding(trunk: string): DynamicBinding | null {
    const b = this.dynamic.get(trunk);
    return b && b.expiresAt > this.d.now() ? b : null;
  }
}

/**
 * The number a carrier dialled: the Request-URI's user, or the To user when
 * the Request-URI names our account with it (a registered trunk: the
 * carrier sends INVITE sip:ACCOUNT@pbx and puts the DID in To).
 */
export function dialledNumber(ruriUser: string, toUser: string, isAccount: (user: string) => boolean): string {
  const r = cleanNumber(ruriUser);
  if (r && !isAccount(r)) return r;
  return cleanNumber(toUser) || r;
}

/** digits, * # and a leading +; anything else in a user part is dropped */
export function cleanNumber(user: string): string {
  const m = /^\+?[0-9*#]+/.exec(decodeURIComponent(user.replace(/%(?![0-9a-fA-F]{2})/g, '')));
  return m ? m[0] : '';
}

export function isAddress(host: string): boolean {
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}
