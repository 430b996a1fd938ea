// Creating administrator accounts and API tokens, shared by the command
// line (`palisade admin add|token|totp|passwd|list|remove`) and the API's
// accounts and tokens resources. Passwords are held to the admin password
// policy (src/security/passwords/check-admin-password.ts); a generated one
// is returned once and never stored in clear.
import type { ApiRole } from '../../core/api-routes.js';
import { checkAdminPassword, generateSecret } from '../../security/passwords/index.js';
import type { ConsoleStore } from './console-store.js';
import { hashPassword, newToken, newTotpSecret, totpUri } from './credentials.js';

export const ACCOUNT_NAME = /^[a-z][a-z0-9._-]{1,31}$/;
export const ACCOUNT_NAME_RULE = '2-32 characters: lower-case letters, digits, . _ -, starting with a letter';

export class AccountError extends Error {}

/** a generated password that passes the admin policy for this account */
export function generateAdminPassword(name: string): string {
  for (;;) {
    const p = generateSecret();
    if (checkAdminPassword(p, { username: name }).ok) return p;
  }
}

export async function addAccount(store: ConsoleStore, name: string, role: ApiRole, password?: string): Promise<{ password: string }> {
  if (!ACCOUNT_NAME.test(name)) throw new AccountError(`account name "${name}" is not allowed; ${ACCOUNT_NAME_RULE}`);
  if ((await store.accounts()).some((a) => a.name === name)) throw new AccountError(`account "${name}" exists already`);
  const pw = password ?? generateAdminPassword(name);
  const v = checkAdminPassword(pw, { username: name });
  if (!v.ok) throw new AccountError(`the password ${v.reason}; use a generated one such as ${generateAdminPassword(name)}`);
  await store.putAccount({ name, role, passwordHash: await hashPassword(pw), totpSecret: null });
  return { password: pw };
}

export async function setPassword(store: ConsoleStore, name: string, password?: string): Promise<{ password: string }> {
  const a = (await store.accounts()).find((x) => x.name === name);
  if (!a) throw new AccountError(`no account "${name}"`);
  const pw = password ?? generateAdminPassword(name);
  const v = checkAdminPassword(pw, { username: name });
  if (!v.ok) throw new AccountError(`the password ${v.reason}; use a generated one such as ${generateAdminPassword(name)}`);
  await store.putAccount({ ...a, passwordHash: await hashPassword(pw) });
  return { password: pw };
}

export async function enableTotp(store: ConsoleStore, name: string): Promise<{ secret: string; uri: string }> {
  const a = (await store.accounts()).find((x) => x.name === name);
  if (!a) throw new AccountError(`no account "${name}"`);
  const secret = newTotpSecret();
  await store.putAccount({ ...a, totpSecret: secret });
  return { secret, uri: totpUri(secret, name) };
}

export async function addToken(
  store: ConsoleStore,
  account: string,
  o: { label?: string; role?: ApiRole; days: number },
): Promise<{ token: string; id: string; role: ApiRole; expiresAt: number }> {
  const a = (await store.accounts()).find((x) => x.name === account);
  if (!a) throw new AccountError(`no account "${account}"`);
  const role = o.role ?? a.role;
  if (a.role !== 'admin' && role !== a.role) throw new AccountError(`account "${account}" is ${a.role}; its tokens cannot be ${role}`);
  const label = o.label ?? 'token';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(label)) throw new AccountError(`token label "${label}" is not allowed; letters, digits, . _ - (1-64)`);
  const t = newToken();
  const now = Date.now();
  const expiresAt = now + o.days * 86_400_000;
  await store.addToken({ id: t.id, account, label, role, hash: t.hash, createdAt: now, expiresAt });
  return { token: t.token, id: t.id, role, expiresAt };
}
