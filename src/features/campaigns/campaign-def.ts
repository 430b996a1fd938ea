// A campaign's definition as an operator gives it (campaign-create), read
// and checked field by field: where answered parties go in the dialplan,
// the pacing (calls at once, calls per second), retries with back-off, the
// calling-time window, the destination classes it may dial (the call gate
// holds it to them), gateway routes, and the agent's form.
import { createRequire } from 'node:module';

// loaded when a campaign's number list is read (CommonJS build, synchronously): not at every start
const require = createRequire(import.meta.url);
const parseCsv: typeof import('csv-parse/sync').parse = (...args: Parameters<typeof import('csv-parse/sync').parse>) =>
  (require('csv-parse/sync') as typeof import('csv-parse/sync')).parse(...args);

export class CampaignInputError extends Error {}

export interface FormField {
  name: string;
  type: 'text' | 'number' | 'choice';
  /** choice: the allowed values */
  options: string[];
}

export interface GatewayRoute {
  /** number prefix ('' = any number) */
  prefix: string;
  address: string;
  port: number;
}

export interface CampaignDef {
  name: string;
  /** where an answered party runs in the dialplan (e.g. an extension whose line is Queue(sales)) */
  context: string;
  exten: string;
  callerId: string;
  maxConcurrent: number;
  /** call attempts started per second, at most */
  cps: number;
  /** further attempts after a busy, unanswered or failed one */
  retries: number;
  /** seconds before the first retry; each further retry waits twice as long */
  retryDelay: number;
  ringTimeout: number;
  /** calling hours in the contact's time zone, minutes after midnight [from, to) */
  windowFrom: number;
  windowTo: number;
  timezone: string;
  /** call classes the campaign may dial (the call gate enforces them) */
  permissions: string[];
  callsPerMinute: number;
  dailySpendLimit: number;
  routes: GatewayRoute[];
  dispositions: string[];
  form: FormField[];
}

const NAME_RE = /^[A-Za-z0-9_-]{1,40}$/;
const CLASSES = ['local', 'national', 'mobile', 'international', 'premium', 'internal'];

function text(args: Record<string, unknown>, key: string, dflt: string | null): string {
  const v = args[key];
  if (v === undefined || v === null || v === '') {
    if (dflt === null) throw new CampaignInputError(`${key} is required`);
    return dflt;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new CampaignInputError(`${key} must be a string`);
  return String(v).trim();
}

function num(args: Record<string, unknown>, key: string, dflt: number, min: number, max: number): number {
  const s = text(args, key, String(dflt));
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || n < min || n > max) throw new CampaignInputError(`${key} must be a number from ${min} to ${max} (got "${s}")`);
  return n;
}

function hhmm(s: string, key: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new CampaignInputError(`${key}: expected HH:MM-HH:MM (got "${s}")`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** "sale,callback" / "interest:choice:yes|no,notes:text,age:number" */
export function parseForm(spec: string): FormField[] {
  const out: FormField[] = [];
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = '', type = 'text', opts = ''] = part.split(':').map((s) => s.trim());
    if (!/^[a-z][a-z0-9_]{0,30}$/.test(name)) throw new CampaignInputError(`form field "${name}": a lower-case name (letters, digits, _)`);
    if (type !== 'text' && type !== 'number' && type !== 'choice') throw new CampaignInputError(`form field ${name}: type text, number or choice (got "${type}")`);
    const options =
      type === 'choice'
        ? opts
            .split('|')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
    if (type === 'choice' && options.length === 0) throw new CampaignInputError(`form field ${name}: a choice needs its values, e.g. ${name}:choice:yes|no`);
    if (out.some((f) => f.name === name)) throw new CampaignInputError(`form field ${name} given twice`);
    out.push({ name, type, options });
  }
  return out;
}

/** "0201=127.0.0.1:5070,*=10.0.0.5:5060" */
export function parseRoutes(spec: string): GatewayRoute[] {
  const out: GatewayRoute[] = [];
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\*|\d{0,20})=(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part);
    if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new CampaignInputError(`route "${part}": expected PREFIX=HOST:PORT (PREFIX * for any number)`);
    out.push({ prefix: m[1] === '*' ? '' : m[1]!, address: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) });
  }
  // the longest prefix first
  return out.sort((a, b) => b.prefix.length - a.prefix.length);
}

