// The registrar (RFC 3261 §10.3): authenticates REGISTER requests and
// updates the location service. It returns the response; the caller sends it
// through the server transaction.
//
// Order of checks, chosen so that nothing on the wire reveals whether an
// extension exists: syntax (400/420, independent of any user) -> digest
// challenge (the same 401 for every unknown user and every wrong password)
// -> only then anything that looks the user up (403 for a foreign AOR).
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { NameAddr } from '../../sip-message/types.js';
import { buildResponse } from '../../sip-message/response.js';
import { isWildcard } from '../../sip-message/name-addr.js';
import { uriEquals } from '../../sip-message/uri.js';
import type { Remote } from '../../transport/types.js';
import { credentialsIdentity, type DigestAuthenticator, type DigestFailure } from '../auth/digest.js';
import type { Binding, BindingInput, LocationService } from './location.js';
import { randomHex } from '../dialog/dialog.js';

// The qualify scheduler belongs with the registrar; it lives in its own file.
export { Qualifier, type QualifierOptions, type QualifyResult } from './qualifier.js';

export interface RegistrarOptions {
  location: LocationService;
  auth: DigestAuthenticator;
  /** our SIP domain; To hosts must be this (or an IP literal, see isLocalDomain) */
  domain: string;
  /** 423 below this (seconds; default 60) */
  minExpires?: number;
  /** longer requests are shortened to this (default 3600) */
  maxExpires?: number;
  /** when neither the contact nor the request says (default 3600) */
  defaultExpires?: number;
  /** per AOR; the oldest binding is replaced beyond it (default 5) */
  maxContacts?: number;
  isLocalExtension: (user: string) => boolean;
  /**
   * whether a To host is ours. Default: the domain, or any IP literal
   * (phones configured with the PBX's address put it in To).
   */
  isLocalDomain?: (host: string) => boolean;
  clock?: () => number; // epoch ms
  /** Server header value */
  server?: string;
  /** every authentication outcome, for the intrusion-detection layer (no secrets in it) */
  onAuth?: (e: AuthEvent) => void;
  /**
   * after authentication: may this extension register from this address
   * (per-extension register_from ACL)? Asked only once the password is
   * proven, so the 403 tells nothing to someone without it.
   */
  mayRegister?: (aor: string, remote: Remote) => boolean;
}

export interface AuthEvent {
  ok: boolean;
  reason?: DigestFailure | 'forbidden';
  /** the To user the REGISTER was for (what a scanner probes) */
  aor: string;
  remote: Remote;
  userAgent: string;
  /** the digest username and nonce the client sent, when it sent credentials */
  username?: string;
  nonce?: string;
  /** one guess across its retransmissions */
  attempt?: string;
  callId?: string;
  cseq?: number;
}

/** a Contact of the request, validated, with its effective expiry */
interface ContactReq {
  na: NameAddr;
  expires: number; // seconds, after min/max
  q: number;
  instanceId: string | null;
  regId: number | null;
}

type Outcome = { response: SipMessage } | { contacts: ContactReq[] | 'wildcard' | 'query'; requested: number[]; path: string[] };

export class Registrar {
  private readonly location: LocationService;
  private readonly auth: DigestAuthenticator;
  private readonly domain: string;
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private readonly defaultExpires: number;
  private readonly maxContacts: number;
  private readonly isLocalExtension: (user: string) => boolean;
  private readonly isLocalDomain: (host: string) => boolean;
  private readonly clock: () => number;
  private readonly server: string | undefined;
  private readonly onAuth: (e: AuthEvent) => void;
  private readonly mayRegister: ((aor: string, remote: Remote) => boolean) | undefined;
  private dateSec = -1;
  private dateText = '';

  constructor(o: RegistrarOptions) {
    this.location = o.location;
    this.auth = o.auth;
    this.domain = o.domain.toLowerCase();
    this.minExpires = o.minExpires ?? 60;
    this.maxExpires = o.maxExpires ?? 3600;
    this.defaultExpires = o.defaultExpires ?? 3600;
    this.maxContacts = o.maxContacts ?? 5;
    this.isLocalExtension = o.isLocalExtension;
    this.isLocalDomain = o.isLocalDomain ?? ((h) => h === this.domain || isIpLiteral(h));
    this.clock = o.clock ?? Date.now;
    this.server = o.server;
    this.onAuth = o.onAuth ?? (() => {});
    this.mayRegister = o.mayRegister;
    if (this.minExpires > this.maxExpires) throw new Error('PAL_ERR_REGISTRAR_EXPIRES: minExpires is above maxExpires');
  }

