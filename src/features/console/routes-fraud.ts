// The fraud-number list of the security module through the API (issue 10):
// the prefixes `palisade fraud import` and the API add to the database
// (table fraud_numbers), plus fraud.numbers of palisade.yaml (read-only
// here). A change takes effect at once: the running call gate reloads the
// list (fraud-reload) or drops a prefix (fraud-remove). Reading is for every
// role (a security record); changing for admin and operator.
import { Type } from 'typebox';
import type { ApiRoute } from '../../core/api-routes.js';
import { ReputationRepo } from '../../storage/reputation-repo.js';
import { ApiError, type ConsoleContext } from './console-context.js';

const Prefix = Type.String({ pattern: '^\\+?[0-9]{3,20}$', description: 'a number or prefix in E.164, such as +88213 or 88213' });

export function fraudRoutes(c: ConsoleContext): ApiRoute[] {
  const repo = new ReputationRepo(c.storage);
  const configured = () => c.cfg.guard.fraud.numbers.map((n: string) => n.replace(/[\s().+-]/g, ''));
  const command = async (name: string, args: Record<string, unknown>) => {
    if (!c.commands.has(name)) throw new ApiError(409, 'not-running', 'the security module is not running');
    return (await c.commands.run(name, args)) as Record<string, unknown>;
  };
  return [
    {
      method: 'GET',
      path: '/fraud-numbers',
      roles: ['admin', 'operator', 'auditor'],
      tag: 'security',
      summary: "Known fraud numbers and prefixes the call gate refuses: the database's (source: database) and palisade.yaml's fraud.numbers (source: config)",
      async handle() {
        const rows = await c.storage.kysely.selectFrom('fraud_numbers').select(['prefix', 'source', 'added_at']).orderBy('prefix').execute();
        return {
          body: [
            ...configured().map((prefix) => ({ prefix, source: 'config', added_by: 'palisade.yaml', added_at: null })),
            ...rows.map((r) => ({ prefix: r.prefix, source: 'database', added_by: r.source, added_at: Number(r.added_at) })),
          ],
        };
      },
    },
    {
      method: 'POST',
      path: '/fraud-numbers',
      roles: ['admin', 'operator'],
      tag: 'security',
      summary: 'Add a fraud number or prefix; calls to it are refused at once',
      body: Type.Object({ prefix: Prefix }, { additionalProperties: false }),
      async handle(req) {
        const prefix = (req.body as { prefix: string }).prefix.replace(/^\+/, '');
        const added = await repo.addFraudNumbers([prefix], `api:${req.actor}`);
        if (added === 0) throw new ApiError(409, 'exists', `${prefix} is listed already`, [{ field: 'prefix', message: 'listed already' }]);
        const r = await command('fraud-reload', {});
        return { status: 201, body: { prefix, fraud_numbers: r.fraud_numbers }, change: { action: 'fraud.add', target: prefix, after: { prefix } } };
      },
    },
    {
      method: 'DELETE',
      path: '/fraud-numbers/:prefix',
      roles: ['admin', 'operator'],
      tag: 'security',
      summary: 'Take a prefix off the list (one of palisade.yaml is edited there)',
      params: Type.Object({ prefix: Prefix }),
      async handle(req) {
        const prefix = req.params.prefix!.replace(/^\+/, '');
        if (configured().includes(prefix)) throw new ApiError(409, 'configured', `${prefix} is in fraud.numbers of palisade.yaml; edit it there`);
        const before = await c.storage.kysely.selectFrom('fraud_numbers').select(['prefix', 'source']).where('prefix', '=', prefix).executeTakeFirst();
        if (!before) throw new ApiError(404, 'not-found', `${prefix} is not listed`);
        await c.storage.kysely.deleteFrom('fraud_numbers').where('prefix', '=', prefix).execute();
        const r = await command('fraud-remove', { prefix });
        return { body: { prefix, deleted: true, fraud_numbers: r.fraud_numbers }, change: { action: 'fraud.remove', target: prefix, before } };
      },
    },
  ];
}
