// Records through the API: CDR search (filter, page, CSV export, hourly
// figures for the charts) and the change log (read only: no route, for any
// role, edits or deletes it).
import { Type } from 'typebox';
import type { ApiRoute } from '../../core/api-routes.js';
import { CDR_DISPOSITIONS } from '../../storage/cdr-repo.js';
import type { ConsoleContext } from './console-context.js';

const CdrFilter = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'start >= from (epoch ms)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'start < to (epoch ms)' })),
    src: Type.Optional(Type.String({ maxLength: 80 })),
    dst: Type.Optional(Type.String({ maxLength: 80 })),
    number: Type.Optional(Type.String({ maxLength: 80, description: 'src or dst' })),
    disposition: Type.Optional(Type.Union(CDR_DISPOSITIONS.map((d) => Type.Literal(d)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
);

type Filter = { from?: number; to?: number; src?: string; dst?: string; number?: string; disposition?: string; limit?: number; offset?: number };

const CSV_COLUMNS = [
  'start',
  'answer',
  'end',
  'src',
  'dst',
  'clid',
  'dcontext',
  'channel',
  'dstchannel',
  'lastapp',
  'duration',
  'billsec',
  'disposition',
  'uniqueid',
  'source_ip',
  'security_verdict',
] as const;

/**
 * One CSV field (RFC 4180: quoted when it holds a comma, quote or line
 * break; quotes doubled). A field a spreadsheet would run as a formula
 * (= + - @ first) gets a leading apostrophe: caller IDs come from outside.
 */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?[0-9.]+$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function recordRoutes(c: ConsoleContext): ApiRoute[] {
  const query = (f: Filter) => {
    let q = c.storage.kysely.selectFrom('cdr');
    if (f.from !== undefined) q = q.where('start', '>=', f.from);
    if (f.to !== undefined) q = q.where('start', '<', f.to);
    if (f.src) q = q.where('src', '=', f.src);
    if (f.dst) q = q.where('dst', '=', f.dst);
    if (f.number) q = q.where((eb) => eb.or([eb('src', '=', f.number!), eb('dst', '=', f.number!)]));
    if (f.disposition) q = q.where('disposition', '=', f.disposition);
    return q;
  };
  const rowView = (r: Record<string, unknown>) => ({
    ...r,
    id: Number(r.id),
    start: Number(r.start),
    end: Number(r.end),
    answer: r.answer === null || r.answer === undefined ? null : Number(r.answer),
  });
  return [
    {
      method: 'GET',
      path: '/cdr',
      roles: ['admin', 'operator', 'auditor'],
      tag: 'cdr',
      summary: 'Call detail records, newest first, filtered and paged',
      query: CdrFilter,
      async handle(req) {
        const f = req.query as Filter;
        const total = await query(f)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst();
        const rows = await query(f)
          .selectAll()
          .orderBy('start', 'desc')
          .orderBy('id', 'desc')
          .limit(f.limit ?? 50)
          .offset(f.offset ?? 0)
          .execute();
        return { body: { total: Number(total?.n ?? 0), rows: rows.map((r) => rowView(r as unknown as Record<string, unknown>)) } };
      },
    },
    {
      method: 'GET',
      path: '/cdr.csv',
      roles: ['admin', 'operator', 'auditor'],
      tag: 'cdr',
      summary: 'The same search as CSV (at most 100,000 rows; times in ISO 8601)',
      query: Type.Omit(CdrFilter, ['limit', 'offset']),
      async handle(req) {
        const rows = await query(req.query as Filter)
          .select([...CSV_COLUMNS])
          .orderBy('start', 'desc')
          .limit(100_000)
          .execute();
        const iso = (v: unknown) => (v === null || v === undefined ? '' : new Date(Number(v)).toISOString());
        const lines = [CSV_COLUMNS.join(',')];
        for (const r of rows as unknown as Array<Record<string, unknown>>) {
          lines.push(CSV_COLUMNS.map((k) => csvField(k === 'start' || k === 'answer' || k === 'end' ? iso(r[k]) : r[k])).join(','));
        }
        return {
          body: lines.join('\r\n') + '\r\n',
          contentType: 'text/csv; charset=utf-8',
          headers: { 'content-disposition': 'attachment; filename="cdr.csv"' },
        };
      },
    },
    {
      method: 'GET',
      path: '/cdr/hourly',
      roles: ['admin', 'operator', 'auditor'],
      tag: 'cdr',
      summary: 'Calls and answered calls per hour over the last `hours` hours (the dashboard chart)',
      query: Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 31, default: 24 })) }, { additionalProperties: false }),
      async handle(req) {
        const hours = Number(req.query.hours ?? 24);
        const hour = 3_600_000;
        const now = Date.now();
        const first = Math.floor(now / hour) * hour - (hours - 1) * hour;
        const rows = await c.storage.kysely.selectFrom('cdr').select(['start', 'disposition', 'rtp_a_rx_loss_pct']).where('start', '>=', first).execute();
        const buckets = Array.from({ length: hours }, (_, i) => ({ hour: first + i * hour, calls: 0, answered: 0, lossSum: 0, lossN: 0 }));
        for (const r of rows as unknown as Array<{ start: unknown; disposition: string; rtp_a_rx_loss_pct?: unknown }>) {
          const b = buckets[Math.floor((Number(r.start) - first) / hour)];
          if (!b) continue;
          b.calls++;
          if (r.disposition === 'ANSWERED') b.answered++;
          if (r.rtp_a_rx_loss_pct !== null && r.rtp_a_rx_loss_pct !== undefined) {
            b.lossSum += Number(r.rtp_a_rx_loss_pct);
            b.lossN++;
          }
        }
        return { body: buckets.map((b) => ({ hour: b.hour, calls: b.calls, answered: b.answered, rtp_loss_pct: b.lossN ? b.lossSum / b.lossN : null })) };
      },
    },
    {
      method: 'GET',
      path: '/changes',
      roles: ['admin', 'auditor'],
      tag: 'changes',
      summary: 'The change log: who changed what, when, from where, before and after (read only)',
      query: Type.Object(
        {
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
          actor: Type.Optional(Type.String({ maxLength: 64 })),
          action: Type.Optional(Type.String({ maxLength: 64 })),
          target: Type.Optional(Type.String({ maxLength: 255 })),
        },
        { additionalProperties: false },
      ),
      async handle(req) {
        const q = req.query as { limit?: number; offset?: number; actor?: string; action?: string; target?: string };
        return { body: await c.store.changes({ limit: q.limit ?? 100, offset: q.offset ?? 0, actor: q.actor, action: q.action, target: q.target }) };
      },
    },
  ];
}
