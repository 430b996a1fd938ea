// The trunks module's REST resources (issue 10; src/core/api-routes.ts):
// outbound and inbound routes and time conditions (read,
// create, edit, delete). Only the `admin` role: an operator has no trunks or
// routes (docs/operations.md, "Web console and API"). Objects of the
// `routes:` section of palisade.yaml are listed (source: config) but edited
// in the file; the API's live in the database (route-store.ts) and take
// effect at once.
import { Type } from 'typebox';
import type { ApiResult, ApiRoute } from '../../core/api-routes.js';
import { parsePattern } from '../../dialplan/matcher.js';
import type { RoutesConfig } from './route-config.js';
import {
  inboundToBody,
  outboundFromBody,
  outboundToBody,
  timeConditionFromBody,
  timeConditionToBody,
  type InboundRouteBody,
  type OutboundRouteBody,
  type RouteObjectKind,
  type RouteStore,
  type StoredRouteObjects,
  type TimeConditionBody,
} from './route-store.js';

export interface RouteApiDeps {
  store: RouteStore;
  /** the `routes:` section of the file */
  file: RoutesConfig;
  trunkNames(): string[];
  /** reads the database again and swaps the running route table */
  rebuild(): Promise<StoredRouteObjects>;
  stored(): StoredRouteObjects;
}

const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$';
const PATTERN = '^(_[0-9A-Za-z*#+\\[\\]\\-.!]+|[0-9*#+]+)$';
const DEST = '^(\\$\\{EXTEN\\}|[0-9*#+]{1,32}|[A-Za-z0-9_-]+,[^,\\s]+,[0-9A-Za-z_-]+|voicemail:[0-9]{1,32})$';

export const ROUTE_RULES = {
  name: { pattern: NAME, message: 'a name: letters, digits, _ . - (up to 40)' },
  pattern: { pattern: PATTERN, message: 'a dial pattern such as _2XXX or _0. or a number such as 2001' },
  prepend: { pattern: '^[0-9*#+]{0,32}$', message: 'digits to put in front, such as 0049' },
  destination: { pattern: DEST, message: '${EXTEN}, an extension number, context,exten,priority, or voicemail:NUMBER' },
};

