// Trunks through the REST API (issue 10): list (palisade.yaml's and the
// database's, with registration state and origin), create, edit, disable,
// delete SIP and IAX2 trunks of the database (trunk-store.ts), and a
// validation of a form without saving that the console calls as you type.
// Only the `admin` role. A change takes effect at once (trunks-module.ts
// applyTrunks): a registering trunk (re)registers (REGISTER, IAX2 REGREQ),
// a deleted or disabled one unregisters (Expires: 0, IAX2 REGREL) and the
// routes no longer reach it; calls in progress keep going.
//
// Names: a trunk of palisade.yaml is edited in the file — the API refuses
// to create, edit or delete one of its name (409 configured). Secrets are
// write-only: no answer and no change-log entry holds one (secret_set says
// whether there is one); a secret that fails the server's secret policy is
// refused (400, field secret). An IAX2 trunk (type: iax2) is run by the
// IAX2 module, which follows the trunk set the trunks module publishes
// after each change (src/core/trunk-set.ts); its type cannot change.
import { Type } from 'typebox';
import type { ApiResult, ApiRoute } from '../../core/api-routes.js';
import type { TrunkConfig } from './trunk-config.js';
import type { RouteStore, StoredRouteObjects } from './route-store.js';
import { configTrunkView, trunkFromBody, trunkView, type TrunkBody } from './trunk-store.js';

export interface TrunkApiDeps {
  store: RouteStore;
  fileTrunks(): readonly TrunkConfig[];
  /** the running trunks' state rows (name, registration, channels...) */
  trunkRows(): Array<{ name: string } & Record<string, unknown>>;
  stored(): StoredRouteObjects;
  /** reads the database again and swaps the running trunks */
  applyTrunks(): Promise<void>;
}

const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$';
const HOST = '^(dynamic|[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\\.?|\\[?[0-9A-Fa-f:.]+\\]?)$';
const USER = "^[A-Za-z0-9_.!~*'()&=+$,;?/-]{1,64}$";

/** the field rules the console checks as you type (the secret policy and the combinations: POST /trunks/validate) */
export const TRUNK_RULES = {
  name: { pattern: NAME, message: 'a name: letters, digits, _ . - (up to 40)' },
  host: { pattern: HOST, message: 'a host name, an IP address, or dynamic (the far end registers to us)' },
  username: { pattern: USER, message: 'an account name such as 9000' },
  context: { pattern: '^[A-Za-z0-9_-]+$', message: 'a dialplan context name such as from-trunk' },
  caller_id_number: { pattern: '^\\+?[0-9*#]{1,32}$', message: 'digits, optionally with a leading +' },
};

const nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Fields = {
  type: Type.Union([Type.Literal('sip'), Type.Literal('iax2')], { description: 'sip (the default) or iax2; fixed once made' }),
  host: Type.String({ pattern: HOST, maxLength: 255 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')]),
  username: nullable(Type.String({ pattern: USER })),
  secret: Type.Union([Type.String({ minLength: 1, maxLength: 128, description: 'write-only: never answered; held to the secret policy' }), Type.Null()]),
  register: Type.Boolean(),
  expiry: Type.Integer({ minimum: 10, maximum: 86400 }),
  retry_interval: Type.Integer({ minimum: 1, maximum: 3600 }),
  allow_from: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 }),
  auth_inbound: Type.Boolean(),
  context: Type.String({ pattern: TRUNK_RULES.context.pattern, maxLength: 80 }),
  max_channels: Type.Integer({ minimum: 0, maximum: 100000 }),
  caller_id_number: nullable(Type.String({ pattern: TRUNK_RULES.caller_id_number.pattern })),
  caller_id_name: nullable(Type.String({ pattern: '^[^\\x00-\\x1f"\\\\]{0,64}$' })),
  from_user: nullable(Type.String({ pattern: USER })),
  from_domain: nullable(Type.String({ pattern: HOST, maxLength: 255 })),
  send_pai: Type.Boolean(),
  privacy: Type.Union([Type.Literal('none'), Type.Literal('id')]),
  call_permissions: Type.Union([
    Type.Array(Type.Union(['internal', 'local', 'national', 'mobile', 'international', 'premium', 'emergency'].map((c) => Type.Literal(c))), { maxItems: 7 }),
    Type.Null(),
  ]),
  daily_spend_limit: Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.Null()]),
  disabled: Type.Boolean({ description: 'set aside: unregistered, not used by routes, its calls in refused' }),
};
/** the fields that mean something for each type (the console's form shows these); the reader takes the others but an IAX2 trunk ignores them, and refuses transport */
export const TRUNK_TYPE_FIELDS = {
  sip: Object.keys(Fields).filter((k) => k !== 'type' && k !== 'disabled'),
  iax2: ['host', 'port', 'username', 'secret', 'register', 'allow_from', 'context', 'max_channels', 'call_permissions', 'daily_spend_limit'],
};
const optional = Object.fromEntries(Object.entries(Fields).map(([k, v]) => [k, Type.Optional(v)]));
const TrunkCreate = Type.Object({ name: Type.String({ pattern: NAME }), ...optional, host: Fields.host }, { additionalProperties: false });
const TrunkPatch = Type.Object(optional, { additionalProperties: false, minProperties: 1 });
const NameParam = Type.Object({ name: Type.String({ pattern: NAME }) });

function fail(status: number, error: string, message: string, errors?: Array<{ field: string; message: string }>): ApiResult {
  return { status, body: { error, message, ...(errors ? { errors } : {}) } };
}

