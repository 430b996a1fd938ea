// Who is calling the API: console sessions (a random id in an HttpOnly,
// SameSite=Strict cookie, with a CSRF token of their own) and API tokens
// (Authorization: Bearer pal_ID_SECRET). Accounts and token hashes are held
// in memory — a request's decision is a Map look-up and one hash, no
// database — and reloaded when the CLI changes them (console-reload).
// Logins report their outcome to the defences like a SIP digest does (IDS
// bans, reputation, the Asterisk-format security log); an unknown account
// and a wrong password get the same answer after the same scrypt work.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiRole } from '../../core/api-routes.js';
import type { AuthOutcome } from '../../core/auth.js';
import type { AccountRow, ConsoleStore, TokenRow } from './console-store.js';
import { checkTotp, DUMMY_HASH, parseToken, sameDigest, sha256, verifyPassword } from './credentials.js';

export const ROLES: readonly ApiRole[] = ['admin', 'operator', 'auditor'];

export interface Principal {
  actor: string;
  role: ApiRole;
  via: 'session' | 'token';
  /** sessions only: the token a state-changing request must echo in X-CSRF-Token */
  csrf?: string;
  sessionId?: string;
}

interface Session {
  account: string;
  role: ApiRole;
  csrf: string;
  expiresAt: number;
}

export interface RemoteInfo {
  address: string;
  port: number;
  tls: boolean;
}

export type LoginResult = { ok: true; sessionId: string; principal: Principal } | { ok: false; needTotp?: boolean };

export class ConsoleAuth {
  private accounts = new Map<string, AccountRow>();
  private tokens = new Map<string, TokenRow>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly store: ConsoleStore,
    private readonly sessionMs: number,
    private readonly report: (o: AuthOutcome) => void,
  ) {}

  async load(): Promise<void> {
    this.accounts = new Map((await this.store.accounts()).map((a) => [a.name, a]));
    this.tokens = new Map((await this.store.tokens()).map((t) => [t.id, t]));
    // a removed account or a changed role ends its sessions
    for (const [id, s] of this.sessions) {
      const a = this.accounts.get(s.account);
      if (!a || a.role !== s.role) this.sessions.delete(id);
    }
  }

  account(name: string): AccountRow | undefined {
    return this.accounts.get(name);
  }

  accountList(): AccountRow[] {
    return [...this.accounts.values()];
  }

  tokenList(): TokenRow[] {
    return [...this.tokens.values()];
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  async login(name: string, password: string, totp: string | undefined, remote: RemoteInfo): Promise<LoginResult> {
    const a = this.accounts.get(name);
    // the same scrypt work whether or not the account exists
    const ok = await verifyPassword(password, a?.passwordHash ?? DUMMY_HASH);
    const outcome = (good: boolean, reason?: string) =>
      this.report({
        ok: good,
        reason,
        method: 'LOGIN',
        service: 'HTTP',
        account: name.slice(0, 64),
        remote: { transport: remote.tls ? 'tls' : 'tcp', address: remote.address, port: remote.port },
      });
    if (!a || !ok) {
      outcome(false, a ? 'bad-password' : 'unknown-user');
      return { ok: false };
    }
    if (a.totpSecret) {
      if (totp === undefined || totp === '') return { ok: false, needTotp: true };
      if (!checkTotp(a.totpSecret, a.name, totp)) {
        outcome(false, 'bad-password');
        return { ok: false, needTotp: true };
      }
    }
    outcome(true);
    const sessionId = randomBytes(32).toString('base64url');
    const s: Session = { account: a.name, role: a.role, csrf: randomBytes(24).toString('base64url'), expiresAt: Date.now() + this.sessionMs };
    this.sessions.set(sha256(sessionId), s);
    return { ok: true, sessionId, principal: { actor: a.name, role: a.role, via: 'session', csrf: s.csrf, sessionId } };
  }

  /** the session behind a cookie value; each use extends it by the idle time */
  session(sessionId: string | undefined): Principal | null {
    if (!sessionId || sessionId.length > 64) return null;
    const key = sha256(sessionId);
    const s = this.sessions.get(key);
    if (!s) return null;
    const now = Date.now();
    if (s.expiresAt <= now) {
      this.sessions.delete(key);
      return null;
    }
    s.expiresAt = now + this.sessionMs;
    return { actor: s.account, role: s.role, via: 'session', csrf: s.csrf, sessionId };
  }

  logout(sessionId: string): void {
    this.sessions.delete(sha256(sessionId));
  }

  /** ends every session of an account (password changed, account removed) */
  endSessions(account: string): void {
    for (const [id, s] of this.sessions) if (s.account === account) this.sessions.delete(id);
  }

  /** an API token; expired and unknown tokens are refused alike */
  bearer(token: string): Principal | null {
    const p = parseToken(token);
    if (!p) return null;
    const t = this.tokens.get(p.id);
    if (!t) return null;
    if (!sameDigest(sha256(p.secret), t.hash)) return null;
    if (t.expiresAt <= Date.now()) return null;
    if (!this.accounts.has(t.account)) return null;
    return { actor: `${t.account}/${t.label}`, role: t.role, via: 'token' };
  }

  static csrfMatches(expected: string | undefined, given: string | undefined): boolean {
    if (!expected || !given) return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** a token's role may not exceed its account's: admin > operator > auditor is not a chain (operator and auditor differ), so only admin may hold any */
export function roleWithin(account: ApiRole, wanted: ApiRole): boolean {
  return account === 'admin' || account === wanted;
}
