// A small typed walker over a parsed YAML document that records every
// problem with its file:line:col instead of stopping at the first. Each
// section of the config is read through a MapReader, which remembers which
// keys were asked for so that anything else — a typo — is reported.
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { ConfigIssue } from './config-error.js';
import type { SourcePos } from './config-types.js';
import { editDistance } from '../core/edit-distance.js';

export class IssueList {
  readonly list: ConfigIssue[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  pos(offset: number): SourcePos {
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }

  add(offset: number, message: string): void {
    this.list.push({ ...this.pos(offset), message });
  }
}

export function nodeOffset(node: Node | null | undefined, fallback: number): number {
  return node?.range ? node.range[0] : fallback;
}

/** A scalar's text as written (so `number: 0101` stays "0101", not 101). */
export function scalarText(node: Node, source: string): string | null {
  if (!isScalar(node)) return null;
  if (typeof node.value === 'string') return node.value;
  if (typeof node.value === 'number' && node.range) return source.slice(node.range[0], node.range[1]).trim();
  return null;
}

export function describe(node: Node | null | undefined): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `"${v}"`;
    return String(v);
  }
  return 'nothing';
}

export class MapReader {
  private readonly asked = new Set<string>();
  private readonly pairs = new Map<string, Pair<Node, Node | null>>();
  /** a module section written as a list (see section()): its items, until items() reads them */
  private seq: Node[] | null = null;
  private seqRead = false;
  /** offset of the map (or of its parent key when the map is absent) */
  readonly offset: number;

  constructor(
    readonly issues: IssueList,
    readonly source: string,
    readonly path: string, // 'sip', 'extensions[2]'
    node: Node | null | undefined,
    parentOffset: number,
    listOk = false,
  ) {
    this.offset = nodeOffset(node, parentOffset);
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return;
    if (listOk && isSeq(node)) {
      this.seq = node.items as Node[];
      return;
    }
    if (!isMap(node)) {
      issues.add(this.offset, `${path} must be a mapping of keys to values, found ${describe(node)}`);
      return;
    }
    for (const pair of (node as YAMLMap<Node, Node | null>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key === null) {
        issues.add(nodeOffset(pair.key as Node, this.offset), `${path} has a key that is not a plain name`);
        continue;
      }
      this.pairs.set(key, pair);
    }
  }

