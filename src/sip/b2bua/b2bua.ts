// The back-to-back user agent: takes authenticated INVITEs from extensions,
// finds the callee's contacts and bridges the call (see call.ts), routes
// in-dialog requests and ACKs to the right call, and writes a CDR for every
// attempt.
import { systemPrefix } from '../../core/system-name.js';
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { dialogKey, newToken } from '../dialog/dialog.js';
import type { Dialog } from '../dialog/dialog.js';
import type { ListenPoint, Remote, Sender } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import { Call } from './call.js';
import { checkEncryption } from './encryption-policy.js';
import { formatHost } from '../../transport/address.js';
import { credentialsIdentity } from '../auth/digest.js';
import type {
  AuthApi,
  BindingInfo,
  CallAttempt,
  GateDecision,
  CallGateApi,
  CallTicket,
  CdrRecord,
  ClientTxHandle,
  ClientTxHandlers,
  DialogOwner,
  DialplanRouting,
  ExtensionInfo,
  MediaApi,
  ServerTxHandle,
  TxApi,
} from './types.js';
import type { DirectRinging, DirectServices, ReplacedParty, SipLegHost } from './leg-host.js';
import { parseReplaces, type ReplacesId } from './refer.js';
import type { CdrSink } from '../../core/cdr.js';
import type { ExtensionDirectory, LocationLookup } from '../../core/directory.js';
import { DiversionPort, type Diversion } from '../../core/call-diversion.js';

export interface B2buaConfig {
  domain: string;
  userAgent: string;
  ringTimeoutMs: number;
  maxDurationMs: number;
}
import type { CallEvent } from '../../core/call-events.js';

export interface B2buaDeps {
  tx: TxApi;
  auth: AuthApi;
  media: MediaApi;
  extensions: ExtensionDirectory;
  location: LocationLookup;
  cdr: CdrSink;
  /** the call gate (src/security/fraud); every call is let through when absent */
  gate?: CallGateApi;
  /** when set, calls the dialplan handles go to a channel instead (main.ts wires it) */
  dialplan?: DialplanRouting;
  /** every authentication outcome, for the intrusion-detection layer (no secrets in it) */
  onAuth?: (e: {
    ok: boolean;
    reason?: string;
    method: string;
    account: string;
    remote: Remote;
    callId: string;
    cseq: number;
    nonce?: string;
    attempt?: string;
    userAgent?: string;
  }) => void;
  /** a call refused by the per-extension encryption policy (a RequestNotAllowed security event) */
  onEncryptionRefused?: (e: { account: string; remote: Remote; callId: string; detail: string }) => void;
  /** call and device-state events (src/core/call-events.ts) */
  callEvents?: { emitCall(e: CallEvent): void };
}