const OutboundFields = {
  match: Type.Array(Type.String({ pattern: PATTERN, maxLength: 64 }), { minItems: 1, maxItems: 50 }),
  trunks: Type.Array(Type.String({ pattern: NAME }), { minItems: 1, maxItems: 20 }),
  strip: Type.Integer({ minimum: 0, maximum: 32 }),
  prepend: Type.String({ pattern: ROUTE_RULES.prepend.pattern }),
  caller_id_number: Type.Union([Type.String({ pattern: '^\\+?[0-9*#]{1,32}$' }), Type.Null()]),
  caller_id_name: Type.Union([Type.String({ pattern: '^[^\\x00-\\x1f"\\\\]{0,64}$' }), Type.Null()]),
  privacy: Type.Union([Type.Literal('none'), Type.Literal('id'), Type.Null()]),
  contexts: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,80}$' }), { maxItems: 50 }),
  allow_trunk_calls: Type.Boolean(),
  timeout: Type.Integer({ minimum: 0, maximum: 600 }),
};
const OutboundCreate = Type.Object(
  {
    name: Type.String({ pattern: NAME }),
    match: OutboundFields.match,
    trunks: OutboundFields.trunks,
    strip: Type.Optional(OutboundFields.strip),
    prepend: Type.Optional(OutboundFields.prepend),
    caller_id_number: Type.Optional(OutboundFields.caller_id_number),
    caller_id_name: Type.Optional(OutboundFields.caller_id_name),
    privacy: Type.Optional(OutboundFields.privacy),
    contexts: Type.Optional(OutboundFields.contexts),
    allow_trunk_calls: Type.Optional(OutboundFields.allow_trunk_calls),
    timeout: Type.Optional(OutboundFields.timeout),
  },
  { additionalProperties: false },
);
const OutboundPatch = Type.Object(
  {
    match: Type.Optional(OutboundFields.match),
    trunks: Type.Optional(OutboundFields.trunks),
    strip: Type.Optional(OutboundFields.strip),
    prepend: Type.Optional(OutboundFields.prepend),
    caller_id_number: Type.Optional(OutboundFields.caller_id_number),
    caller_id_name: Type.Optional(OutboundFields.caller_id_name),
    privacy: Type.Optional(OutboundFields.privacy),
    contexts: Type.Optional(OutboundFields.contexts),
    allow_trunk_calls: Type.Optional(OutboundFields.allow_trunk_calls),
    timeout: Type.Optional(OutboundFields.timeout),
  },
  { additionalProperties: false, minProperties: 1 },
);
const InboundFields = {
  did: Type.String({ pattern: `^$|${PATTERN}`, maxLength: 64, description: "'' = any" }),
  cid: Type.String({ pattern: `^$|${PATTERN}`, maxLength: 64, description: "'' = any" }),
  trunk: Type.String({ maxLength: 40 }),
  to: Type.String({ pattern: DEST, maxLength: 120 }),
  time_condition: Type.Union([Type.String({ pattern: NAME }), Type.Null()]),
  else: Type.Union([Type.String({ pattern: DEST, maxLength: 120 }), Type.Null()]),
};
const InboundCreate = Type.Object(
  {
    name: Type.String({ pattern: NAME }),
    did: Type.Optional(InboundFields.did),
    cid: Type.Optional(InboundFields.cid),
    trunk: Type.Optional(InboundFields.trunk),
    to: InboundFields.to,
    time_condition: Type.Optional(InboundFields.time_condition),
    else: Type.Optional(InboundFields.else),
  },
  { additionalProperties: false },
);
const InboundPatch = Type.Object(
  {
    did: Type.Optional(InboundFields.did),
    cid: Type.Optional(InboundFields.cid),
    trunk: Type.Optional(InboundFields.trunk),
    to: Type.Optional(InboundFields.to),
    time_condition: Type.Optional(InboundFields.time_condition),
    else: Type.Optional(InboundFields.else),
  },
  { additionalProperties: false, minProperties: 1 },
);
const TimeCreate = Type.Object(
  {
    name: Type.String({ pattern: NAME }),
    times: Type.Array(Type.String({ minLength: 1, maxLength: 120, description: 'times,weekdays,mdays,months[,timezone] such as 09:00-17:00,mon-fri,*,*' }), {
      minItems: 1,
      maxItems: 20,
    }),
    holidays: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), { maxItems: 366 })),
  },
  { additionalProperties: false },
);
const TimePatch = Type.Object(
  {
    times: Type.Optional(TimeCreate.properties.times),
    holidays: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), { maxItems: 366 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const NameParam = Type.Object({ name: Type.String({ pattern: NAME }) });

function fail(status: number, error: string, message: string, field?: string): ApiResult {
  return { status, body: { error, message, ...(field ? { errors: [{ field, message }] } : {}) } };
}

export function routeApi(d: RouteApiDeps): ApiRoute[] {
  const roles = ['admin'] as const;
  const inFile = (kind: RouteObjectKind, name: string): boolean =>
    kind === 'outbound' ? d.file.outbound.some((r) => r.name === name) : kind === 'time_condition' ? d.file.timeConditions.some((t) => t.name === name) : false;

  /** the checks a schema cannot make: known trunks, patterns that parse, defined time conditions */
  const checkOutbound = (b: OutboundRouteBody): ApiResult | null => {
    const known = d.trunkNames();
    for (const t of b.trunks) if (!known.includes(t)) return fail(400, 'validation', `trunks: "${t}" is not a trunk (trunks: ${known.join(', ') || 'none defined'})`, 'trunks');
    for (const p of b.match) {
      if (!p.startsWith('_')) continue;
      const r = parsePattern(p);
      if (!Array.isArray(r)) return fail(400, 'validation', `match: "${p}": ${r.error}`, 'match');
    }
    return null;
  };
  const timeConditionNames = () => [...d.file.timeConditions.map((t) => t.name), ...d.stored().timeConditions.map((t) => t.name)];
  const checkInbound = (b: InboundRouteBody): ApiResult | null => {
    const known = d.trunkNames();
    if (b.trunk && !known.includes(b.trunk)) return fail(400, 'validation', `trunk: "${b.trunk}" is not a trunk (trunks: ${known.join(', ') || 'none defined'})`, 'trunk');
    for (const [f, p] of [
      ['did', b.did],
      ['cid', b.cid],
    ] as const) {
      if (!p?.startsWith('_')) continue;
      const r = parsePattern(p);
      if (!Array.isArray(r)) return fail(400, 'validation', `${f}: "${p}": ${r.error}`, f);
    }
    if (b.time_condition && !timeConditionNames().includes(b.time_condition)) {
      return fail(400, 'validation', `time_condition: "${b.time_condition}" is not defined (defined: ${timeConditionNames().join(', ') || 'none'})`, 'time_condition');
    }
    if (b.else && !b.time_condition) return fail(400, 'validation', 'else: needs a time_condition (it is where calls go outside it)', 'else');
    return null;
  };
  const checkTime = (b: TimeConditionBody): ApiResult | null => {
    const c = timeConditionFromBody(b);
    if ('error' in c) return fail(400, 'validation', `times.${c.index}: ${c.error}`, `times.${c.index}`);
    for (const h of b.holidays ?? []) if (Number.isNaN(Date.parse(`${h}T00:00:00Z`))) return fail(400, 'validation', `holidays: "${h}" is not a date`, 'holidays');
    return null;
  };

  type Obj = { name: string } & Record<string, unknown>;
  interface Kind {
    path: string;
    what: string;
    action: string;
    list(s: StoredRouteObjects): Obj[];
    fileViews(): unknown[];
    view(b: Obj): unknown;
    check(b: unknown): ApiResult | null;
    create: object;
    patch: object;
  }
  const kinds: Record<RouteObjectKind, Kind> = {
    outbound: {
      path: '/routes/outbound',
      what: 'outbound route',
      action: 'route.outbound',
      list: (s) => s.outbound as unknown as Obj[],
      fileViews: () => d.file.outbound.map((r) => ({ ...outboundToBody(r), pin: r.pin !== null, source: 'config' })),
      view: (b) => ({ ...outboundToBody(outboundFromBody(b as unknown as OutboundRouteBody)), pin: false, source: 'database' }),
      check: (b: unknown) => checkOutbound(b as OutboundRouteBody),
      create: OutboundCreate,
      patch: OutboundPatch,
    },
    inbound: {
      path: '/routes/inbound',
      what: 'inbound route',
      action: 'route.inbound',
      list: (s) => s.inbound as unknown as Obj[],
      fileViews: () => d.file.inbound.map((r, i) => ({ ...inboundToBody(r, `config-${i + 1}`), source: 'config' })),
      view: (b) => ({ did: '', cid: '', trunk: '', time_condition: null, else: null, ...b, source: 'database' }),
      check: (b: unknown) => checkInbound(b as InboundRouteBody),
      create: InboundCreate,
      patch: InboundPatch,
    },
    time_condition: {
      path: '/time-conditions',
      what: 'time condition',
      action: 'time_condition',
      list: (s) => s.timeConditions as unknown as Obj[],
      fileViews: () => d.file.timeConditions.map((t) => ({ ...timeConditionToBody(t), source: 'config' })),
      view: (b) => ({ holidays: [], ...b, source: 'database' }),
      check: (b: unknown) => checkTime(b as TimeConditionBody),
      create: TimeCreate,
      patch: TimePatch,
    },
  };

  const routes: ApiRoute[] = [
    {
      method: 'GET',
      path: '/routes/rules',
      roles,
      tag: 'routes',
      summary: "The server's rules for route fields (the console validates forms with them as you type) and the trunks a route may name",
      handle: () => ({ body: { fields: ROUTE_RULES, trunks: d.trunkNames(), time_conditions: timeConditionNames() } }),
    },
  ];

  for (const [kind, k] of Object.entries(kinds) as Array<[RouteObjectKind, Kind]>) {
    const findStored = (name: string) => k.list(d.stored()).find((o) => o.name === name);
    const notFound = (name: string) =>
      inFile(kind, name)
        ? fail(409, 'configured', `${k.what} ${name} is written in palisade.yaml (routes:); edit it there`)
        : fail(404, 'not-found', `no ${k.what} ${name} in the database`);
    routes.push(
      {
        method: 'GET',
        path: k.path,
        roles,
        tag: 'routes',
        summary: `${k.what[0]!.toUpperCase()}${k.what.slice(1)}s: palisade.yaml's (source: config, read-only here) then the database's, in the order they are tried`,
        handle: () => ({ body: [...k.fileViews(), ...k.list(d.stored()).map((o) => k.view(o))] }),
      },
      {
        method: 'POST',
        path: k.path,
        roles,
        tag: 'routes',
        summary: `Create a ${k.what}; it takes effect at once`,
        body: k.create,
        async handle(req) {
          const b = req.body as Obj;
          if (inFile(kind, b.name) || findStored(b.name)) return fail(409, 'exists', `${k.what} ${b.name} exists already`, 'name');
          const bad = k.check(b);
          if (bad) return bad;
          await d.store.put(kind, b.name, b);
          await d.rebuild();
          const after = k.view(b);
          return { status: 201, body: after, change: { action: `${k.action}.create`, target: b.name, after } };
        },
      },
      {
        method: 'PATCH',
        path: `${k.path}/:name`,
        roles,
        tag: 'routes',
        summary: `Edit a ${k.what} of the database; it takes effect at once (calls in progress keep going)`,
        params: NameParam,
        body: k.patch,
        async handle(req) {
          const name = req.params.name!;
          const old = findStored(name);
          if (!old) return notFound(name);
          const next = { ...old, ...(req.body as object), name } as Obj;
          const bad = k.check(next);
          if (bad) return bad;
          await d.store.put(kind, name, next);
          await d.rebuild();
          const before = k.view(old);
          const after = k.view(next);
          return { body: after, change: { action: `${k.action}.update`, target: name, before, after } };
        },
      },
      {
        method: 'DELETE',
        path: `${k.path}/:name`,
        roles,
        tag: 'routes',
        summary: `Delete a ${k.what} of the database`,
        params: NameParam,
        async handle(req) {
          const name = req.params.name!;
          const old = findStored(name);
          if (!old) return notFound(name);
          if (kind === 'time_condition') {
            const users = [
              ...d.file.inbound.filter((r) => r.timeCondition === name).map(() => 'palisade.yaml'),
              ...d
                .stored()
                .inbound.filter((r) => r.time_condition === name)
                .map((r) => r.name),
            ];
            if (users.length > 0) return fail(409, 'in-use', `time condition ${name} is used by inbound route(s) ${users.join(', ')}`);
          }
          await d.store.remove(kind, name);
          await d.rebuild();
          return { body: { name, deleted: true }, change: { action: `${k.action}.delete`, target: name, before: k.view(old) } };
        },
      },
    );
  }
  return routes;
}
