// Asterisk's time specification, as GotoIfTime(), ExecIfTime() and a
// time-restricted `include => context,times,weekdays,mdays,months[,tz]`
// write it (Asterisk's pbx_timing.c; doc: "Time conditions" in
// docs/configuration.md):
//
//   times     hh:mm-hh:mm or *        09:00-17:00   (the end minute included)
//   weekdays  day[-day] or *          mon-fri       (sun mon tue wed thu fri sat)
//   mdays     n[-n] or *              1-15
//   months    mon[-mon] or *          jan-mar
//   tz        an IANA zone (optional) Europe/Berlin (default: the server's)
//
// Each field may list several parts separated by &: `mon-tue&thu`. A range
// that runs backwards wraps: 22:00-06:00, fri-mon, nov-feb.

export interface TimeSpec {
  readonly text: string;
  /** minute-of-day bitmap (1440), null = any */
  readonly minutes: Uint8Array | null;
  /** 0 = Sunday */
  readonly weekdays: ReadonlySet<number> | null;
  readonly mdays: ReadonlySet<number> | null;
  /** 1 = January */
  readonly months: ReadonlySet<number> | null;
  readonly tz: string | null;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function minuteOf(t: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (!m) return -1;
  const h = Number(m[1]);
  const mm = Number(m[2]);
  if (h > 23 || mm > 59) return h === 24 && mm === 0 ? 1439 : -1;
  return h * 60 + mm;
}

function parseMinutes(field: string): Uint8Array | string | null {
  if (field === '*' || field === '') return null;
  const bits = new Uint8Array(1440);
  for (const part of field.split('&')) {
    const [a, b] = part.split('-');
    const from = minuteOf(a ?? '');
    const to = b === undefined ? from : minuteOf(b);
    if (from < 0 || to < 0) return `times "${part}" is not a time range; expected hh:mm-hh:mm such as 09:00-17:00`;
    for (let i = from; ; i = (i + 1) % 1440) {
      bits[i] = 1;
      if (i === to) break;
    }
  }
  return bits;
}

function parseNamed(field: string, what: string, names: string[] | null, min: number, max: number, example: string): Set<number> | string | null {
  if (field === '*' || field === '') return null;
  const out = new Set<number>();
  const value = (s: string): number => {
    const lower = s.toLowerCase();
    if (names) {
      const i = names.indexOf(lower.slice(0, 3));
      return i >= 0 && names[i]!.startsWith(lower.slice(0, 3)) && lower.length >= 3 ? i + min : -1;
    }
    if (!/^\d{1,2}$/.test(s)) return -1;
    const n = Number(s);
    return n >= min && n <= max ? n : -1;
  };
  for (const part of field.split('&')) {
    const [a, b] = part.split('-');
    const from = value(a ?? '');
    const to = b === undefined ? from : value(b);
    if (from < 0 || to < 0) return `${what} "${part}" is not valid; expected ${example}`;
    const span = max - min + 1;
    for (let i = from; ; i = ((i - min + 1) % span) + min) {
      out.add(i);
      if (i === to) break;
    }
  }
  return out;
}

/** `times,weekdays,mdays,months[,tz]` (fewer fields mean * for the rest) */
export function parseTimeSpec(text: string): TimeSpec | { error: string } {
  const f = text.split(',').map((x) => x.trim());
  if (f.length > 5 || text.trim() === '') return { error: 'expected times,weekdays,mdays,months[,timezone] such as 09:00-17:00,mon-fri,*,*' };
  const minutes = parseMinutes(f[0] ?? '*');
  if (typeof minutes === 'string') return { error: minutes };
  const weekdays = parseNamed(f[1] ?? '*', 'weekdays', DAYS, 0, 6, 'days such as mon-fri or sat&sun');
  if (typeof weekdays === 'string') return { error: weekdays };
  const mdays = parseNamed(f[2] ?? '*', 'days of the month', null, 1, 31, 'days such as 1-15');
  if (typeof mdays === 'string') return { error: mdays };
  const months = parseNamed(f[3] ?? '*', 'months', MONTHS, 1, 12, 'months such as jan-mar');
  if (typeof months === 'string') return { error: months };
  const tz = f[4] || null;
  if (tz) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      return { error: `timezone "${tz}" is not known; expected an IANA zone such as Europe/Berlin` };
    }
  }
  return { text, minutes, weekdays, mdays, months, tz };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** the wall-clock fields of `ms` in `tz` (the server's zone when null) */
export function wallClock(ms: number, tz: string | null): { minute: number; weekday: number; mday: number; month: number; year: number } {
  if (!tz) {
    const d = new Date(ms);
    return { minute: d.getHours() * 60 + d.getMinutes(), weekday: d.getDay(), mday: d.getDate(), month: d.getMonth() + 1, year: d.getFullYear() };
  }
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
  return {
    minute: Number(p.hour) * 60 + Number(p.minute),
    weekday: DAYS.indexOf((p.weekday ?? '').toLowerCase()),
    mday: Number(p.day),
    month: Number(p.month),
    year: Number(p.year),
  };
}

/** is `ms` inside the spec? */
export function timeMatches(spec: TimeSpec, ms: number): boolean {
  const w = wallClock(ms, spec.tz);
  if (spec.minutes && spec.minutes[w.minute] !== 1) return false;
  if (spec.weekdays && !spec.weekdays.has(w.weekday)) return false;
  if (spec.mdays && !spec.mdays.has(w.mday)) return false;
  if (spec.months && !spec.months.has(w.month)) return false;
  return true;
}
