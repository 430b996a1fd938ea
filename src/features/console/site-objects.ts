// The rest of the site as files (`palisade export` / `palisade import`,
// beside site-files.ts's extensions and dialplan): every other object the
// API keeps in the database —
//
//   routes.yaml          outbound and inbound routes, time conditions (trunks module, route_objects)
//   trunks.yaml          SIP and IAX2 trunks (type: iax2), with their secrets in the clear (a trunk logs in to its provider
//                        with its secret, so unlike an extension's it cannot be kept as HA1)
//   fraud-numbers.yaml   the fraud numbers and prefixes (fraud_numbers)
//   queue-members.yaml   the queues' persistent dynamic members (queue_members)
//
// Written sorted and stable. Import replaces the database's objects of a
// kind with the file's when the file is there (an older export without it
// leaves that kind alone), after checking them all: trunks by the file's
// trunk reader (the secret policy included), time specs parsed, routes
// naming only trunks and time conditions that will exist.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/database.js';
import { ROUTE_STORE_MIGRATIONS, RouteStore, timeConditionFromBody, type StoredRouteObjects } from '../trunks/route-store.js';
import { trunkFromBody, type TrunkBody } from '../trunks/trunk-store.js';
import type { TrunkConfig } from '../trunks/trunk-config.js';
import type { RoutesConfig } from '../trunks/route-config.js';
import { QUEUE_LOG_MIGRATIONS } from '../queues/queue-log.js';
import { SiteError } from './site-files.js';

interface FraudRow {
  prefix: string;
  source: string;
  added_at: number;
}
interface QueueMemberRow {
  queuename: string;
  interface: string;
  membername: string;
  penalty: number;
  paused: number;
  reason: string;
}

export interface SiteObjects {
  routes: Pick<StoredRouteObjects, 'outbound' | 'inbound' | 'timeConditions'> | null;
  trunks: TrunkBody[] | null;
  fraud: FraudRow[] | null;
  queueMembers: QueueMemberRow[] | null;
}

const HEADERS = {
  routes: "# Palisade site export: the database's outbound and inbound routes and time conditions (palisade.yaml's are not here).\n",
  trunks: "# Palisade site export: the database's SIP and IAX2 trunks. Their secrets are in the clear (a trunk logs in to its provider with it). Keep this repository private.\n",
  fraud: "# Palisade site export: the database's fraud numbers and prefixes (palisade.yaml's fraud.numbers are not here).\n",
  queues: "# Palisade site export: the queues' persistent dynamic members (queue agents added at run time).\n",
};

// biome-ignore lint/suspicious/noExplicitAny: the modules' own tables
const k = (storage: Database) => storage.kysely as unknown as Kysely<any>;