  handleRegister(req: SipMessage, remote: Remote): SipMessage {
    const parsed = this.parse(req);
    if ('response' in parsed) return parsed.response;
    const aor = req.to.uri.user ?? '';
    const userAgent = (req.get('user-agent') ?? '').slice(0, 256);

    // §10.3 step 3: authenticate. The challenge comes before anything that
    // depends on the AOR, so unknown and known extensions look the same.
    const result = this.auth.verify('REGISTER', req.get('authorization'), { proxy: false, requestUri: req.uri, body: req.body });
    const ids = { callId: req.callId, cseq: req.cseq.seq };
    if (!result.ok) {
      this.onAuth({ ok: false, reason: result.reason, aor, remote, userAgent, ...credentialsIdentity(req.get('authorization')), ...ids });
      if (result.reason === 'uri-mismatch') return this.reply(req, 400, 'Digest URI Mismatch');
      return this.reply(req, 401, undefined, this.auth.challenge({ proxy: false, stale: result.reason === 'stale' }));
    }
    // §10.3 step 4: the authenticated user may only change its own bindings
    if (result.user !== aor || !this.isLocalDomain(req.to.uri.host) || !this.isLocalExtension(aor)) {
      this.onAuth({ ok: false, reason: 'forbidden', aor, remote, userAgent, username: result.user, ...ids });
      return this.reply(req, 403);
    }
    this.onAuth({ ok: true, aor, remote, userAgent, username: result.user, ...ids });
    if (this.mayRegister && !this.mayRegister(aor, remote)) return this.reply(req, 403);

    // §10.3 step 7, 423: "If and only if the requested expiration interval is
    // greater than zero AND smaller than one hour AND less than a
    // registrar-configured minimum, the registrar MAY reject the registration"
    for (const e of parsed.requested) {
      if (e > 0 && e < 3600 && e < this.minExpires) return this.reply(req, 423, undefined, [['min-expires', String(this.minExpires)]]);
    }

    const now = this.clock();
    if (parsed.contacts === 'query') return this.ok(req, aor, now, parsed.path);
    const callId = req.callId;
    const cseq = req.cseq.seq;
    const existing = this.location.lookup(aor);

    if (parsed.contacts === 'wildcard') {
      // §10.3 step 6: remove every binding, unless one was made by this
      // Call-ID with an equal or higher CSeq (an out-of-order request)
      if (existing.some((b) => b.callId === callId && cseq <= b.cseq)) return this.reply(req, 500, 'Out Of Order Request');
      for (const b of existing) this.location.remove(b, 'unregistered');
      return this.ok(req, aor, now);
    }

    // §10.3 step 7: work out every change first and commit only if all are valid
    const updates: Array<{ c: ContactReq; match: Binding | undefined }> = [];
    for (const c of parsed.contacts) {
      const match =
        existing.find((b) => uriEquals(b.uri, c.na.uri)) ?? (c.instanceId !== null ? existing.find((b) => b.instanceId === c.instanceId && b.regId === c.regId) : undefined);
      if (match && match.callId === callId && cseq <= match.cseq) return this.reply(req, 500, 'Out Of Order Request');
      // the same contact named twice in one request: the last one counts
      const dup = updates.findIndex((u) => uriEquals(u.c.na.uri, c.na.uri));
      if (dup >= 0) updates.splice(dup, 1);
      updates.push({ c, match });
    }
    const kept = updates.filter((u) => u.c.expires > 0);
    if (kept.length > this.maxContacts) return this.reply(req, 403, 'Too Many Contacts');

    const touched = new Set<Binding>();
    for (const u of updates) if (u.match) touched.add(u.match);
    // Phones that change address re-register with a new contact while the old
    // one lingers; replacing the oldest binding is what they expect, where a
    // refusal would leave the phone unreachable.
    const others = existing.filter((b) => !touched.has(b)).sort((a, b) => a.updatedAt - b.updatedAt);
    const excess = others.length + kept.length - this.maxContacts;
    for (let i = 0; i < excess; i++) this.location.remove(others[i]!, 'replaced');

    for (const { c, match } of updates) {
      if (c.expires === 0) {
        if (match) this.location.remove(match, 'unregistered');
        continue;
      }
      const input: BindingInput = {
        aor,
        contactUri: c.na.uri.raw,
        uri: c.na.uri,
        contactHeader: c.na.raw,
        expiresAt: now + c.expires * 1000,
        received: { ...remote },
        callId,
        cseq,
        userAgent,
        q: c.q,
        instanceId: c.instanceId,
        regId: c.regId,
        path: parsed.path,
      };
      this.location.upsert(input, match);
    }
    return this.ok(req, aor, now, parsed.path);
  }

