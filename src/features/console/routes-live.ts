// Live state through the API, over the one command table (the control
// socket's commands; src/host/core-commands.ts and the modules'): status,
// registrations, calls (hang up), bans (add, remove), reputation (look up,
// reset), the security audit, and the security log's latest events.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { Type } from 'typebox';
import type { ApiRoute } from '../../core/api-routes.js';
import { ApiError, type ConsoleContext } from './console-context.js';

const ALL = ['admin', 'operator', 'auditor'] as const;

/** a command's refusal ("is not banned", "no call") becomes a 4xx with its message */
async function run(c: ConsoleContext, name: string, args: Record<string, unknown>, notFound = /not banned|no call|is not/): Promise<unknown> {
  try {
    return await c.commands.run(name, args);
  } catch (err) {
    const msg = (err as Error).message;
    if (notFound.test(msg)) throw new ApiError(404, 'not-found', msg);
    throw new ApiError(400, 'refused', msg);
  }
}

/** the last `max` lines of a file, reading at most 1 MiB from its end */
function tail(path: string, max: number): string[] {
  if (!existsSync(path)) return [];
  const size = statSync(path).size;
  const len = Math.min(size, 1024 * 1024);
  const buf = Buffer.alloc(len);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  const lines = buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (len < size) lines.shift();
  return lines.slice(-max);
}

export function liveRoutes(c: ConsoleContext): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/status',
      roles: ALL,
      tag: 'system',
      summary: 'System status: uptime, listeners, registrations, calls, transactions, security',
      handle: async () => ({ body: await run(c, 'status', {}) }),
    },
    {
      method: 'GET',
      path: '/registrations',
      roles: ['admin', 'operator'],
      tag: 'live',
      summary: 'Registered contacts',
      handle: async () => ({ body: await run(c, 'registrations', {}) }),
    },
    { method: 'GET', path: '/calls', roles: ['admin', 'operator'], tag: 'live', summary: 'Calls in progress', handle: async () => ({ body: await run(c, 'calls', {}) }) },
    {
      method: 'DELETE',
      path: '/calls/:id',
      roles: ['admin', 'operator'],
      tag: 'live',
      summary: 'Hang up a call in progress',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) }),
      async handle(req) {
        const r = await run(c, 'hangup', { call: req.params.id });
        return { body: r, change: { action: 'call.hangup', target: req.params.id! } };
      },
    },
    { method: 'GET', path: '/bans', roles: ALL, tag: 'security', summary: 'Addresses the IDS has banned', handle: async () => ({ body: await run(c, 'bans', {}) }) },
    {
      method: 'POST',
      path: '/bans',
      roles: ['admin', 'operator'],
      tag: 'security',
      summary: 'Ban an address',
      body: Type.Object(
        {
          address: Type.String({ minLength: 2, maxLength: 64 }),
          for: Type.Optional(Type.String({ pattern: '^[0-9]+[smhd]?$', description: 'duration such as 90s, 15m, 1h, 2d' })),
          reason: Type.Optional(Type.String({ maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
      async handle(req) {
        const b = req.body as { address: string; for?: string; reason?: string };
        const r = await run(c, 'ban-add', { address: b.address, for: b.for, reason: b.reason ?? `banned by ${req.actor}` });
        return { status: 201, body: r, change: { action: 'ban.add', target: b.address, after: r } };
      },
    },
    {
      method: 'DELETE',
      path: '/bans/:address',
      roles: ['admin', 'operator'],
      tag: 'security',
      summary: 'Lift a ban',
      params: Type.Object({ address: Type.String({ minLength: 2, maxLength: 64 }) }),
      async handle(req) {
        const bans = (await run(c, 'bans', {})) as Array<{ address: string }>;
        const before = bans.find((b) => b.address === req.params.address);
        const r = await run(c, 'ban-remove', { address: req.params.address });
        return { body: r, change: { action: 'ban.remove', target: req.params.address!, before } };
      },
    },
    {
      method: 'GET',
      path: '/reputation/:subject',
      roles: ALL,
      tag: 'security',
      summary: 'Reputation (0-10) of an address or an extension',
      params: Type.Object({ subject: Type.String({ minLength: 1, maxLength: 64 }) }),
      handle: async (req) => ({ body: await run(c, 'reputation', { subject: req.params.subject }) }),
    },
    {
      method: 'POST',
      path: '/reputation/:subject/reset',
      roles: ['admin', 'operator'],
      tag: 'security',
      summary: 'Reset a reputation to 5 (a phone fixed after a typo)',
      params: Type.Object({ subject: Type.String({ minLength: 1, maxLength: 64 }) }),
      async handle(req) {
        const before = await run(c, 'reputation', { subject: req.params.subject });
        const r = await run(c, 'reputation-reset', { subject: req.params.subject });
        return { body: r, change: { action: 'reputation.reset', target: req.params.subject!, before } };
      },
    },
    {
      method: 'GET',
      path: '/audit',
      roles: ['admin', 'auditor'],
      tag: 'security',
      summary: 'The security audit: score and findings with their fixes (host=true adds the host checks)',
      query: Type.Object({ host: Type.Optional(Type.Boolean()) }),
      handle: async (req) => ({ body: await run(c, 'audit', { host: req.query.host === true }) }),
    },
    {
      method: 'GET',
      path: '/security/events',
      roles: ['admin', 'auditor'],
      tag: 'security',
      summary: "The security log's latest lines (security.log.file), newest last",
      query: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })) }),
      handle(req) {
        const file = c.cfg.security.log.file;
        const limit = Number(req.query.limit ?? 200);
        return { body: file ? tail(file, limit) : [] };
      },
    },
  ];
}
