// Defensive reads from the YAML as plain data: the audit must judge
// configurations whose sections this build does not know (security, fraud,
// backup...), so nothing here assumes a shape it has not checked.
export type Raw = Record<string, unknown>;

export function obj(v: unknown): Raw | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** raw.a.b.c, undefined when any step is missing */
export function at(raw: unknown, ...path: string[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    const o = obj(cur);
    if (!o) return undefined;
    cur = o[p];
  }
  return cur;
}

export function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return arr(v)
    .map(str)
    .filter((s): s is string => s !== undefined);
}

export interface RawExtension {
  number: string;
  raw: Raw;
}

export function extensions(raw: Raw): RawExtension[] {
  return arr(raw.extensions)
    .map((e) => obj(e))
    .filter((e): e is Raw => e !== undefined)
    .map((e) => ({ number: str(e.number) ?? '?', raw: e }));
}

export interface RawListen {
  transport: string;
  address: string;
  port: string;
  text: string;
}

export function listenPoints(raw: Raw): RawListen[] {
  const out: RawListen[] = [];
  for (const t of strings(at(raw, 'sip', 'listen'))) {
    const m = /^([a-z]+):(\[[^\]]+\]|[^:]+):(\d+)$/i.exec(t.trim());
    if (m) out.push({ transport: m[1]!.toLowerCase(), address: m[2]!.replace(/^\[|\]$/g, ''), port: m[3]!, text: t });
  }
  return out;
}

/** a short list for messages: "1001, 1002, 1003 and 4 more" */
export function listOf(items: string[], max = 6): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