  /** syntax checks that do not depend on who is registering (400, 420) */
  private parse(req: SipMessage): Outcome {
    let contacts: NameAddr[];
    let expiresHeader: number | undefined;
    try {
      const to = req.to;
      if (to.uri.scheme !== 'sip' && to.uri.scheme !== 'sips') return { response: this.reply(req, 400, 'Bad To URI') };
      if (!to.uri.user) return { response: this.reply(req, 400, 'No User In To') };
      void req.callId;
      if (req.cseq.method !== 'REGISTER') return { response: this.reply(req, 400, 'CSeq Method Mismatch') };
      void req.ruri;
      contacts = req.contacts;
      expiresHeader = req.getInt('expires');
    } catch {
      return { response: this.reply(req, 400) };
    }
    // §10.3 step 2: of the extensions a REGISTER could require we implement Path (RFC 3327)
    const require = req.getAll('require').filter((r) => r.trim().toLowerCase() !== 'path');
    if (require.length > 0) return { response: this.reply(req, 420, undefined, [['unsupported', require.join(', ')]]) };

    // RFC 3327 §5.3: the proxies between the phone and us, stored as the route set to the phone
    // (whether or not the phone said it supports Path: Kamailio adds it for the phone's sake)
    const path = req.getAll('path').slice(0, 8);
    if (path.some((p) => p.length > 512 || !/^\s*<sips?:[^>]+>/i.test(p))) return { response: this.reply(req, 400, 'Bad Path') };
    if (contacts.length === 0) return { contacts: 'query', requested: [], path };
    if (contacts.some(isWildcard)) {
      // §10.3 step 6: "*" must be alone, with Expires: 0
      if (contacts.length !== 1 || expiresHeader !== 0) return { response: this.reply(req, 400, 'Invalid Wildcard Contact') };
      return { contacts: 'wildcard', requested: [], path };
    }
    const out: ContactReq[] = [];
    const requested: number[] = [];
    for (const na of contacts) {
      if (na.uri.scheme !== 'sip' && na.uri.scheme !== 'sips') return { response: this.reply(req, 400, 'Unsupported Contact URI') };
      // §10.3 step 7: the contact's expires param, else the Expires header,
      // else our default; a value we cannot read counts as absent
      const p = na.params.expires;
      const own = p !== undefined && p !== null && /^\d{1,10}$/.test(p) ? Number(p) : undefined;
      const asked = own ?? expiresHeader ?? this.defaultExpires;
      requested.push(asked);
      const qv = na.params.q;
      const q = qv !== undefined && qv !== null && /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qv) ? Number(qv) : 1;
      const inst = na.params['+sip.instance'];
      const rid = na.params['reg-id'];
      out.push({
        na,
        expires: Math.min(asked, this.maxExpires),
        q,
        instanceId: inst !== undefined && inst !== null && inst !== '' ? inst : null,
        regId: rid !== undefined && rid !== null && /^\d{1,10}$/.test(rid) ? Number(rid) : null,
      });
    }
    return { contacts: out, requested, path };
  }

  /** §10.3 step 8: 200 OK listing every current binding with its remaining time, and Date */
  private ok(req: SipMessage, aor: string, now: number, path: string[] = []): SipMessage {
    const headers: Array<[string, string]> = [];
    // RFC 3327 §5.3: the Path goes back in the 200 when the phone said it supports it
    if (path.length > 0 && req.getAll('supported').some((s) => s.trim().toLowerCase() === 'path')) for (const p of path) headers.push(['path', p]);
    for (const b of this.location.lookup(aor)) {
      let v = `<${b.contactUri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`;
      if (b.q !== 1) v += `;q=${b.q}`;
      // RFC 5626 §6: the registrar echoes the instance and reg-id it accepted
      if (b.instanceId !== null) v += `;+sip.instance="${b.instanceId.replace(/["\\]/g, '\\$&')}"`;
      if (b.regId !== null) v += `;reg-id=${b.regId}`;
      headers.push(['contact', v]);
    }
    headers.push(['date', this.dateHeader(now)]);
    return this.reply(req, 200, undefined, headers);
  }

  /** RFC 3261 §20.17's Date (RFC 1123 form, whole seconds): formatted once a second, not per REGISTER (~0.9 µs each) */
  private dateHeader(now: number): string {
    const sec = Math.floor(now / 1000);
    if (sec !== this.dateSec) {
      this.dateSec = sec;
      this.dateText = new Date(sec * 1000).toUTCString();
    }
    return this.dateText;
  }

  private reply(req: SipMessage, status: number, reason?: string, headers?: Array<[string, string]>): SipMessage {
    return buildResponse(req, status, reason, { toTag: newTag(), headers, server: this.server });
  }
}

// RFC 3261 §19.3: tags are globally unique and cryptographically random
// (>= 32 bits; we use 48), from the shared pooled generator.
function newTag(): string {
  return randomHex(6);
}

function isIpLiteral(host: string): boolean {
  if (host.indexOf(':') >= 0) return true; // IPv6 (brackets already removed by the URI parser)
  let dots = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x2e) dots++;
    else if (c < 0x30 || c > 0x39) return false;
  }
  return dots === 3;
}
