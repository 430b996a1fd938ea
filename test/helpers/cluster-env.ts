// What the cluster tests share: the machine's PostgreSQL and NATS (the
// install script starts them; PALISADE_TEST_PG_URL / PALISADE_TEST_NATS_URL
// point elsewhere), a tag that keeps one test's tables, streams and buckets
// apart from every other run, a query, the tables' removal, and waiting for
// a condition that a cluster reaches asynchronously.
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPalisade, type PalisadeProcess } from './palisade-process.js';
import { palisadeStatus } from './sip-probe.js';
import type { TestUser } from './users.js';

export const PG_URL = process.env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.PALISADE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** a name no other run uses: `letters`, the process id and the time (a NATS namespace and a table prefix) */
export function clusterTag(letters: string): string {
  return `${letters}${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
}

/**
 * The YAML lines every cluster test's node starts with: its `cluster:`
 * section (node name, broker, the test's namespace) and no OPTIONS
 * keep-alives (SIPp phones would take them for a call).
 */
export function clusterNodeYaml(node: string, namespace: string, broker = NATS_URL): string[] {
  return ['cluster:', `  node: ${node}`, `  broker: ${broker}`, `  namespace: ${namespace}`, 'registrar:', '  qualify_interval: 0'];
}

/** one query on its own connection */
export async function pgQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], url = PG_URL): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** drops every table whose name starts with `prefix` */
export async function dropTables(prefix: string, url = PG_URL): Promise<void> {
  const rows = await pgQuery<{ tablename: string }>('select tablename from pg_tables where tablename like $1', [`${prefix}%`], url);
  for (const { tablename } of rows) await pgQuery(`drop table if exists "${tablename}" cascade`, [], url);
}

/** polls `check` every 100 ms until it holds; fails the test naming `what` after `timeoutMs` */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { callResult } from './call-result.js';

/** the security verdict of the newest CDR of `src` written by `node` (its uniqueids start with the node's name) */
export async function lastVerdict(prefix: string, src: string, node: string): Promise<string | undefined> {
  const rows = await pgQuery<{ security_verdict: string }>(`select security_verdict from "${prefix}cdr" where src = $1 and uniqueid like $2 order by id desc limit 1`, [
    src,
    `${node}-%`,
  ]);
  return rows[0]?.security_verdict;
}

/**
 * Two nodes of one cluster on the machine's PostgreSQL (tables under
 * `prefix`) and NATS: node a on 127.0.0.`first` (it imports `users`), node b
 * on the next address, both on `sipPort`; `yaml(node)` is each node's
 * configuration beyond storage. Each node is pushed to `into` as it starts
 * (the test's after() stops them); resolves once both have joined the
 * broker and each sees the other.
 */
export async function startTwoNodes(o: {
  users: TestUser[];
  first: number;
  sipPort: number;
  domain: string;
  prefix: string;
  yaml: (node: string) => string;
  into: PalisadeProcess[];
  /** sip.workers of each node (1 when omitted) */
  workers?: (node: string) => number;
}): Promise<[PalisadeProcess, PalisadeProcess]> {
  for (const [i, name] of ['a', 'b'].entries()) {
    o.into.push(
      await startPalisade({
        users: i === 0 ? o.users : undefined,
        address: `127.0.0.${o.first + i}`,
        sipPort: o.sipPort,
        domain: o.domain,
        transports: ['udp'],
        storage: ['driver: postgres', `url: ${PG_URL}`, `table_prefix: ${o.prefix}`],
        extraYaml: o.yaml(name),
        workers: o.workers?.(name),
      }),
    );
  }
  const nodes = o.into.slice(-2) as [PalisadeProcess, PalisadeProcess];
  for (const p of nodes) await p.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
  await eventually('each node sees the other', () => nodes.every((p) => ((palisadeStatus(p.configPath).cluster as { nodes: string[] }).nodes ?? []).length === 2));
  return nodes;
}
