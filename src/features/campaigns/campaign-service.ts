// The campaigns at run time: each campaign's contacts and the progressive
// dialer that calls them. A running campaign starts a call when it has a
// free slot (max_concurrent) and its pacing allows (one start every
// 1/cps seconds), to the first contact that is due (its retry back-off
// over) and inside the calling window of its time zone. Before any INVITE:
// the do-not-call list (the contact ends as "dnc", never rung) and the call
// gate, with the campaign as a principal of its own (a class its
// configuration does not allow ends as "refused"). An answered party runs in
// the dialplan at the campaign's context/exten (typically Queue()), with
// CAMPAIGN and CAMPAIGN_CONTACT set; it holds its slot until it hangs up.
// Every change is written to the module's tables, in order.
import type { Kysely } from 'kysely';
import { createRequire } from 'node:module';

// loaded when a campaign's results are exported (CommonJS build, synchronously): not at every start
const require = createRequire(import.meta.url);
const stringify = (rows: unknown[][]): string => (require('csv-stringify/sync') as typeof import('csv-stringify/sync')).stringify(rows);
import type { CallGateApi } from '../../core/call-gate.js';
import type { Logger } from '../../observability/logger.js';
import type { OriginateRequest, OriginateResult } from '../../channel/originate.js';
import { CampaignInputError, inWindow, normaliseNumber, parseContactsCsv, type CampaignDef, type ImportReport } from './campaign-def.js';

export type ContactStatus = 'pending' | 'calling' | 'answered' | 'busy' | 'noanswer' | 'failed' | 'dnc' | 'refused';
export type CampaignState = 'new' | 'running' | 'paused' | 'done';

export interface Contact {
  id: number;
  number: string;
  name: string;
  timezone: string;
  fields: Record<string, string>;
  status: ContactStatus;
  attempts: number;
  nextAt: number;
  /** the last attempt's outcome: answer, busy, noanswer, failed, congestion, dnc, or the call gate's refusal (refused:<rule>) */
  lastResult: string;
  lastCallAt: number;
  disposition: string;
  agent: string;
  form: Record<string, string>;
}

export interface Campaign {
  def: CampaignDef;
  state: CampaignState;
  contacts: Contact[];
  byNumber: Map<string, Contact>;
  active: number;
  lastStart: number;
}

export interface CampaignDeps {
  // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
  db: Kysely<any>;
  originate: ((r: OriginateRequest) => Promise<OriginateResult>) | null;
  gate: CallGateApi;
  isExtension(n: string): boolean;
  logger: Logger;
  now?: () => number;
  /** ms between dialer ticks */
  tickMs?: number;
}

const FINAL: Record<string, ContactStatus> = { BUSY: 'busy', NOANSWER: 'noanswer', CANCEL: 'noanswer' };

