// `palisade admin add|token|totp|passwd|list|remove`: the console's
// administrator accounts and API tokens, written to the configured
// database. A generated password, token or TOTP secret is printed once and
// stored only hashed (scrypt for passwords, SHA-256 for tokens). A running
// server is told to re-read them (console-reload) over the control socket.
import type { CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';
import type { ApiRole } from '../../../core/api-routes.js';
import { parseCommandArgs } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import { formatTable } from '../../../admin/table.js';
import { openStorage } from '../../../storage/database.js';
import { ConsoleStore } from '../console-store.js';
import { AccountError, addAccount, addToken, enableTotp, setPassword } from '../accounts.js';
import { ROLES } from '../console-auth.js';
import type { HttpConfig } from '../read-http.js';

export const ADMIN_USAGE =
  '  admin add NAME --role admin|operator|auditor --config FILE\n                                 a console/API account; prints its generated password once\n' +
  '  admin token NAME [--role R] [--days N] [--label L] --config FILE\n                                 an API token (Authorization: Bearer TOKEN); printed once\n' +
  '  admin totp NAME --config FILE  turn on the TOTP second factor; prints the otpauth:// URI once\n' +
  '  admin passwd NAME --config FILE\n                                 a new generated password, printed once\n' +
  '  admin list|remove NAME --config FILE\n';

const USAGE = `usage:\n${ADMIN_USAGE}`;

function role(v: string | undefined, required: boolean): ApiRole | undefined {
  if (v === undefined) {
    if (required) throw new AccountError('--role admin|operator|auditor is required');
    return undefined;
  }
  if (!(ROLES as readonly string[]).includes(v)) throw new AccountError(`--role "${v}" is not one of ${ROLES.join(', ')}`);
  return v as ApiRole;
}

export async function runAdmin(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS, role: 'string', days: 'string', label: 'string' }, USAGE, 2);
  const [sub, name] = positionals;
  if (!values.config) {
    process.stderr.write(`palisade admin: --config FILE is required\n${USAGE}`);
    return 2;
  }
  const cfg = env.loadConfig(values.config);
  const storage = await openStorage(cfg.storage);
  const store = new ConsoleStore(storage);
  let changed = false;
  try {
    await store.migrate();
    if (sub === 'list' && name === undefined) {
      const tokens = await store.tokens();
      const rows = (await store.accounts()).map((a) => ({
        name: a.name,
        role: a.role,
        totp: a.totpSecret ? 'yes' : 'no',
        tokens: tokens.filter((t) => t.account === a.name && t.expiresAt > Date.now()).length,
      }));
      process.stdout.write(formatTable(rows, 'no accounts', ['name', 'role', 'totp', 'tokens']));
      return 0;
    }
    if (!name || !['add', 'token', 'totp', 'passwd', 'remove'].includes(sub ?? '')) {
      process.stderr.write(USAGE);
      return 2;
    }
    if (sub === 'add') {
      const { password } = await addAccount(store, name, role(values.role, true)!);
      process.stdout.write(`account ${name} (${values.role}) created; its password, shown once:\n${password}\n`);
    } else if (sub === 'token') {
      const days = values.days === undefined ? ((cfg.sections.http as HttpConfig | null | undefined)?.tokenDays ?? 90) : Number(values.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new AccountError(`--days "${values.days}" is not a whole number of days 1..3650`);
      const t = await addToken(store, name, { role: role(values.role, false), days, label: values.label });
      process.stdout.write(`API token for ${name} (${t.role}, expires ${new Date(t.expiresAt).toISOString()}), shown once:\n${t.token}\n`);
    } else if (sub === 'totp') {
      const t = await enableTotp(store, name);
      process.stdout.write(`TOTP on for ${name}; add this to the authenticator app (shown once):\n${t.uri}\n`);
    } else if (sub === 'passwd') {
      const { password } = await setPassword(store, name);
      process.stdout.write(`new password for ${name}, shown once:\n${password}\n`);
    } else if (sub === 'remove') {
      if (!(await store.deleteAccount(name))) throw new AccountError(`no account "${name}"`);
      process.stdout.write(`account ${name} removed\n`);
    }
    changed = true;
    return 0;
  } catch (err) {
    if (err instanceof AccountError) {
      process.stderr.write(`palisade admin: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await storage.close();
    // a running server re-reads accounts and tokens now; none running is fine
    if (changed) await askServer(values, env.loadConfig, 'console-reload', {}, 2000).catch(() => undefined);
  }
}