  private full(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** The value node of `key`, or undefined when absent or empty; marks the key as known. */
  node(key: string): Node | undefined {
    this.asked.add(key);
    const v = this.pairs.get(key)?.value;
    if (v === null || v === undefined) return undefined;
    if (isScalar(v) && v.value === null) return undefined;
    return v;
  }

  has(key: string): boolean {
    return this.node(key) !== undefined;
  }

  keyOffset(key: string): number {
    const p = this.pairs.get(key);
    return p ? nodeOffset(p.key as Node, this.offset) : this.offset;
  }

  valueOffset(key: string): number {
    const v = this.pairs.get(key)?.value;
    return v ? nodeOffset(v, this.keyOffset(key)) : this.keyOffset(key);
  }

  error(key: string, message: string): void {
    this.issues.add(this.valueOffset(key), message);
  }

  string(key: string, def: string, opts: { required?: boolean; pattern?: RegExp; expect?: string } = {}): string {
    const n = this.node(key);
    if (n === undefined) {
      if (opts.required) this.issues.add(this.keyOffset(key), `${this.full(key)} is required; ${opts.expect ?? 'expected a string'}`);
      return def;
    }
    const s = scalarText(n, this.source);
    if (s === null) {
      this.error(key, `${this.full(key)} must be a string, found ${describe(n)}; ${opts.expect ?? 'expected a string'}`);
      return def;
    }
    if (opts.pattern && !opts.pattern.test(s)) {
      this.error(key, `${this.full(key)} "${s}" is not valid; ${opts.expect ?? `expected ${opts.pattern}`}`);
      return def;
    }
    return s;
  }

  optionalString(key: string, opts: { pattern?: RegExp; expect?: string } = {}): string | null {
    if (!this.has(key)) return null;
    const bad = '\u0000';
    const s = this.string(key, bad, opts);
    return s === bad ? null : s;
  }

  int(key: string, def: number, min: number, max: number, unit = ''): number {
    const n = this.node(key);
    if (n === undefined) return def;
    const u = unit ? ` ${unit}` : '';
    if (!isScalar(n) || typeof n.value !== 'number' || !Number.isInteger(n.value)) {
      this.error(key, `${this.full(key)} must be a whole number, found ${describe(n)}; expected ${min}..${max}${u}`);
      return def;
    }
    if (n.value < min || n.value > max) {
      this.error(key, `${this.full(key)} ${n.value} is out of range; expected ${min}..${max}${u}`);
      return def;
    }
    return n.value;
  }

  bool(key: string, def: boolean): boolean {
    const n = this.node(key);
    if (n === undefined) return def;
    if (!isScalar(n) || typeof n.value !== 'boolean') {
      this.error(key, `${this.full(key)} must be true or false, found ${describe(n)}`);
      return def;
    }
    return n.value;
  }

  oneOf<T extends string>(key: string, def: T, allowed: readonly T[]): T {
    const n = this.node(key);
    if (n === undefined) return def;
    const s = scalarText(n, this.source);
    if (s === null || !(allowed as readonly string[]).includes(s)) {
      this.error(key, `${this.full(key)} is ${describe(n)}; expected one of ${allowed.join(', ')}`);
      return def;
    }
    return s as T;
  }

  /** A list of scalars as text with each item's offset; undefined when absent. */
  list(key: string): Array<{ text: string | null; node: Node; offset: number }> | undefined {
    const n = this.node(key);
    if (n === undefined) return undefined;
    if (!isSeq(n)) {
      this.error(key, `${this.full(key)} must be a list, found ${describe(n)}; write [a, b] or one "- item" per line`);
      return undefined;
    }
    return n.items.map((item) => {
      const node = item as Node;
      return { text: scalarText(node, this.source), node, offset: nodeOffset(node, this.valueOffset(key)) };
    });
  }

  child(key: string): MapReader {
    return new MapReader(this.issues, this.source, this.full(key), this.node(key), this.keyOffset(key));
  }

  /**
   * A module's section: a mapping, or a list of mappings (`trunks:`) that
   * its reader takes with items(). A list given to a reader that expects a
   * mapping is reported by done().
   */
  section(key: string): MapReader {
    return new MapReader(this.issues, this.source, this.full(key), this.node(key), this.keyOffset(key), true);
  }

  /** The items of a section written as a list, each a reader named `path[i]`; [] when the section is absent, null when it is a mapping. */
  items(): MapReader[] | null {
    this.seqRead = true;
    if (this.seq === null) return this.pairs.size > 0 ? null : [];
    return this.seq.map((n, i) => new MapReader(this.issues, this.source, `${this.path}[${i}]`, n, nodeOffset(n, this.offset)));
  }

  /** `key` as a list of mappings, each a reader named `path.key[i]`; [] when absent. */
  maps(key: string): MapReader[] {
    const n = this.node(key);
    if (n === undefined) return [];
    if (!isSeq(n)) {
      this.error(key, `${this.full(key)} must be a list, found ${describe(n)}; write one "- name: ..." item per line`);
      return [];
    }
    return n.items.map((item, i) => new MapReader(this.issues, this.source, `${this.full(key)}[${i}]`, item as Node, nodeOffset(item as Node, this.valueOffset(key))));
  }

  /** Keys present in the map, in file order (for free-form maps such as log.levels). */
  keys(): string[] {
    return [...this.pairs.keys()];
  }

  /** Report every key that no reader asked for. Call after reading the section. */
  done(): void {
    if (this.seq !== null && !this.seqRead) this.issues.add(this.offset, `${this.path} must be a mapping of keys to values, found a list`);
    const allowed = [...this.asked];
    for (const [key, pair] of this.pairs) {
      if (this.asked.has(key)) continue;
      const best = allowed.map((k) => ({ k, d: editDistance(key, k) })).sort((a, b) => a.d - b.d)[0];
      const hint = best && best.d <= 2 ? `did you mean ${best.k}? ` : '';
      this.issues.add(
        nodeOffset(pair.key as Node, this.offset),
        `unknown key ${this.full(key)}; ${hint}${this.path ? `keys allowed in ${this.path}` : 'top-level sections'}: ${allowed.join(', ')}`,
      );
    }
  }
}
