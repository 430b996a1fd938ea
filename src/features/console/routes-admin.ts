// Administration through the API (admin role only): accounts and their
// API tokens, and the dialplan files (read, validate with the loader's
// file:line errors, replace and reload).
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Type } from 'typebox';
import type { ApiRoute } from '../../core/api-routes.js';
import { ConfigError } from '../../config/config-error.js';
import { parseExtensionsConf } from '../../dialplan/parse-extensions-conf.js';
import { AccountError, ACCOUNT_NAME, addAccount, addToken, enableTotp, setPassword } from './accounts.js';
import { ApiError, type ConsoleContext } from './console-context.js';
import { ROLES } from './console-auth.js';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Name = Type.String({ pattern: ACCOUNT_NAME.source });

async function accountCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof AccountError) throw new ApiError(/exists/.test(err.message) ? 409 : /^no account/.test(err.message) ? 404 : 400, 'refused', err.message);
    throw err;
  }
}

export function adminRoutes(c: ConsoleContext): ApiRoute[] {
  const reloadAuth = () => c.auth.load();
  const accountView = (name: string) => {
    const a = c.auth.account(name)!;
    return { name: a.name, role: a.role, totp: a.totpSecret !== null, created_at: a.createdAt };
  };

  // ---- dialplan files: the configured file and the .conf files beside it
  const dir = c.cfg.dialplan.file ? dirname(resolve(c.cfg.dialplan.file)) : null;
  const fileOf = (name: string): string => {
    if (!dir) throw new ApiError(404, 'no-dialplan', 'no dialplan is configured (dialplan.file)');
    if (!/^[A-Za-z0-9._-]+\.conf$/.test(name) || basename(name) !== name) throw new ApiError(400, 'validation', `"${name}" is not a dialplan file name (NAME.conf, no path)`);
    return join(dir, name);
  };
  const validate = (path: string, content: string) => {
    const main = resolve(c.cfg.dialplan.file!);
    try {
      const dp = parseExtensionsConf(main, { registry: c.registry, readFile: (p) => (resolve(p) === path ? content : readFileSync(p, 'utf8')) });
      return { ok: true as const, contexts: dp.contexts.size, errors: [] };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { ok: false as const, errors: err.issues.map((i) => ({ file: basename(i.file), line: i.line, col: i.col, message: i.message })) };
    }
  };
  const FileParam = Type.Object({ name: Type.String({ maxLength: 128 }) });
  const Content = Type.Object({ content: Type.String({ maxLength: 1_000_000 }) }, { additionalProperties: false });

  return [
    {
      method: 'GET',
      path: '/accounts',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'Administrator accounts',
      handle: () => ({ body: c.auth.accountList().map((a) => accountView(a.name)) }),
    },
    {
      method: 'POST',
      path: '/accounts',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'Create an account; its generated password is in the answer, once',
      body: Type.Object({ name: Name, role: Role }, { additionalProperties: false }),
      async handle(req) {
        const b = req.body as { name: string; role: (typeof ROLES)[number] };
        const { password } = await accountCall(() => addAccount(c.store, b.name, b.role));
        await reloadAuth();
        return { status: 201, body: { ...accountView(b.name), password }, change: { action: 'account.create', target: b.name, after: accountView(b.name) } };
      },
    },
    {
      method: 'POST',
      path: '/accounts/:name/password',
      roles: ['admin'],
      tag: 'accounts',
      summary: "Set a password (held to the admin password policy) or, without one, generate it; ends the account's sessions",
      params: Type.Object({ name: Name }),
      body: Type.Object({ password: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, { additionalProperties: false }),
      async handle(req) {
        const name = req.params.name!;
        const given = (req.body as { password?: string } | undefined)?.password;
        const { password } = await accountCall(() => setPassword(c.store, name, given));
        await reloadAuth();
        c.auth.endSessions(name);
        return { body: { name, ...(given ? {} : { password }) }, change: { action: 'account.password', target: name } };
      },
    },
    {
      method: 'POST',
      path: '/accounts/:name/totp',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'Turn on the TOTP second factor: the answer holds the otpauth:// URI for the authenticator app, once',
      params: Type.Object({ name: Name }),
      async handle(req) {
        const name = req.params.name!;
        const r = await accountCall(() => enableTotp(c.store, name));
        await reloadAuth();
        return { body: { name, uri: r.uri, secret: r.secret }, change: { action: 'account.totp', target: name } };
      },
    },
    {
      method: 'DELETE',
      path: '/accounts/:name',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'Remove an account, its tokens and its sessions',
      params: Type.Object({ name: Name }),
      async handle(req) {
        const name = req.params.name!;
        if (name === req.actor.split('/')[0]) throw new ApiError(409, 'refused', 'an account cannot remove itself');
        const a = c.auth.account(name);
        if (!a) throw new ApiError(404, 'not-found', `no account "${name}"`);
        const before = accountView(name);
        await c.store.deleteAccount(name);
        await reloadAuth();
        c.auth.endSessions(name);
        return { body: { name, deleted: true }, change: { action: 'account.delete', target: name, before } };
      },
    },
    {
      method: 'GET',
      path: '/tokens',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'API tokens (never the token itself)',
      handle: () => ({
        body: c.auth
          .tokenList()
          .map((t) => ({ id: t.id, account: t.account, label: t.label, role: t.role, created_at: t.createdAt, expires_at: t.expiresAt, expired: t.expiresAt <= Date.now() })),
      }),
    },
    {
      method: 'POST',
      path: '/tokens',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'Create an API token for an account; the token is in the answer, once',
      body: Type.Object(
        {
          account: Name,
          label: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
          role: Type.Optional(Role),
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        },
        { additionalProperties: false },
      ),
      async handle(req) {
        const b = req.body as { account: string; label?: string; role?: (typeof ROLES)[number]; days?: number };
        const t = await accountCall(() => addToken(c.store, b.account, { label: b.label, role: b.role, days: b.days ?? c.http.tokenDays }));
        await reloadAuth();
        const view = { id: t.id, account: b.account, label: b.label ?? 'token', role: t.role, expires_at: t.expiresAt };
        return { status: 201, body: { ...view, token: t.token }, change: { action: 'token.create', target: t.id, after: view } };
      },
    },
    {
      method: 'DELETE',
      path: '/tokens/:id',
      roles: ['admin'],
      tag: 'accounts',
      summary: 'Revoke an API token',
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{12}$' }) }),
      async handle(req) {
        const id = req.params.id!;
        if (!(await c.store.deleteToken(id))) throw new ApiError(404, 'not-found', `no token ${id}`);
        await reloadAuth();
        return { body: { id, deleted: true }, change: { action: 'token.delete', target: id } };
      },
    },
    {
      method: 'GET',
      path: '/dialplan/files',
      roles: ['admin'],
      tag: 'dialplan',
      summary: "The dialplan's files: dialplan.file and the .conf files beside it",
      handle() {
        if (!dir) return { body: [] };
        const main = basename(c.cfg.dialplan.file!);
        return {
          body: readdirSync(dir)
            .filter((f) => f.endsWith('.conf'))
            .sort()
            .map((f) => ({ name: f, main: f === main })),
        };
      },
    },
    {
      method: 'GET',
      path: '/dialplan/files/:name',
      roles: ['admin'],
      tag: 'dialplan',
      summary: "A dialplan file's text",
      params: FileParam,
      handle(req) {
        const p = fileOf(req.params.name!);
        if (!existsSync(p)) throw new ApiError(404, 'not-found', `no dialplan file ${req.params.name}`);
        return { body: { name: req.params.name, content: readFileSync(p, 'utf8') } };
      },
    },
    {
      method: 'POST',
      path: '/dialplan/files/:name/validate',
      roles: ['admin'],
      tag: 'dialplan',
      summary: 'Check a new text for a dialplan file as the loader would, with file:line:col errors; changes nothing',
      params: FileParam,
      body: Content,
      handle(req) {
        return { body: validate(fileOf(req.params.name!), (req.body as { content: string }).content) };
      },
    },
    {
      method: 'PUT',
      path: '/dialplan/files/:name',
      roles: ['admin'],
      tag: 'dialplan',
      summary: 'Replace a dialplan file and reload the dialplan; refused with the errors when it does not load',
      params: FileParam,
      body: Content,
      async handle(req) {
        const name = req.params.name!;
        const p = fileOf(name);
        const content = (req.body as { content: string }).content;
        const v = validate(p, content);
        if (!v.ok)
          throw new ApiError(
            400,
            'dialplan',
            v.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join('\n'),
            v.errors.map((e) => ({ field: `${e.file}:${e.line}:${e.col}`, message: e.message })),
          );
        const before = existsSync(p) ? readFileSync(p, 'utf8') : null;
        // written whole or not at all: a crash mid-write leaves the old file
        writeFileSync(`${p}.tmp`, content, { mode: 0o640 });
        renameSync(`${p}.tmp`, p);
        const r = await c.commands.run('reload-dialplan', {});
        return { body: { name, reloaded: r }, change: { action: 'dialplan.replace', target: name, before, after: content } };
      },
    },
  ];
}