export class CampaignService {
  readonly campaigns = new Map<string, Campaign>();
  readonly dnc = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private writes: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly d: CampaignDeps) {
    this.now = d.now ?? Date.now;
  }

  /** loads campaigns, contacts and the do-not-call list; a contact being called at a crash is due again */
  async load(): Promise<void> {
    const db = this.d.db;
    for (const r of (await db.selectFrom('campaign_dnc').select('number').execute()) as Array<{ number: string }>) this.dnc.add(r.number);
    const camps = (await db.selectFrom('campaigns').selectAll().execute()) as Array<{ name: string; def: string; state: string }>;
    for (const r of camps) {
      const c: Campaign = { def: JSON.parse(r.def) as CampaignDef, state: r.state as CampaignState, contacts: [], byNumber: new Map(), active: 0, lastStart: 0 };
      this.campaigns.set(r.name, c);
    }
    const rows = (await db.selectFrom('campaign_contacts').selectAll().orderBy('id').execute()) as Array<Record<string, unknown>>;
    for (const r of rows) {
      const c = this.campaigns.get(String(r.campaign));
      if (!c) continue;
      const k: Contact = {
        id: Number(r.id),
        number: String(r.number),
        name: String(r.name),
        timezone: String(r.timezone),
        fields: JSON.parse(String(r.fields)) as Record<string, string>,
        status: String(r.status) as ContactStatus,
        attempts: Number(r.attempts),
        nextAt: Number(r.next_at),
        lastResult: String(r.last_result),
        lastCallAt: Number(r.last_call_at),
        disposition: String(r.disposition),
        agent: String(r.agent),
        form: JSON.parse(String(r.form)) as Record<string, string>,
      };
      if (k.status === 'calling') k.status = 'pending';
      c.contacts.push(k);
      c.byNumber.set(k.number, k);
    }
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.d.tickMs ?? 20);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writes;
  }

  /** database writes one after the other, in the order of the changes */
  private write(what: string, fn: () => Promise<unknown>): void {
    this.writes = this.writes.then(
      () => fn().then(() => undefined),
      () => undefined,
    );
    this.writes = this.writes.catch((err: Error) => this.d.logger.error('campaign-write-failed', { what, error: err.message }));
  }

  flush(): Promise<void> {
    return this.writes;
  }

  get(name: string): Campaign {
    const c = this.campaigns.get(name);
    if (!c) throw new CampaignInputError(`no campaign ${name}`);
    return c;
  }

  create(def: CampaignDef): void {
    if (this.campaigns.has(def.name)) throw new CampaignInputError(`campaign ${def.name} exists already`);
    this.campaigns.set(def.name, { def, state: 'new', contacts: [], byNumber: new Map(), active: 0, lastStart: 0 });
    this.write('campaign', () =>
      this.d.db
        .insertInto('campaigns')
        .values({ name: def.name, def: JSON.stringify(def), state: 'new', created_at: this.now() })
        .execute(),
    );
    this.d.logger.info('campaign-created', { campaign: def.name, exten: def.exten, context: def.context, maxConcurrent: def.maxConcurrent, cps: def.cps });
  }

  setState(name: string, state: CampaignState): void {
    const c = this.get(name);
    if (state === 'running' && c.contacts.length === 0) throw new CampaignInputError(`campaign ${name} has no contacts: import some first`);
    if (state === 'running' && !this.d.originate) throw new CampaignInputError('campaigns need a dialplan (dialplan: in palisade.yaml) to run answered calls in');
    c.state = state;
    this.write('campaign-state', () => this.d.db.updateTable('campaigns').set({ state }).where('name', '=', name).execute());
    this.d.logger.info('campaign-state', { campaign: name, state });
  }

  /** CSV contacts into a campaign: the report names every bad line */
  importCsv(name: string, csv: string): ImportReport & { total: number } {
    const c = this.get(name);
    const report = parseContactsCsv(csv, c.def.timezone);
    const added: Contact[] = [];
    let nextId = c.contacts.length ? c.contacts[c.contacts.length - 1]!.id + 1 : 1;
    for (const r of report.imported) {
      if (c.byNumber.has(r.number)) {
        report.bad.push({ line: r.line, error: `number ${r.number} is in the campaign already` });
        continue;
      }
      const k: Contact = {
        id: nextId++,
        number: r.number,
        name: r.name,
        timezone: r.timezone,
        fields: r.fields,
        status: 'pending',
        attempts: 0,
        nextAt: 0,
        lastResult: '',
        lastCallAt: 0,
        disposition: '',
        agent: '',
        form: {},
      };
      c.contacts.push(k);
      c.byNumber.set(k.number, k);
      added.push(k);
    }
    report.bad.sort((a, b) => a.line - b.line);
    report.imported = report.imported.filter((r) => added.some((k) => k.number === r.number));
    if (c.state === 'done') c.state = 'paused';
    for (let i = 0; i < added.length; i += 100) {
      const batch = added.slice(i, i + 100).map((k) => this.row(name, k));
      this.write('contacts', () => this.d.db.insertInto('campaign_contacts').values(batch).execute());
    }
    this.d.logger.info('campaign-import', { campaign: name, imported: added.length, bad: report.bad.length });
    return { ...report, total: c.contacts.length };
  }

  private row(campaign: string, k: Contact): Record<string, unknown> {
    return {
      campaign,
      id: k.id,
      number: k.number,
      name: k.name,
      timezone: k.timezone,
      fields: JSON.stringify(k.fields),
      status: k.status,
      attempts: k.attempts,
      next_at: k.nextAt,
      last_result: k.lastResult,
      last_call_at: k.lastCallAt,
      disposition: k.disposition,
      agent: k.agent,
      form: JSON.stringify(k.form),
    };
  }

  private save(c: Campaign, k: Contact): void {
    const r = this.row(c.def.name, k);
    delete r.campaign;
    delete r.id;
    this.write('contact', () => this.d.db.updateTable('campaign_contacts').set(r).where('campaign', '=', c.def.name).where('id', '=', k.id).execute());
  }

  addDnc(numbers: string[]): { added: number; bad: string[] } {
    const bad: string[] = [];
    const fresh: string[] = [];
    for (const raw of numbers) {
      const n = normaliseNumber(raw);
      if (!n) bad.push(raw);
      else if (!this.dnc.has(n)) {
        this.dnc.add(n);
        fresh.push(n);
      }
    }
    if (fresh.length)
      this.write('dnc', () =>
        this.d.db
          .insertInto('campaign_dnc')
          .values(fresh.map((number) => ({ number, added_at: this.now() })))
          .execute(),
      );
    return { added: fresh.length, bad };
  }

  removeDnc(raw: string): boolean {
    const n = normaliseNumber(raw);
    if (!n || !this.dnc.delete(n)) return false;
    this.write('dnc', () => this.d.db.deleteFrom('campaign_dnc').where('number', '=', n).execute());
    return true;
  }

  /** an agent's disposition and form fields for a contact, checked against the campaign's form */
  setDisposition(name: string, number: string, disposition: string, fields: Record<string, string>, agent: string): void {
    const c = this.get(name);
    const n = normaliseNumber(number);
    const k = n ? c.byNumber.get(n) : undefined;
    if (!k) throw new CampaignInputError(`no contact ${number} in campaign ${name}`);
    if (!c.def.dispositions.includes(disposition)) throw new CampaignInputError(`disposition "${disposition}": one of ${c.def.dispositions.join(', ')}`);
    for (const [f, v] of Object.entries(fields)) {
      const def = c.def.form.find((x) => x.name === f);
      if (!def) throw new CampaignInputError(`form field "${f}" is not in campaign ${name}'s form (${c.def.form.map((x) => x.name).join(', ') || 'no fields'})`);
      if (def.type === 'number' && !/^-?\d+(\.\d+)?$/.test(v)) throw new CampaignInputError(`form field ${f} takes a number (got "${v.slice(0, 40)}")`);
      if (def.type === 'choice' && !def.options.includes(v)) throw new CampaignInputError(`form field ${f}: one of ${def.options.join(', ')}`);
      if (v.length > 1000) throw new CampaignInputError(`form field ${f}: at most 1000 characters`);
    }
    k.disposition = disposition;
    k.form = { ...k.form, ...fields };
    k.agent = agent;
    this.save(c, k);
    this.d.logger.info('campaign-disposition', { campaign: name, contact: k.id, disposition, agent });
  }

  status(name?: string): Array<Record<string, unknown>> {
    return [...this.campaigns.values()]
      .filter((c) => !name || c.def.name === name)
      .map((c) => {
        const counts: Record<string, number> = {};
        for (const k of c.contacts) counts[k.status] = (counts[k.status] ?? 0) + 1;
        const done = c.contacts.filter((k) => k.status !== 'pending' && k.status !== 'calling').length;
        return {
          campaign: c.def.name,
          state: c.state,
          contacts: c.contacts.length,
          done,
          progressPercent: c.contacts.length ? Math.floor((done * 100) / c.contacts.length) : 0,
          active: c.active,
          attempts: c.contacts.reduce((n, k) => n + k.attempts, 0),
          ...counts,
          maxConcurrent: c.def.maxConcurrent,
          cps: c.def.cps,
        };
      });
  }

  /** the results as CSV: one row per contact, its fields and the agent's form */
  resultsCsv(name: string): string {
    const c = this.get(name);
    const extra = [...new Set(c.contacts.flatMap((k) => Object.keys(k.fields)))];
    const form = c.def.form.map((f) => f.name);
    const header = ['number', 'name', 'timezone', 'status', 'attempts', 'last_result', 'last_call_at', 'disposition', 'agent', ...form.map((f) => `form_${f}`), ...extra];
    const rows = c.contacts.map((k) => [
      k.number,
      k.name,
      k.timezone,
      k.status,
      String(k.attempts),
      k.lastResult,
      k.lastCallAt ? new Date(k.lastCallAt).toISOString() : '',
      k.disposition,
      k.agent,
      ...form.map((f) => k.form[f] ?? ''),
      ...extra.map((f) => k.fields[f] ?? ''),
    ]);
    return stringify([header, ...rows]);
  }

  // ------------------------------------------------------------------ dialer

  tick(): void {
    if (this.stopped) return;
    for (const c of this.campaigns.values()) if (c.state === 'running') this.pace(c);
  }

  private pace(c: Campaign): void {
    const now = this.now();
    const gap = 1000 / c.def.cps;
    let pending = false;
    for (const k of c.contacts) {
      if (c.active >= c.def.maxConcurrent) return;
      if (k.status !== 'pending') continue;
      pending = true;
      if (k.nextAt > now || !inWindow(c.def, k.timezone, now)) continue;
      if (this.dnc.has(k.number)) {
        // never rung: recorded so the results show the list was applied
        k.status = 'dnc';
        k.lastResult = 'dnc';
        this.save(c, k);
        this.d.logger.info('campaign-dnc', { campaign: c.def.name, contact: k.id });
        continue;
      }
      if (now - c.lastStart < gap) return;
      c.lastStart = now;
      this.call(c, k, now);
    }
    if (!pending && c.active === 0) {
      c.state = 'done';
      this.write('campaign-state', () => this.d.db.updateTable('campaigns').set({ state: 'done' }).where('name', '=', c.def.name).execute());
      this.d.logger.info('campaign-done', { campaign: c.def.name, ...this.status(c.def.name)[0] });
    }
  }

  private route(c: Campaign, number: string) {
    return c.def.routes.find((r) => number.startsWith(r.prefix));
  }

  private call(c: Campaign, k: Contact, now: number): void {
    const def = c.def;
    const route = this.route(c, k.number);
    const gateway = route ? { transport: 'udp' as const, address: route.address, port: route.port } : undefined;
    const internal = !route && this.d.isExtension(k.number);
    k.attempts++;
    k.lastCallAt = now;
    const decision = this.d.gate.check({
      caller: '',
      campaign: { name: def.name, permissions: def.permissions, maxCalls: def.maxConcurrent, callsPerMinute: def.callsPerMinute, dailySpendLimit: def.dailySpendLimit },
      dialled: k.number,
      ...(internal ? { callee: k.number } : {}),
      remote: gateway ?? { transport: 'udp', address: '127.0.0.1', port: 0 },
      callId: `campaign:${def.name}:${k.id}:${k.attempts}`,
    });
    if (!decision.ok) {
      k.status = 'refused';
      k.lastResult = decision.verdict.startsWith('refused') ? decision.verdict : `refused:${decision.verdict}`;
      this.save(c, k);
      this.d.logger.warn('campaign-refused', { campaign: def.name, contact: k.id, verdict: decision.verdict });
      return;
    }
    if (!route && !internal) {
      decision.ticket.ended(0);
      this.finishAttempt(c, k, 'CHANUNAVAIL');
      this.d.logger.warn('campaign-no-route', { campaign: def.name, contact: k.id, hint: 'routes: PREFIX=HOST:PORT, or a number that is one of our extensions' });
      return;
    }
    k.status = 'calling';
    c.active++;
    this.d.logger.info('campaign-dial', { campaign: def.name, contact: k.id, attempt: k.attempts, active: c.active, at: now });
    void this.d.originate!({
      number: k.number,
      ...(gateway ? { gateway } : {}),
      callerIdNum: def.callerId,
      callerIdName: def.name,
      context: def.context,
      exten: def.exten,
      timeoutMs: def.ringTimeout * 1000,
      vars: { CAMPAIGN: def.name, CAMPAIGN_CONTACT: k.number, CAMPAIGN_CONTACT_NAME: k.name },
      ticket: decision.ticket,
    })
      .then(async (r) => {
        if (r.status === 'ANSWER' && r.channel) {
          k.status = 'answered';
          k.lastResult = 'answer';
          this.save(c, k);
          this.d.logger.info('campaign-answered', { campaign: def.name, contact: k.id, attempt: k.attempts, channel: r.channel.name });
          await r.channel.ended;
          c.active--;
          this.d.logger.info('campaign-call-ended', { campaign: def.name, contact: k.id, active: c.active, at: this.now() });
          return;
        }
        c.active--;
        this.finishAttempt(c, k, r.status);
      })
      .catch((err: Error) => {
        c.active--;
        this.d.logger.error('campaign-originate-failed', { campaign: def.name, contact: k.id, error: err.message });
        this.finishAttempt(c, k, 'CHANUNAVAIL');
      });
  }

  /** a failed attempt: due again after the back-off, or final once the retries are used */
  private finishAttempt(c: Campaign, k: Contact, status: string): void {
    const result = status === 'BUSY' ? 'busy' : status === 'NOANSWER' || status === 'CANCEL' ? 'noanswer' : status === 'CONGESTION' ? 'congestion' : 'failed';
    k.lastResult = result;
    // one instant for the back-off and the log line, so a retry is never due earlier than the logged end plus its delay
    const ended = this.now();
    if (k.attempts <= c.def.retries) {
      k.status = 'pending';
      k.nextAt = ended + c.def.retryDelay * 1000 * 2 ** (k.attempts - 1);
    } else {
      k.status = FINAL[status] ?? 'failed';
    }
    this.save(c, k);
    this.d.logger.info('campaign-attempt', {
      campaign: c.def.name,
      contact: k.id,
      attempt: k.attempts,
      result,
      active: c.active,
      retryAt: k.status === 'pending' ? k.nextAt : null,
      at: ended,
    });
  }
}