export function parseCampaignDef(args: Record<string, unknown>): CampaignDef {
  const name = text(args, 'name', null);
  if (!NAME_RE.test(name)) throw new CampaignInputError('name: letters, digits, - and _ (at most 40)');
  const window = text(args, 'window', '09:00-20:00');
  const [from = '', to = ''] = window.split('-');
  const timezone = text(args, 'timezone', 'UTC');
  if (!validTimeZone(timezone)) throw new CampaignInputError(`timezone: unknown time zone "${timezone}" (an IANA name such as Europe/London)`);
  const permissions = text(args, 'permissions', 'local,national,mobile')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of permissions) if (!CLASSES.includes(p)) throw new CampaignInputError(`permissions: unknown class "${p}" (one of ${CLASSES.join(', ')})`);
  const dispositions = text(args, 'dispositions', 'sale,callback,not-interested,wrong-number')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const d of dispositions) if (!/^[A-Za-z0-9_-]{1,40}$/.test(d)) throw new CampaignInputError(`dispositions: "${d}" (letters, digits, - and _)`);
  return {
    name,
    context: text(args, 'context', 'campaigns'),
    exten: text(args, 'exten', null),
    callerId: text(args, 'callerid', name),
    maxConcurrent: num(args, 'max_concurrent', 2, 1, 1000),
    cps: num(args, 'cps', 1, 0.01, 100),
    retries: num(args, 'retries', 2, 0, 20),
    retryDelay: num(args, 'retry_delay', 300, 0, 86400 * 7),
    ringTimeout: num(args, 'ring_timeout', 30, 1, 300),
    windowFrom: hhmm(from, 'window'),
    windowTo: hhmm(to, 'window'),
    timezone,
    permissions,
    callsPerMinute: num(args, 'calls_per_minute', 0, 0, 100000),
    dailySpendLimit: num(args, 'daily_spend_limit', 0, 0, 1e9),
    routes: parseRoutes(text(args, 'routes', '')),
    dispositions,
    form: parseForm(text(args, 'form', '')),
  };
}

/** minutes after midnight in a time zone */
export function minutesIn(tz: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(at));
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return h * 60 + m;
}

/** may the contact be called now? A window across midnight (22:00-06:00) wraps */
export function inWindow(def: Pick<CampaignDef, 'windowFrom' | 'windowTo'>, tz: string, at: number): boolean {
  const m = minutesIn(tz, at);
  const { windowFrom: a, windowTo: b } = def;
  if (a === b) return true;
  return a < b ? m >= a && m < b : m >= a || m < b;
}

export interface ImportedContact {
  line: number;
  number: string;
  name: string;
  timezone: string;
  fields: Record<string, string>;
}

export interface ImportReport {
  imported: ImportedContact[];
  bad: Array<{ line: number; error: string }>;
}

/** a number as dialled: digits, an optional leading + */
export function normaliseNumber(raw: string): string | null {
  const n = raw.replace(/[\s().-]/g, '');
  return /^\+?\d{3,20}$/.test(n) ? n : null;
}

/**
 * Contacts from CSV text with a header line: `number` is required; `name`
 * and `timezone` are known columns; every other column is kept as a field
 * (shown to agents, exported with the results). A bad row is reported with
 * its line and skipped; the good rows are imported.
 */
export function parseContactsCsv(csv: string, defaultTz: string): ImportReport {
  let rows: Array<{ record: Record<string, string>; line: number }>;
  try {
    rows = (
      parseCsv(csv, {
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        bom: true,
        relax_column_count: true,
        info: true,
      }) as Array<{ record: Record<string, string>; info: { lines: number } }>
    ).map((r) => ({ record: r.record, line: r.info.lines }));
  } catch (err) {
    throw new CampaignInputError(`CSV: ${(err as Error).message}`);
  }
  const report: ImportReport = { imported: [], bad: [] };
  const seen = new Set<string>();
  for (const { record, line } of rows) {
    if (!('number' in record)) throw new CampaignInputError('CSV: the header line must name a "number" column');
    const number = normaliseNumber(record.number ?? '');
    if (!number) {
      report.bad.push({ line, error: `number "${(record.number ?? '').slice(0, 40)}" is not a phone number (3 to 20 digits, an optional +)` });
      continue;
    }
    if (seen.has(number)) {
      report.bad.push({ line, error: `number ${number} appears twice` });
      continue;
    }
    const tz = record.timezone || defaultTz;
    if (!validTimeZone(tz)) {
      report.bad.push({ line, error: `timezone "${tz.slice(0, 40)}" unknown (an IANA name such as Europe/Paris)` });
      continue;
    }
    seen.add(number);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(record)) if (k !== 'number' && k !== 'name' && k !== 'timezone') fields[k] = v ?? '';
    report.imported.push({ line, number, name: record.name ?? '', timezone: tz, fields });
  }
  return report;
}
