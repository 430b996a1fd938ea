// Admin password policy (docs/configuration.md, Password policy and `admin`): the same
// strength rules as SIP secrets (length, common passwords, runs, estimator
// score >= 3), plus never the account name or a vendor default.
import { checkSecret } from './check-secret.js';

export type AdminPasswordVerdict = { ok: true } | { ok: false; reason: string };

const DEFAULT_ADMIN_PASSWORDS = new Set(['admin', 'administrator', 'root', 'palisade', 'changeme', 'password', 'default', 'amp111', 'eLaStIx.2oo7', 'jEkiN0']);

export function checkAdminPassword(password: string, opts: { username?: string } = {}): AdminPasswordVerdict {
  const user = (opts.username ?? '').toLowerCase();
  const lower = password.toLowerCase();
  if (DEFAULT_ADMIN_PASSWORDS.has(password) || DEFAULT_ADMIN_PASSWORDS.has(lower)) return { ok: false, reason: 'is a vendor default password' };
  if (user.length >= 3 && lower.includes(user)) return { ok: false, reason: 'contains the account name' };
  const v = checkSecret(password, { kind: 'admin', name: opts.username });
  return v.ok ? { ok: true } : { ok: false, reason: v.reasons.join('; ') };
}