export class B2bua implements SipLegHost {
  /**
   * What we serve, in every Allow header we send; the UAS core refuses an
   * in-dialog method left out of it with 405 (ua-core.ts). REFER is served
   * in a call's dialogs (call transfer, call-transfer.ts and the channels);
   * out of a dialog it is challenged, then refused with 405. A module that
   * serves another method out of a dialog (PUBLISH, by the presence module)
   * adds it with serve().
   */
  get allow(): string {
    if (this.allowText === '') this.allowText = [...this.served].join(', ');
    return this.allowText;
  }
  private readonly served = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'MESSAGE', 'NOTIFY', 'REGISTER', 'SUBSCRIBE', 'REFER']);
  private allowText = '';

  /** a method served from now on: named in every Allow header */
  serve(method: string): void {
    const m = method.toUpperCase();
    if (this.served.has(m)) return;
    this.served.add(m);
    this.allowText = '';
  }
  /** in-dialog requests: Call-ID + our tag → call and leg */
  private dialogs = new Map<string, { call: Call; leg: 'a' | 'b' }>();
  /** forks awaiting an answer, by Call-ID + our From tag (for retransmitted 2xx) */
  private forks = new Map<string, Call>();
  /** A-leg INVITE transactions still ringing, by Call-ID + From tag (for CANCEL) */
  private ringing = new Map<string, Call>();
  private calls = new Set<Call>();
  private retransmits = new WeakMap<Call, { stop(): void }[]>();
  private forkKeys = new WeakMap<Call, string[]>();
  stats = { attempts: 0, answered: 0, failed: 0 };
  /** do-not-disturb and call forwarding of extensions (a module installs the policy) */
  readonly diversion = new DiversionPort();
  /** transfer services (parking) a direct call's blind REFER may name: the channel layer sets them */
  directServices?: DirectServices;
  /** dialogs owned by channels (and their outgoing legs), by Call-ID + our tag */
  private owned = new Map<string, DialogOwner>();

  constructor(
    readonly cfg: B2buaConfig,
    readonly deps: B2buaDeps,
    readonly sender: Sender,
    readonly log: Logger,
  ) {}

  // ------------------------------------------------ SipLegHost (leg-host.ts)

  get userAgent(): string {
    return this.cfg.userAgent;
  }

  get domain(): string {
    return this.cfg.domain;
  }

  localFor(remote: Remote): ListenPoint {
    return this.sender.localFor(remote);
  }

  sendRequest(req: SipMessage, remote: Remote, h: ClientTxHandlers): ClientTxHandle {
    return this.deps.tx.sendRequest(req, remote, h);
  }

  sendStateless(req: SipMessage, remote: Remote): void {
    this.deps.tx.sendStateless(req, remote);
  }

  retransmit2xx(res: SipMessage, remote: Remote, onGiveUp: () => void): { stop(): void } {
    return this.deps.tx.retransmit2xx(res, remote, onGiveUp);
  }

  sendInDialog(dialog: Dialog, method: string, opts: { body?: Buffer; contentType?: string } = {}): void {
    const req = dialog.createRequest(method, { ...opts, userAgent: this.cfg.userAgent });
    this.deps.tx.sendRequest(req, dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
  }

  extension(number: string): ExtensionInfo | undefined {
    return this.deps.extensions.get(number);
  }

  contacts(aor: string): BindingInfo[] {
    return this.deps.location.lookup(aor);
  }

  writeCdr(rec: CdrRecord): void {
    this.deps.cdr.write(rec);
  }

  diversionOf(extension: string): Diversion | undefined {
    return this.diversion.of(extension);
  }

  gateCheck(a: CallAttempt): GateDecision | undefined {
    return this.deps.gate?.check(a);
  }

  // ------------------------------------------------------------------ calls

  get activeCalls(): number {
    return this.calls.size;
  }

  listCalls(): Record<string, unknown>[] {
    return [...this.calls].map((c) => c.summary());
  }

  /**
   * RFC 3261 §8.1.1.8 / §12.1.1: when the peer's Request-URI or Contact is a
   * SIPS URI (and the hop is TLS), our Contact must be a SIPS URI too.
   */
  contactFor(remote: Remote, user: string, sips = false): string {
    const l = this.sender.localFor(remote);
    if (sips && remote.transport === 'tls') return `<sips:${user}@${formatHost(l.address)}:${l.port}>`;
    const t = remote.transport === 'udp' ? '' : `;transport=${remote.transport}`;
    return `<sip:${user}@${formatHost(l.address)}:${l.port}${t}>`;
  }

  /** an out-of-dialog INVITE */
  onInvite(tx: ServerTxHandle, req: SipMessage, remote: Remote): void {
    const server = this.cfg.userAgent;
    // Authenticate first, before looking at the target: the answer must not
    // depend on whether the caller or callee exists (anti-enumeration).
    // the digest-uri rule is the authenticator's, the same for every method (sip/auth/digest-uri.ts)
    const v = this.deps.auth.verify('INVITE', req.get('proxy-authorization'), { proxy: true, requestUri: req.uri });
    const authIds = { method: 'INVITE', remote, callId: req.callId, cseq: req.cseq.seq, userAgent: req.get('user-agent') };
    if (!v.ok) {
      if (v.reason !== 'missing') this.log.info('auth-failed', { method: 'INVITE', reason: v.reason, from: remote.address, port: remote.port });
      const c = credentialsIdentity(req.get('proxy-authorization'));
      this.deps.onAuth?.({ ok: false, reason: v.reason, account: c.username ?? req.from.uri.user ?? '', nonce: c.nonce, attempt: c.attempt, ...authIds });
      // RFC 2617 §3.2.2.5: a digest-uri naming another resource SHOULD get 400,
      // as the registrar and the UAS core answer it (a new challenge would only loop)
      if (v.reason === 'uri-mismatch') {
        tx.respondStateless(buildResponse(req, 400, 'Digest URI Mismatch', { toTag: newToken(), server }));
        return;
      }
      tx.respondStateless(
        buildResponse(req, 407, 'Proxy Authentication Required', { toTag: newToken(), server, headers: this.deps.auth.challenge({ proxy: true, stale: v.reason === 'stale' }) }),
      );
      return;
    }
    this.stats.attempts++;
    const caller = this.deps.extensions.get(v.user);
    const fromUser = req.from.uri.user;
    this.deps.onAuth?.({ ok: !!caller && fromUser === v.user, reason: 'forbidden', account: v.user, ...authIds });
    if (!caller || fromUser !== v.user) {
      // RFC 3261 §22.3 leaves identity binding to policy: an extension may only call as itself.
      const who = caller ?? { number: v.user, name: '', context: '', directMedia: false };
      this.rejectAttempt(tx, req, remote, who, req.ruri.user ?? '', 403, 'Forbidden', 'FAILED', `identity-mismatch: From ${fromUser ?? '(none)'}`);
      return;
    }
    // No 100 Trying of our own: the INVITE server transaction sends one if no
    // other answer goes out within 200 ms (RFC 3261 §17.2.1), which spares a
    // packet on every call whose callee rings at once.
    const dialled = req.ruri.user ?? '';
    let callee = dialled ? this.deps.extensions.get(dialled) : undefined;
    // The call gate: fraud rules, limits, reputation. Its refusal names no
    // rule to the caller (a generic 403); the reason goes to the log and CDR.
    let ticket: CallTicket | undefined;
    let verdict = 'authenticated';
    if (this.deps.gate) {
      const d = this.deps.gate.check({ caller: caller.number, dialled, callee: callee?.number, remote, callId: req.callId });
      verdict = d.verdict;
      if (!d.ok) {
        this.log.info('call-refused', { from: caller.number, to: dialled, verdict: d.verdict, remote: remote.address });
        this.rejectAttempt(tx, req, remote, caller, dialled, d.status, d.reason, d.status === 486 ? 'BUSY' : 'FAILED', d.verdict);
        return;
      }
      ticket = d.ticket;
    }
    // RFC 3891: an INVITE with Replaces takes the place of the dialog it
    // names (a phone completing an attended transfer, a call moved to another
    // phone); one naming no dialog we can replace gets 481 (§3)
    const replaces = req.get('replaces');
    if (replaces !== undefined) {
      const r = parseReplaces(replaces);
      if (!r) {
        this.rejectAttempt(tx, req, remote, caller, dialled, 400, 'Bad Replaces Header', 'FAILED', verdict);
        ticket?.ended(0);
        return;
      }
      if (this.deps.dialplan?.replacing?.(tx, req, remote, caller, r, ticket)) return;
      this.log.info('replaces-no-dialog', { from: caller.number, to: dialled });
      this.rejectAttempt(tx, req, remote, caller, dialled, 481, 'Call/Transaction Does Not Exist', 'FAILED', verdict);
      ticket?.ended(0);
      return;
    }
    // A number the dialplan claims (IVR, voicemail, Dial() to extensions)
    // runs there, after the gate: limits, reputation and fraud rules hold for
    // dialplan calls as for direct ones, and the ticket follows the channel.
    const plan = this.deps.dialplan;
    if (plan?.routes(caller, dialled)) {
      plan.accept(tx, req, remote, caller, dialled, ticket);
      return;
    }
    const dv = callee ? this.diversion.of(callee.number) : undefined;
    if (callee && dv?.dnd) {
      // do not disturb: busy, without ringing anything
      this.log.info('call-dnd', { from: caller.number, to: callee.number });
      this.rejectAttempt(tx, req, remote, caller, dialled, 486, 'Busy Here', 'BUSY', verdict);
      ticket?.ended(0);
      return;
    }
    const always = dv?.always ? this.deps.extensions.get(dv.always) : undefined;
    if (callee && always) {
      // unconditional forward: one hop, to another extension
      this.log.info('call-forwarded', { from: caller.number, to: callee.number, target: always.number, why: 'always' });
      callee = always;
    }
    if (!callee) {
      // no trunks yet: a number that is not ours has nowhere to go
      this.rejectAttempt(tx, req, remote, caller, dialled, 404, 'Not Found', 'FAILED', verdict);
      ticket?.ended(0);
      return;
    }
    let bindings = this.deps.location.lookup(callee.number);
    if (bindings.length === 0) {
      this.rejectAttempt(tx, req, remote, caller, dialled, 480, 'Temporarily Unavailable', 'NO ANSWER', verdict);
      ticket?.ended(0);
      return;
    }
    const enc = checkEncryption(caller, callee, remote, req.body, bindings);
    if (!enc.ok) {
      this.log.warn('encryption-required', { caller: caller.number, callee: callee.number, from: remote.address, transport: remote.transport, status: enc.status, why: enc.why });
      this.deps.onEncryptionRefused?.({ account: caller.number, remote, callId: req.callId, detail: enc.why });
      this.rejectAttempt(tx, req, remote, caller, dialled, enc.status, enc.reason, 'FAILED', 'encryption-required');
      ticket?.ended(0);
      return;
    }
    bindings = enc.bindings;
    const call = new Call(this, tx, req, remote, caller, callee, dialled);
    call.verdict = verdict;
    call.ticket = ticket;
    if (!always && dv)
      call.forwardTo({
        busy: dv.busy ? this.deps.extensions.get(dv.busy) : undefined,
        noAnswer: dv.noAnswer ? this.deps.extensions.get(dv.noAnswer) : undefined,
        noAnswerSecs: dv.noAnswerSecs,
      });
    this.calls.add(call);
    this.ringing.set(req.callId + '\u0000' + (req.from.params.tag ?? ''), call);
    call.begin(bindings);
  }

  private rejectAttempt(
    tx: ServerTxHandle,
    req: SipMessage,
    remote: Remote,
    caller: ExtensionInfo,
    dialled: string,
    status: number,
    reason: string,
    disposition: CdrRecord['disposition'],
    verdict = 'authenticated',
  ): void {
    tx.respond(buildResponse(req, status, reason, { toTag: newToken(), server: this.cfg.userAgent }));
    const now = new Date();
    this.stats.failed++;
    this.deps.cdr.write({
      accountcode: '',
      src: caller.number,
      dst: dialled,
      dcontext: caller.context,
      clid: `"${req.from.displayName ?? caller.name}" <${caller.number}>`,
      channel: `SIP/${caller.number}-${newToken().slice(0, 8)}`,
      dstchannel: '',
      lastapp: 'Dial',
      lastdata: dialled,
      start: now,
      answer: null,
      end: now,
      duration: 0,
      billsec: 0,
      disposition,
      amaflags: 'DOCUMENTATION',
      uniqueid: `${systemPrefix()}${Math.floor(now.getTime() / 1000)}.${newToken()}`,
      userfield: `${status} ${reason}`,
      sourceIp: remote.address,
      securityVerdict: verdict,
    });
  }

  /** CANCEL matched to a ringing INVITE (the transaction layer already answered the CANCEL) */
  onCancel(req: SipMessage): void {
    const owner = this.owned.get(cancelKey(req.callId, req.from.params.tag ?? ''));
    if (owner) return owner.onCancel();
    const call = this.ringing.get(req.callId + '\u0000' + (req.from.params.tag ?? ''));
    call?.onCancel();
  }

  /** a request with a To tag */
  onInDialog(tx: ServerTxHandle, req: SipMessage): boolean {
    const owner = this.owned.get(dialogKey(req.callId, req.to.params.tag ?? ''));
    if (owner) {
      owner.onRequest(tx, req);
      return true;
    }
    const entry = this.dialogs.get(dialogKey(req.callId, req.to.params.tag ?? ''));
    if (!entry) return false;
    entry.call.onInDialogRequest(entry.leg, tx, req);
    return true;
  }

  /** an ACK outside any transaction: for our 2xx */
  onAck(req: SipMessage): void {
    const owner = this.owned.get(dialogKey(req.callId, req.to.params.tag ?? ''));
    if (owner) return owner.onAck(req);
    const entry = this.dialogs.get(dialogKey(req.callId, req.to.params.tag ?? ''));
    if (entry && entry.leg === 'a') entry.call.onAckFromA(req);
    else if (entry && entry.leg === 'b') {
      this.stopReinviteRetransmits(entry.call);
      entry.call.onAckFromB(req);
    }
  }

  /** a 2xx retransmitted by a callee whose ACK was lost: ACK it again */
  onStray2xx(res: SipMessage): boolean {
    const call = this.forks.get(res.callId + '\u0000' + (res.from.params.tag ?? ''));
    if (!call) return false;
    const d = call.b;
    if (d && d.localTag === res.from.params.tag) {
      const ack = d.createRequest('ACK', { cseq: res.cseq.seq });
      this.deps.tx.sendStateless(ack, d.remote);
    }
    return true;
  }

  trackFork(call: Call, callId: string, fromTag: string): void {
    const key = callId + '\u0000' + fromTag;
    this.forks.set(key, call);
    const keys = this.forkKeys.get(call);
    if (keys) keys.push(key);
    else this.forkKeys.set(call, [key]);
  }

  trackDialog(call: Call, d: Dialog, leg: 'a' | 'b'): void {
    this.dialogs.set(d.key, { call, leg });
  }

  untrackDialog(d: Dialog): void {
    this.dialogs.delete(d.key);
  }

  /**
   * A call's dialog (Call-ID + our tag), when its remote tag is `remoteTag`
   * too: what a Replaces header names (RFC 3891 §3), with the side it is in.
   */
  findDialog(callId: string, localTag: string, remoteTag: string): { call: Call; side: 'a' | 'b' } | undefined {
    const e = this.dialogs.get(dialogKey(callId, localTag));
    if (!e) return undefined;
    const d = e.call.dialogOf(e.leg);
    return d && d.remoteTag === remoteTag ? { call: e.call, side: e.leg } : undefined;
  }

  /** the direct calls ringing now, for pickup (src/features/office/pickup.ts through the channels) */
  ringingDirect(): DirectRinging[] {
    const out: DirectRinging[] = [];
    for (const call of this.ringing.values()) {
      if (call.state !== 'ringing') continue;
      out.push({
        caller: call.caller,
        callee: call.callee.number,
        since: call.start.getTime(),
        early: () => call.earlyDialogs(),
        take: (by) => {
          const taken = call.takeCaller(by);
          if (taken) this.ringing.delete(call.a.callId + '\u0000' + call.a.remoteTag);
          return taken;
        },
      });
    }
    return out;
  }

  /**
   * A direct call's party named by a Replaces for a channel's attended
   * transfer: the dialog must face `transferor` in an answered call; its
   * other party is the one that moves.
   */
  replacedParty(r: ReplacesId, transferor?: string): ReplacedParty | undefined {
    const found = this.findDialog(r.callId, r.toTag, r.fromTag);
    if (found?.call.state !== 'answered' || (transferor !== undefined && found.call.partyOf(found.side).number !== transferor)) return undefined;
    const { call, side } = found;
    const stay = side === 'a' ? 'b' : 'a';
    const dialog = call.dialogOf(stay)!;
    return {
      dialog,
      party: call.partyOf(stay),
      get live() {
        return call.state === 'answered';
      },
      release: (how) => {
        const ticket = call.takeTicket();
        // the party's dialog is the channel's now (ownDialog comes first in onInDialog); BYE goes to the transferor only
        this.dialogs.delete(dialog.key);
        call.hangup(`replaced: ${how}`, side);
        return ticket;
      },
    };
  }

  /**
   * A dialog a transfer took out of its call: it gets BYE (unless `bye` is
   * false: sent already), and for a while its phone's own BYE or a late
   * NOTIFY answer is still 200 rather than 481.
   */
  leaving(d: Dialog, bye = true): void {
    if (bye) this.sendInDialog(d, 'BYE');
    const release = () => this.releaseDialog(d.callId, d.localTag);
    const timer = setTimeout(release, 32_000);
    timer.unref();
    this.ownDialog(d.callId, d.localTag, {
      onRequest: (tx, req) => {
        tx.respond(
          buildResponse(
            req,
            req.method === 'BYE' || req.method === 'NOTIFY' ? 200 : 481,
            req.method === 'BYE' || req.method === 'NOTIFY' ? 'OK' : 'Call/Transaction Does Not Exist',
            { server: this.cfg.userAgent },
          ),
        );
        if (req.method === 'BYE') {
          clearTimeout(timer);
          release();
        }
      },
      onAck: () => undefined,
      onCancel: () => undefined,
    });
  }

  trackReinviteRetransmit(call: Call, r: { stop(): void }): void {
    const list = this.retransmits.get(call) ?? [];
    list.push(r);
    this.retransmits.set(call, list);
  }

  private stopReinviteRetransmits(call: Call): void {
    for (const r of this.retransmits.get(call) ?? []) r.stop();
    this.retransmits.delete(call);
  }

  callEnded(call: Call): void {
    this.calls.delete(call);
    this.ringing.delete(call.a.callId + '\u0000' + call.a.remoteTag);
    this.stopReinviteRetransmits(call);
    if (call.disposition === 'ANSWERED') this.stats.answered++;
    else this.stats.failed++;
    // Forget the dialogs at once: a retransmitted BYE is absorbed by its server
    // transaction, a late 2xx by the INVITE client transaction (Accepted state,
    // RFC 6026), so nothing needs the call afterwards and its memory goes now.
    this.dialogs.delete(call.a.key);
    if (call.b) this.dialogs.delete(call.b.key);
    for (const k of this.forkKeys.get(call) ?? []) this.forks.delete(k);
    const rec = call.cdr();
    try {
      call.ticket?.ended(rec.billsec ?? 0, /^callee 60[37]$/.test(call.hangupCause));
    } catch (err) {
      // this may run from a timer: nothing may escape
      this.log.error('call-gate-ticket-failed', { call: call.id, error: (err as Error).message });
    }
    try {
      this.deps.cdr.write(rec);
    } catch (err) {
      this.log.error('cdr-write-failed', { call: call.id, error: (err as Error).message });
    }
    this.log.info('call-ended', { call: call.id, from: call.caller.number, to: call.dialled, disposition: call.disposition, cause: call.hangupCause });
  }

  /** a call was answered: the gate may cut it later (spend limit) */
  callAnswered(call: Call): void {
    call.ticket?.answered((cause) => {
      this.log.info('call-cut', { call: call.id, from: call.caller.number, to: call.dialled, cause });
      call.hangup(cause);
    });
  }

  /** a channel's dialog: in-dialog requests and ACKs with Call-ID + our tag go to `owner` */
  ownDialog(callId: string, localTag: string, owner: DialogOwner): void {
    this.owned.set(dialogKey(callId, localTag), owner);
  }

  /** a channel's INVITE still unanswered: its CANCEL (Call-ID + the caller's From tag) goes to `owner` */
  ownInvite(callId: string, fromTag: string, owner: DialogOwner): void {
    this.owned.set(cancelKey(callId, fromTag), owner);
  }

  releaseDialog(callId: string, tag: string): void {
    this.owned.delete(dialogKey(callId, tag));
    this.owned.delete(cancelKey(callId, tag));
  }

  /** ends one call by its id (an administrator's hang-up); false when no such call runs */
  hangup(id: string): boolean {
    for (const c of this.calls) {
      if (c.id !== id) continue;
      c.hangup('administrator');
      return true;
    }
    return false;
  }

  /** end every call (shutdown) */
  hangupAll(): void {
    for (const c of [...this.calls]) c.hangup('shutdown');
  }
}

function cancelKey(callId: string, fromTag: string): string {
  return 'invite\u0000' + callId + '\u0000' + fromTag;
}
