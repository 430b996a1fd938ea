// Routes and time conditions made through the API (issue 10): kept in the
// configured database (table route_objects, the trunks module's own) beside
// the `routes:` section of palisade.yaml, which stays read-only to the API.
// The running route table is the file's objects first (in file order), then
// the database's (by name); a change rebuilds the table at once — calls in
// progress keep the route they took.
import type { Kysely } from 'kysely';
import type { ModuleMigration } from '../../storage/database.js';
import { parseTimeSpec, type TimeSpec } from '../../dialplan/time-spec.js';
import type { TrunkBody } from './trunk-store.js';
import type { InboundRouteConfig, OutboundRouteConfig, RoutesConfig, TimeConditionConfig } from './route-config.js';

export type RouteObjectKind = 'outbound' | 'inbound' | 'time_condition';
/** what the table holds: the API's routes and time conditions, and its trunks (trunk-store.ts) */
export type StoredKind = RouteObjectKind | 'trunk';

/** an outbound route as the API writes it (snake_case, as in palisade.yaml); no PIN through the API */
export interface OutboundRouteBody {
  name: string;
  match: string[];
  trunks: string[];
  strip?: number;
  prepend?: string;
  caller_id_number?: string | null;
  caller_id_name?: string | null;
  privacy?: 'none' | 'id' | null;
  contexts?: string[];
  allow_trunk_calls?: boolean;
  timeout?: number;
}

/** an inbound route; `name` is the API's handle on it (file routes have none) */
export interface InboundRouteBody {
  name: string;
  did?: string;
  cid?: string;
  trunk?: string;
  to: string;
  time_condition?: string | null;
  else?: string | null;
}

export interface TimeConditionBody {
  name: string;
  /** Asterisk time specs: `09:00-17:00,mon-fri,*,*` */
  times: string[];
  holidays?: string[];
}

export const ROUTE_STORE_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    description: 'routes and time conditions made through the API',
    tables: ['route_objects'],
    async up(db, ctx) {
      await db.schema
        .createTable('route_objects')
        .ifNotExists()
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${ctx.prefix}route_objects_pk`, ['kind', 'name'])
        .execute();
    },
  },
];

export interface StoredRouteObjects {
  outbound: OutboundRouteBody[];
  inbound: InboundRouteBody[];
  timeConditions: TimeConditionBody[];
  trunks: TrunkBody[];
}

export class RouteStore {
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: the module's own table
    private readonly db: Kysely<any>,
  ) {}

  async load(): Promise<StoredRouteObjects> {
    const rows = (await this.db.selectFrom('route_objects').select(['kind', 'name', 'data']).orderBy('name').execute()) as Array<{ kind: string; name: string; data: string }>;
    const of = <T>(k: StoredKind) => rows.filter((r) => r.kind === k).map((r) => JSON.parse(r.data) as T);
    return { outbound: of('outbound'), inbound: of('inbound'), timeConditions: of('time_condition'), trunks: of<TrunkBody>('trunk') };
  }

  async put(kind: StoredKind, name: string, data: object): Promise<void> {
    await this.db.deleteFrom('route_objects').where('kind', '=', kind).where('name', '=', name).execute();
    await this.db
      .insertInto('route_objects')
      .values({ kind, name, data: JSON.stringify(data), updated_at: Date.now() })
      .execute();
  }

  async remove(kind: StoredKind, name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('route_objects').where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0) > 0;
  }
}

export function outboundFromBody(b: OutboundRouteBody): OutboundRouteConfig {
  return {
    name: b.name,
    match: [...b.match],
    trunks: [...b.trunks],
    strip: b.strip ?? 0,
    prepend: b.prepend ?? '',
    pin: null,
    callerIdNumber: b.caller_id_number ?? null,
    callerIdName: b.caller_id_name ?? null,
    privacy: b.privacy ?? null,
    contexts: [...(b.contexts ?? [])],
    allowTrunkCalls: b.allow_trunk_calls ?? false,
    timeout: b.timeout ?? 60,
  };
}

export function outboundToBody(r: OutboundRouteConfig): OutboundRouteBody {
  return {
    name: r.name,
    match: r.match,
    trunks: r.trunks,
    strip: r.strip,
    prepend: r.prepend,
    caller_id_number: r.callerIdNumber,
    caller_id_name: r.callerIdName,
    privacy: r.privacy,
    contexts: r.contexts,
    allow_trunk_calls: r.allowTrunkCalls,
    timeout: r.timeout,
  };
}

export function inboundFromBody(b: InboundRouteBody): InboundRouteConfig {
  return { did: b.did ?? '', cid: b.cid ?? '', trunk: b.trunk ?? '', to: b.to, timeCondition: b.time_condition ?? null, else: b.else ?? null };
}

export function inboundToBody(r: InboundRouteConfig, name: string): InboundRouteBody {
  return { name, did: r.did, cid: r.cid, trunk: r.trunk, to: r.to, time_condition: r.timeCondition, else: r.else };
}

/** the time specs parsed, or the first one that does not parse */
export function timeConditionFromBody(b: TimeConditionBody): TimeConditionConfig | { error: string; index: number } {
  const times: TimeSpec[] = [];
  for (const [i, t] of b.times.entries()) {
    const p = parseTimeSpec(t);
    if ('error' in p) return { error: `"${t}": ${p.error}`, index: i };
    times.push(p);
  }
  return { name: b.name, times, holidays: [...(b.holidays ?? [])] };
}

export function timeConditionToBody(c: TimeConditionConfig): TimeConditionBody {
  return { name: c.name, times: c.times.map((t) => t.text), holidays: c.holidays };
}

/** the file's routes, then the database's (which never share a name with the file's: the API refuses it) */
export function mergeRoutes(file: RoutesConfig, stored: StoredRouteObjects): RoutesConfig {
  const tcs: TimeConditionConfig[] = [];
  for (const t of stored.timeConditions) {
    const c = timeConditionFromBody(t);
    if (!('error' in c)) tcs.push(c);
  }
  return {
    outbound: [...file.outbound, ...stored.outbound.map(outboundFromBody)],
    inbound: [...file.inbound, ...stored.inbound.map(inboundFromBody)],
    timeConditions: [...file.timeConditions, ...tcs],
  };
}
