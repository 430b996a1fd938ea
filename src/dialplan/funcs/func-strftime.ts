// STRFTIME([epoch][,timezone][,format]) — formats a time as C strftime
// does (the common conversions). Default: now, local time, "%c".
import { splitArgs } from '../app-args.js';
import type { DialplanFunction } from './func-types.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const p2 = (n: number): string => String(n).padStart(2, '0');

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  wd: number;
}

function parts(epochMs: number, tz: string): Parts {
  if (tz === '') {
    const t = new Date(epochMs);
    return { y: t.getFullYear(), mo: t.getMonth(), d: t.getDate(), h: t.getHours(), mi: t.getMinutes(), s: t.getSeconds(), wd: t.getDay() };
  }
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    weekday: 'long',
  });
  const o: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(epochMs))) o[x.type] = x.value;
  return { y: Number(o.year), mo: Number(o.month) - 1, d: Number(o.day), h: Number(o.hour), mi: Number(o.minute), s: Number(o.second), wd: DAYS.indexOf(o.weekday ?? '') };
}

export function strftime(epochMs: number, tz: string, format: string): string {
  let t: Parts;
  try {
    t = parts(epochMs, tz);
  } catch {
    t = parts(epochMs, '');
  }
  return format.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case 'Y':
        return String(t.y);
      case 'y':
        return p2(t.y % 100);
      case 'm':
        return p2(t.mo + 1);
      case 'd':
        return p2(t.d);
      case 'e':
        return String(t.d).padStart(2, ' ');
      case 'H':
        return p2(t.h);
      case 'I':
        return p2(t.h % 12 === 0 ? 12 : t.h % 12);
      case 'M':
        return p2(t.mi);
      case 'S':
        return p2(t.s);
      case 'p':
        return t.h < 12 ? 'AM' : 'PM';
      case 'A':
        return DAYS[t.wd] ?? '';
      case 'a':
        return (DAYS[t.wd] ?? '').slice(0, 3);
      case 'B':
        return MONTHS[t.mo]!;
      case 'b':
        return MONTHS[t.mo]!.slice(0, 3);
      case 'u':
        return String(t.wd === 0 ? 7 : t.wd);
      case 'w':
        return String(t.wd);
      case 's':
        return String(Math.floor(epochMs / 1000));
      case 'F':
        return `${t.y}-${p2(t.mo + 1)}-${p2(t.d)}`;
      case 'T':
        return `${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}`;
      case 'c':
        return `${(DAYS[t.wd] ?? '').slice(0, 3)} ${MONTHS[t.mo]!.slice(0, 3)} ${String(t.d).padStart(2, ' ')} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)} ${t.y}`;
      case '%':
        return '%';
      default:
        return all;
    }
  });
}

export const funcStrftime: DialplanFunction = {
  name: 'STRFTIME',
  synopsis: 'STRFTIME([epoch][,timezone][,format]): a formatted date/time',
  read(_env, raw) {
    const [epoch = '', tz = '', format = '%c'] = splitArgs(raw);
    const e = epoch.trim() === '' ? Date.now() : Number(epoch) * 1000;
    return strftime(Number.isFinite(e) ? e : Date.now(), tz.trim(), format);
  },
};