/** the modules' tables, made when the server has not made them yet (a new database) */
export async function migrateSiteObjects(storage: Database): Promise<void> {
  await storage.migrateModule('trunks', ROUTE_STORE_MIGRATIONS);
  await storage.migrateModule('queues', QUEUE_LOG_MIGRATIONS);
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/** writes routes.yaml, trunks.yaml, fraud-numbers.yaml and queue-members.yaml into DIR; returns the counts */
export async function exportSiteObjects(storage: Database, dir: string): Promise<Record<string, number>> {
  await migrateSiteObjects(storage);
  const s = await new RouteStore(k(storage)).load();
  const write = (file: string, header: string, body: object) => writeFileSync(join(dir, file), header + stringifyYaml(body), { mode: 0o600 });
  write('routes.yaml', HEADERS.routes, {
    outbound: [...s.outbound].sort(byName),
    inbound: [...s.inbound].sort(byName),
    time_conditions: [...s.timeConditions].sort(byName),
  });
  write('trunks.yaml', HEADERS.trunks, { trunks: [...s.trunks].sort(byName) });
  const fraud = (await k(storage).selectFrom('fraud_numbers').select(['prefix', 'source', 'added_at']).orderBy('prefix').execute()).map((r) => ({
    prefix: String(r.prefix),
    source: String(r.source),
    added_at: Number(r.added_at),
  }));
  write('fraud-numbers.yaml', HEADERS.fraud, { fraud_numbers: fraud });
  const members = (await k(storage).selectFrom('queue_members').selectAll().orderBy('queuename').orderBy('interface').execute()).map((r) => ({
    queuename: String(r.queuename),
    interface: String(r.interface),
    membername: String(r.membername),
    penalty: Number(r.penalty),
    paused: Number(r.paused),
    reason: String(r.reason),
  }));
  write('queue-members.yaml', HEADERS.queues, { queue_members: members });
  return {
    outbound_routes: s.outbound.length,
    inbound_routes: s.inbound.length,
    time_conditions: s.timeConditions.length,
    trunks: s.trunks.length,
    fraud_numbers: fraud.length,
    queue_members: members.length,
  };
}

function readList(dir: string, file: string, key: string, problems: string[]): unknown[] | null {
  const p = join(dir, file);
  if (!existsSync(p)) return null;
  let doc: Record<string, unknown> | null;
  try {
    doc = parseYaml(readFileSync(p, 'utf8')) as Record<string, unknown> | null;
  } catch (e) {
    problems.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
  const list = doc?.[key];
  if (!Array.isArray(list)) {
    problems.push(`${p}: expected "${key}:" with a list`);
    return null;
  }
  return list;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Reads and checks the export's object files; every problem at once. `file`
 * is what palisade.yaml defines itself: its trunks and time conditions may
 * be named by the export's routes, its trunk names may not be taken.
 */
export function readSiteObjects(dir: string, file: { trunks: readonly TrunkConfig[]; routes: RoutesConfig | undefined }): SiteObjects {
  const problems: string[] = [];
  const out: SiteObjects = { routes: null, trunks: null, fraud: null, queueMembers: null };

  const trunks = readList(dir, 'trunks.yaml', 'trunks', problems);
  if (trunks) {
    out.trunks = [];
    const seen = new Set<string>();
    for (const [i, raw] of trunks.entries()) {
      const at = `${join(dir, 'trunks.yaml')}: trunks[${i}]`;
      if (!isObj(raw) || typeof raw.name !== 'string') {
        problems.push(`${at} has no name`);
        continue;
      }
      const b = raw as unknown as TrunkBody;
      if (seen.has(b.name.toLowerCase())) problems.push(`${at} (${b.name}) is listed twice`);
      seen.add(b.name.toLowerCase());
      if (file.trunks.some((t) => t.name.toLowerCase() === b.name.toLowerCase())) problems.push(`${at} (${b.name}) has the name of a trunk of palisade.yaml; rename one`);
      const r = trunkFromBody(b);
      if ('errors' in r) for (const e of r.errors) problems.push(`${at} (${b.name}): ${e.message}`);
      out.trunks!.push(b);
    }
  }

  const routesFile = join(dir, 'routes.yaml');
  if (existsSync(routesFile)) {
    const doc = (() => {
      try {
        return parseYaml(readFileSync(routesFile, 'utf8')) as Record<string, unknown> | null;
      } catch (e) {
        problems.push(`${routesFile}: ${(e as Error).message.split('\n')[0]}`);
        return null;
      }
    })();
    if (doc) {
      const list = (key: string) => {
        const v = doc[key] ?? [];
        if (!Array.isArray(v) || !v.every((x) => isObj(x) && typeof x.name === 'string')) {
          problems.push(`${routesFile}: "${key}:" must be a list of objects with a name`);
          return [];
        }
        return v as Array<Record<string, unknown> & { name: string }>;
      };
      const routes = {
        outbound: list('outbound') as unknown as StoredRouteObjects['outbound'],
        inbound: list('inbound') as unknown as StoredRouteObjects['inbound'],
        timeConditions: list('time_conditions') as unknown as StoredRouteObjects['timeConditions'],
      };
      const trunkNames = new Set([...file.trunks.map((t) => t.name), ...(out.trunks ?? []).map((t) => t.name)]);
      const tcNames = new Set([...(file.routes?.timeConditions ?? []).map((t) => t.name), ...routes.timeConditions.map((t) => t.name)]);
      routes.timeConditions.forEach((t, i) => {
        const c = Array.isArray(t.times) ? timeConditionFromBody(t) : { error: 'times: must be a list', index: 0 };
        if ('error' in c) problems.push(`${routesFile}: time_conditions[${i}] (${t.name}): ${c.error}`);
      });
      for (const [i, r] of routes.outbound.entries()) {
        if (!Array.isArray(r.match) || !Array.isArray(r.trunks)) {
          problems.push(`${routesFile}: outbound[${i}] (${r.name}) needs match: and trunks: lists`);
          continue;
        }
        for (const t of r.trunks)
          if (!trunkNames.has(t)) problems.push(`${routesFile}: outbound[${i}] (${r.name}) names trunk "${t}", which is neither in palisade.yaml nor in trunks.yaml`);
      }
      routes.inbound.forEach((r, i) => {
        if (typeof r.to !== 'string') problems.push(`${routesFile}: inbound[${i}] (${r.name}) has no "to"`);
        if (r.time_condition && !tcNames.has(r.time_condition))
          problems.push(`${routesFile}: inbound[${i}] (${r.name}) names time condition "${r.time_condition}", which is not defined`);
      });
      out.routes = routes;
    }
  }

  const fraud = readList(dir, 'fraud-numbers.yaml', 'fraud_numbers', problems);
  if (fraud) {
    out.fraud = [];
    for (const [i, raw] of fraud.entries()) {
      const p = isObj(raw) ? String(raw.prefix ?? '') : '';
      if (!/^[0-9]{3,20}$/.test(p)) {
        problems.push(`${join(dir, 'fraud-numbers.yaml')}: fraud_numbers[${i}].prefix "${p}" is not 3-20 digits`);
        continue;
      }
      const r = raw as Record<string, unknown>;
      out.fraud!.push({ prefix: p, source: String(r.source ?? 'import'), added_at: Number.isFinite(Number(r.added_at)) ? Number(r.added_at) : Date.now() });
    }
  }

  const members = readList(dir, 'queue-members.yaml', 'queue_members', problems);
  if (members) {
    out.queueMembers = [];
    for (const [i, raw] of members.entries()) {
      if (!isObj(raw) || typeof raw.queuename !== 'string' || typeof raw.interface !== 'string') {
        problems.push(`${join(dir, 'queue-members.yaml')}: queue_members[${i}] needs queuename and interface`);
        continue;
      }
      out.queueMembers!.push({
        queuename: raw.queuename,
        interface: raw.interface,
        membername: String(raw.membername ?? ''),
        penalty: Number(raw.penalty ?? 0) || 0,
        paused: raw.paused ? 1 : 0,
        reason: String(raw.reason ?? ''),
      });
    }
  }
  if (problems.length > 0) throw new SiteError(problems.join('\n'));
  return out;
}

/** replaces the database's objects of each kind the export has; returns the counts written */
export async function applySiteObjects(storage: Database, site: SiteObjects): Promise<Record<string, number>> {
  await migrateSiteObjects(storage);
  const db = k(storage);
  const store = new RouteStore(db);
  const counts: Record<string, number> = {};
  const replace = async (kinds: string[], objects: Array<[string, { name: string }]>) => {
    await db.deleteFrom('route_objects').where('kind', 'in', kinds).execute();
    for (const [kind, o] of objects) await store.put(kind as 'trunk', o.name, o);
  };
  if (site.trunks) {
    await replace(
      ['trunk'],
      site.trunks.map((t) => ['trunk', t]),
    );
    counts.trunks = site.trunks.length;
  }
  if (site.routes) {
    const r = site.routes;
    await replace(
      ['outbound', 'inbound', 'time_condition'],
      [
        ...r.outbound.map((o) => ['outbound', o] as [string, { name: string }]),
        ...r.inbound.map((o) => ['inbound', o] as [string, { name: string }]),
        ...r.timeConditions.map((o) => ['time_condition', o] as [string, { name: string }]),
      ],
    );
    counts.routes = r.outbound.length + r.inbound.length;
    counts.time_conditions = r.timeConditions.length;
  }
  if (site.fraud) {
    await db.deleteFrom('fraud_numbers').execute();
    for (const f of site.fraud) await db.insertInto('fraud_numbers').values(f).execute();
    counts.fraud_numbers = site.fraud.length;
  }
  if (site.queueMembers) {
    await db.deleteFrom('queue_members').execute();
    for (const m of site.queueMembers) await db.insertInto('queue_members').values(m).execute();
    counts.queue_members = site.queueMembers.length;
  }
  return counts;
}
