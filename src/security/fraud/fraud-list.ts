// Known fraud numbers (from configuration and `palisade fraud import`),
// stored as E.164 digit prefixes and matched by prefix: a listed range such
// as 88213 blocks every number in it, however it is dialled (+88213…,
// 0088213…, 01188213…).
import { PrefixMap } from './prefix-map.js';
import type { NumberPlan } from './number-plan.js';

export class FraudList {
  private readonly map = new PrefixMap<true>();

  constructor(private readonly plan: NumberPlan) {}

  /** normalise an entry as written in a list: "+882 13-45", "0088213", "88213" → E.164 digits; null when not a number */
  normalise(entry: string): string | null {
    const compact = entry.replace(/[\s().-]/g, '');
    if (compact === '') return null;
    if (/^\+?\d+$/.test(compact) === false) return null;
    if (compact.startsWith('+')) return compact.slice(1);
    return this.plan.toE164(compact) ?? compact;
  }

  add(prefix: string): void {
    this.map.set(prefix, true);
  }

  /** takes a prefix off the list (the API's DELETE /fraud-numbers); true when it was listed */
  remove(prefix: string): boolean {
    return this.map.delete(prefix);
  }

  get size(): number {
    return this.map.size;
  }

  /** every listed prefix */
  prefixes(): string[] {
    return this.map.keys();
  }

  /** the listed prefix the dialled number falls in, if any */
  match(dialled: string, e164: string | null): string | undefined {
    return (e164 !== null ? this.map.match(e164)?.prefix : undefined) ?? this.map.match(dialled.replace(/^\+/, ''))?.prefix;
  }
}

/** parse an import file: one number or prefix per line; # comments, blank lines and CSV extra columns ignored */
export function parseFraudFile(text: string, list: FraudList): { prefixes: string[]; rejected: number[] } {
  const prefixes: string[] = [];
  const rejected: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').split(/[,;]/)[0]!.trim();
    if (!line) return;
    const p = list.normalise(line);
    if (p === null || p.length < 3) rejected.push(i + 1);
    else prefixes.push(p);
  });
  return { prefixes, rejected };
}