export const CAMPAIGN_MIGRATIONS = [
  {
    version: 1,
    description: 'campaigns, their contacts with results and forms, the do-not-call list',
    tables: ['campaigns', 'campaign_contacts', 'campaign_dnc'],
    // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
    async up(db: Kysely<any>, ctx: { prefix: string }) {
      await db.schema
        .createTable('campaigns')
        .ifNotExists()
        .addColumn('name', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('def', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('campaign_contacts')
        .ifNotExists()
        .addColumn('campaign', 'varchar(40)', (c) => c.notNull())
        .addColumn('id', 'integer', (c) => c.notNull())
        .addColumn('number', 'varchar(24)', (c) => c.notNull())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('timezone', 'varchar(64)', (c) => c.notNull())
        .addColumn('fields', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_at', 'bigint', (c) => c.notNull())
        .addColumn('last_result', 'varchar(120)', (c) => c.notNull())
        .addColumn('last_call_at', 'bigint', (c) => c.notNull())
        .addColumn('disposition', 'varchar(40)', (c) => c.notNull())
        .addColumn('agent', 'varchar(80)', (c) => c.notNull())
        .addColumn('form', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${ctx.prefix}campaign_contacts_pk`, ['campaign', 'id'])
        .execute();
      await db.schema
        .createTable('campaign_dnc')
        .ifNotExists()
        .addColumn('number', 'varchar(24)', (c) => c.primaryKey())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];