export function trunkApi(d: TrunkApiDeps): ApiRoute[] {
  const roles = ['admin'] as const;
  const inFile = (name: string) => d.fileTrunks().find((t) => t.name.toLowerCase() === name.toLowerCase());
  const findStored = (name: string) => d.stored().trunks.find((t) => t.name === name);
  const configured = (name: string) => fail(409, 'configured', `trunk ${name} is defined in palisade.yaml (trunks:); edit it there — the API changes only trunks it made`);
  /** the file's reader over the body: the same rules as palisade.yaml, the secret policy included */
  const check = (b: TrunkBody): ApiResult | null => {
    const r = trunkFromBody(b);
    if ('errors' in r) return fail(400, 'validation', r.errors.map((e) => e.message).join('; '), r.errors);
    return null;
  };
  const usedBy = (name: string) =>
    d
      .stored()
      .outbound.filter((r) => r.trunks.includes(name))
      .map((r) => r.name);

  return [
    {
      method: 'GET',
      path: '/trunks',
      roles,
      tag: 'trunks',
      summary:
        "Trunks: palisade.yaml's (source: config, edited in the file) then the database's (source: database), with registration state and channels in use; secrets are never answered (secret_set)",
      handle: () => {
        const state = new Map(d.trunkRows().map((r) => [r.name, r]));
        const file = d.fileTrunks().map((t) => ({ ...configTrunkView(t), ...state.get(t.name), source: 'config' }));
        const db = d
          .stored()
          .trunks.filter((b) => !inFile(b.name))
          .map((b) => {
            const v = trunkView(b);
            const s = state.get(b.name);
            return { ...v, ...(s ?? { registration: b.disabled ? 'disabled' : 'invalid' }), host: v.host, port: v.port ?? (v.type === 'iax2' ? 4569 : 5060), source: 'database' };
          });
        return { body: [...file, ...db] };
      },
    },
    {
      method: 'GET',
      path: '/trunks/rules',
      roles,
      tag: 'trunks',
      summary: "The server's rules for trunk fields (the console checks forms with them as you type)",
      handle: () => ({ body: { fields: TRUNK_RULES, types: TRUNK_TYPE_FIELDS, config_trunks: d.fileTrunks().map((t) => t.name) } }),
    },
    {
      method: 'POST',
      path: '/trunks/validate',
      roles,
      tag: 'trunks',
      summary: 'Check a trunk as it would be created (or, with the name of a database trunk, edited) without saving: the same answer a create or edit gives, or { ok: true }',
      body: Type.Object({ ...optional, name: Type.Optional(Type.String({ pattern: NAME })) }, { additionalProperties: false }),
      handle: (req) => {
        const b = req.body as Partial<TrunkBody>;
        const old = b.name ? findStored(b.name) : undefined;
        const next = { ...(old ?? {}), ...b, ...(b.secret === undefined && old ? { secret: old.secret } : {}) } as TrunkBody;
        if (!next.name) next.name = 'new-trunk';
        if (!next.host) return fail(400, 'validation', 'host is required', [{ field: 'host', message: 'host is required' }]);
        return check(next) ?? { body: { ok: true } };
      },
    },
    {
      method: 'POST',
      path: '/trunks',
      roles,
      tag: 'trunks',
      summary:
        "Create a SIP trunk, or an IAX2 one with type: iax2; it takes effect at once (a registering trunk starts registering, a host: dynamic one takes its peer's registration). The secret is write-only",
      body: TrunkCreate,
      async handle(req) {
        const b = req.body as TrunkBody;
        if (inFile(b.name))
          return fail(409, 'configured', `trunk ${b.name} is defined in palisade.yaml (trunks:); choose another name`, [{ field: 'name', message: 'defined in palisade.yaml' }]);
        if (d.stored().trunks.some((t) => t.name.toLowerCase() === b.name.toLowerCase()))
          return fail(409, 'exists', `trunk ${b.name} exists already`, [{ field: 'name', message: 'exists already' }]);
        const bad = check(b);
        if (bad) return bad;
        await d.store.put('trunk', b.name, b);
        await d.applyTrunks();
        const after = trunkView(b);
        return { status: 201, body: { ...after, source: 'database' }, change: { action: 'trunk.create', target: b.name, after } };
      },
    },
    {
      method: 'PATCH',
      path: '/trunks/:name',
      roles,
      tag: 'trunks',
      summary:
        'Edit a trunk of the database (disabled: true sets it aside); it takes effect at once, calls in progress keep going. A secret left out stays; secret: null removes it',
      params: NameParam,
      body: TrunkPatch,
      async handle(req) {
        const name = req.params.name!;
        if (inFile(name)) return configured(name);
        const old = findStored(name);
        if (!old) return fail(404, 'not-found', `no trunk ${name} in the database`);
        const next = { ...old, ...(req.body as object), name } as TrunkBody;
        if ((next.type ?? 'sip') !== (old.type ?? 'sip'))
          return fail(400, 'validation', `trunk ${name} is a ${old.type ?? 'sip'} trunk; its type cannot change — delete it and create it again`, [
            { field: 'type', message: 'cannot change' },
          ]);
        const bad = check(next);
        if (bad) return bad;
        await d.store.put('trunk', name, next);
        await d.applyTrunks();
        const before = trunkView(old);
        const after = { ...trunkView(next), ...((req.body as TrunkBody).secret !== undefined ? { secret_changed: true } : {}) };
        return { body: { ...trunkView(next), source: 'database' }, change: { action: 'trunk.update', target: name, before, after } };
      },
    },
    {
      method: 'DELETE',
      path: '/trunks/:name',
      roles,
      tag: 'trunks',
      summary: 'Delete a trunk of the database: it unregisters at once and routes naming it skip it (used_by lists them); calls in progress keep going',
      params: NameParam,
      async handle(req) {
        const name = req.params.name!;
        if (inFile(name)) return configured(name);
        const old = findStored(name);
        if (!old) return fail(404, 'not-found', `no trunk ${name} in the database`);
        await d.store.remove('trunk', name);
        await d.applyTrunks();
        return { body: { name, deleted: true, used_by: usedBy(name) }, change: { action: 'trunk.delete', target: name, before: trunkView(old) } };
      },
    },
  ];
}
