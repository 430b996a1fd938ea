// One fastify application per `http.listen` point (HTTP or HTTPS): the
// connection gate (admin.acl and the IDS's bans: an address outside gets
// its connection closed, nothing said), security headers (helmet: CSP,
// frame denial, HSTS on HTTPS), the session cookie, CSRF and cross-origin
// checks, the OpenAPI 3.1 document and its reference page, /metrics, the
// event stream, and every API resource (the console's and the modules')
// with its roles and the change log. The console's pages are served at /.
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import type { ApiResult, ApiRoute } from '../../core/api-routes.js';
import type { Logger } from '../../observability/logger.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import { ConsoleAuth, type Principal } from './console-auth.js';
import type { HttpListen } from './read-http.js';
import type { NewChange } from './console-store.js';
import type { EventHub } from './event-hub.js';
import { ApiError } from './console-context.js';

export const SESSION_COOKIE = 'palisade_session';

export interface HttpAppDeps {
  auth: ConsoleAuth;
  routes: readonly ApiRoute[];
  /** admin.acl */
  allows(address: string): boolean;
  /** the IDS's packet gate: false while the address is banned */
  admitted(address: string): boolean;
  logChange(c: NewChange): Promise<void>;
  metrics: MetricsRegistry;
  /** the text served at /metrics when it is more than `metrics` (several workers merged) */
  scrapeMetrics?: () => Promise<string>;
  events: EventHub;
  /** the built console (dist/console); null: not built */
  consoleDir: string | null;
  origins: readonly string[];
  log: Logger;
  /** counts refusals for /metrics */
  refused(reason: 'acl' | 'banned' | 'csrf' | 'origin' | 'auth' | 'role'): void;
  tls: { key: string; cert: string } | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function clientAddress(req: FastifyRequest): string {
  return normalise(req.socket.remoteAddress ?? '');
}

/** "::ffff:127.0.0.1" → "127.0.0.1" */
export function normalise(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function buildHttpApp(d: HttpAppDeps, listen: HttpListen): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    trustProxy: false,
    bodyLimit: 2 * 1024 * 1024,
    ...(listen.tls && d.tls ? { https: { key: d.tls.key, cert: d.tls.cert } } : {}),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }) as unknown as FastifyInstance;
  app.decorateRequest('principal', null);

  // the gate: before TLS and before a byte of HTTP is read
  app.server.on('connection', (sock: Socket) => {
    const a = normalise(sock.remoteAddress ?? '');
    if (!d.allows(a)) {
      d.refused('acl');
      d.log.info('http-refused', { remote: a, reason: 'admin.acl' });
      sock.destroy();
    } else if (!d.admitted(a)) {
      d.refused('banned');
      d.log.info('http-refused', { remote: a, reason: 'banned' });
      sock.destroy();
    }
  });
  // a ban that comes during a kept-alive connection
  app.addHook('onRequest', async (req, reply) => {
    const a = clientAddress(req);
    if (!d.allows(a) || !d.admitted(a)) {
      d.refused(d.allows(a) ? 'banned' : 'acl');
      d.log.info('http-refused', { remote: a, reason: d.allows(a) ? 'banned' : 'admin.acl' });
      req.socket.destroy();
      return reply.hijack();
    }
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    hsts: listen.tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(cookie);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Palisade API',
        version: '1',
        description: 'The REST API of the Palisade IP-PBX. Authenticate with `Authorization: Bearer TOKEN` (palisade admin token) or a console session.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs', staticCSP: true });

  // ---- who is calling
  const principalOf = (req: FastifyRequest): Principal | null => {
    const h = req.headers.authorization;
    if (h !== undefined) return h.startsWith('Bearer ') ? d.auth.bearer(h.slice(7).trim()) : null;
    return d.auth.session(req.cookies[SESSION_COOKIE]);
  };

  /** a browser's cross-site request: refused whatever it carries */
  const crossOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const own = `${listen.tls ? 'https' : 'http'}://${req.headers.host ?? ''}`;
    return origin !== own && !d.origins.includes(origin);
  };

  const guard = (roles: readonly string[]) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (crossOrigin(req)) {
      d.refused('origin');
      return reply.code(403).send({ error: 'cross-origin', message: 'requests from another origin are refused' });
    }
    const p = principalOf(req);
    if (!p) {
      d.refused('auth');
      return reply.code(401).header('www-authenticate', 'Bearer realm="palisade"').send({ error: 'unauthorized', message: 'log in, or send Authorization: Bearer TOKEN' });
    }
    // a session's state-changing request must echo its CSRF token (a token in a header is no ambient credential)
    if (p.via === 'session' && STATE_CHANGING.has(req.method) && !ConsoleAuth.csrfMatches(p.csrf, req.headers['x-csrf-token'] as string | undefined)) {
      d.refused('csrf');
      return reply.code(403).send({ error: 'csrf', message: 'missing or wrong X-CSRF-Token' });
    }
    if (!roles.includes(p.role)) {
      d.refused('role');
      return reply.code(403).send({ error: 'forbidden', message: `the ${p.role} role may not do this` });
    }
    req.principal = p;
  };

  app.setErrorHandler((err: Error & { validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>; statusCode?: number }, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.status).send({ error: err.error, message: err.message, ...(err.errors ? { errors: err.errors } : {}) });
    }
    if (err.validation) {
      const errors = err.validation.map((v) => ({
        field: (v.instancePath.replace(/^\//, '').replace(/\//g, '.') || String(v.params?.missingProperty ?? v.params?.additionalProperty ?? '')) as string,
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send({ error: 'validation', message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors });
    }
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: 'request', message: err.message });
    d.log.warn('http-error', { method: req.method, url: req.url.slice(0, 200), error: err.message });
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  const send = async (req: FastifyRequest, reply: FastifyReply, r: ApiResult) => {
    if (r.change && req.principal) {
      await d.logChange({
        actor: req.principal.actor,
        role: req.principal.role,
        via: req.principal.via,
        remote: clientAddress(req),
        ...r.change,
      });
    }
    reply.code(r.status ?? 200);
    for (const [k, v] of Object.entries(r.headers ?? {})) reply.header(k, v);
    if (r.contentType) return reply.type(r.contentType).send(r.body);
    return reply.send(r.body);
  };

  // ---- console sessions
  const loginBody = {
    type: 'object',
    required: ['name', 'password'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 256 }, totp: { type: 'string', maxLength: 8 } },
  };
  app.post(
    '/api/v1/session',
    { schema: { summary: 'Log in: sets the session cookie, returns the CSRF token', tags: ['session'], body: loginBody, security: [] } },
    async (req, reply) => {
      if (crossOrigin(req)) {
        d.refused('origin');
        return reply.code(403).send({ error: 'cross-origin', message: 'requests from another origin are refused' });
      }
      const b = req.body as { name: string; password: string; totp?: string };
      const r = await d.auth.login(b.name, b.password, b.totp, { address: clientAddress(req), port: req.socket.remotePort ?? 0, tls: listen.tls });
      if (!r.ok) {
        if (r.needTotp) return reply.code(401).send({ error: 'totp-required', message: 'enter the code from your authenticator app' });
        return reply.code(401).send({ error: 'login-failed', message: 'wrong name or password' });
      }
      reply.setCookie(SESSION_COOKIE, r.sessionId, { path: '/', httpOnly: true, sameSite: 'strict', secure: listen.tls });
      return { account: r.principal.actor, role: r.principal.role, csrf: r.principal.csrf };
    },
  );
  app.get(
    '/api/v1/session',
    { schema: { summary: 'The session: account, role, CSRF token', tags: ['session'] }, preValidation: guard(['admin', 'operator', 'auditor']) },
    async (req) => {
      const p = req.principal!;
      return { account: p.actor, role: p.role, via: p.via, csrf: p.csrf ?? null };
    },
  );
  app.delete('/api/v1/session', { schema: { summary: 'Log out', tags: ['session'] }, preValidation: guard(['admin', 'operator', 'auditor']) }, async (req, reply) => {
    if (req.principal?.sessionId) d.auth.logout(req.principal.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  for (const r of d.routes) {
    app.route({
      method: r.method,
      url: `/api/v1${r.path}`,
      schema: {
        summary: r.summary,
        tags: [r.tag],
        description: `Roles: ${r.roles.join(', ')}`,
        ...(r.body ? { body: r.body } : {}),
        ...(r.query ? { querystring: r.query } : {}),
        ...(r.params ? { params: r.params } : {}),
        ...(r.response ? { response: r.response } : {}),
      },
      // before the body is validated: a refused caller learns nothing about the schema
      preValidation: guard(r.roles),
      handler: async (req, reply) => {
        const res = await r.handle({
          params: (req.params ?? {}) as Record<string, string>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          actor: req.principal!.actor,
        });
        return send(req, reply, res);
      },
    });
  }

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Prometheus: admin.acl (the connection gate above) decides who may scrape
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(d.metrics.contentType);
    return d.scrapeMetrics ? d.scrapeMetrics() : d.metrics.metrics();
  });

  // the event stream (SSE): the console and integrators use the same one
  app.get(
    '/api/v1/events',
    {
      schema: { summary: 'Live events (text/event-stream): calls, registrations, security events, bans', tags: ['events'] },
      preValidation: guard(['admin', 'operator', 'auditor']),
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
      });
      res.write(': palisade events\n\n');
      const off = d.events.subscribe(req.principal!.role, (type, data) => {
        res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      });
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      req.raw.on('close', () => {
        clearInterval(ping);
        off();
      });
    },
  );

  if (d.consoleDir && existsSync(d.consoleDir)) {
    await app.register(fastifyStatic, { root: d.consoleDir, prefix: '/', index: ['index.html'], wildcard: false, cacheControl: false });
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The Palisade console is not built here (npm run build makes dist/console). The API is at /api/v1, its reference at /api/v1/docs.\n'),
    );
  }
  return app;
}
