// The host firewall as the audit understands it: `nft -j list ruleset`
// (libnftables-json(5)) or `iptables-save` reduced to what decides whether a
// new connection from an arbitrary Internet address to a port gets in —
// protocol, destination ports, whether the rule is limited to some sources,
// and its verdict. Anything the model does not understand makes a rule
// "limited" (it may or may not apply), so an accept it cannot read never
// counts as open to all and a drop it cannot read never counts as closing.

export type Proto = 'tcp' | 'udp';
type PortRange = [number, number];

export type RuleVerdict = { kind: 'accept' | 'drop' | 'return' | 'continue' } | { kind: 'jump' | 'goto'; target: string };

export interface FwRule {
  /** protocols the rule matches; null for any */
  protos: Set<string> | null;
  /** destination ports; null for any */
  dports: PortRange[] | null;
  /** applies to some sources or packets only (a source address, a set, an interface, a rate limit, a match not understood) */
  limited: boolean;
  /** never applies to a new connection from outside (ct state established/related, the loopback interface, IPv6 only) */
  inert: boolean;
  verdict: RuleVerdict;
}

export interface FwChain {
  /** "inet filter input" */
  name: string;
  /** set for base chains: the netfilter hook and the policy */
  hook?: string;
  policy?: 'accept' | 'drop';
  rules: FwRule[];
}

export interface Ruleset {
  /** by "family table chain" (nft) or "filter CHAIN" (iptables) */
  chains: Map<string, FwChain>;
}

/** where a new IPv4 connection to proto/port from an arbitrary address ends */
export type Reach = 'open' | 'limited' | 'closed';

const ANY: PortRange[] = [[0, 65535]];
const SERVICES: Record<string, number> = { ssh: 22, http: 80, https: 443, sip: 5060, 'sip-tls': 5061 };

// ---- nft -j list ruleset ----------------------------------------------------

type Json = unknown;
const o = (v: Json): Record<string, Json> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Json>) : undefined);

/** port values of a match's right side; undefined when not understood */
function portsOf(right: Json, sets: Map<string, Json[]>): PortRange[] | undefined {
  if (typeof right === 'number') return [[right, right]];
  if (typeof right === 'string') {
    if (right.startsWith('@')) {
      const elems = sets.get(right.slice(1));
      return elems ? portsOf({ set: elems }, sets) : undefined;
    }
    const n = SERVICES[right] ?? Number(right);
    return Number.isInteger(n) ? [[n, n]] : undefined;
  }
  const r = o(right);
  if (!r) return undefined;
  if (Array.isArray(r.range) && typeof r.range[0] === 'number' && typeof r.range[1] === 'number') return [[r.range[0], r.range[1]]];
  if (Array.isArray(r.set)) {
    const out: PortRange[] = [];
    for (const e of r.set) {
      const p = portsOf(e, sets);
      if (!p) return undefined;
      out.push(...p);
    }
    return out;
  }
  return undefined;
}

function complement(ranges: PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: PortRange[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 65535) out.push([next, 65535]);
  return out;
}

function stringsOf(right: Json): string[] | undefined {
  if (typeof right === 'string') return [right];
  if (Array.isArray(right)) return right.every((x) => typeof x === 'string') ? (right as string[]) : undefined;
  const s = o(right)?.set;
  return Array.isArray(s) && s.every((x) => typeof x === 'string') ? (s as string[]) : undefined;
}

function intersect(a: Set<string> | null, b: string[]): Set<string> {
  return new Set(b.filter((x) => a === null || a.has(x)));
}

/** one `match` expression applied to the rule being built */
function applyMatch(rule: FwRule, m: Record<string, Json>, sets: Map<string, Json[]>): void {
  const op = m.op;
  const left = o(m.left);
  const payload = o(left?.payload);
  const meta = o(left?.meta);
  const ct = o(left?.ct);
  const positive = op === '==' || op === 'in';
  if (payload && payload.field === 'dport' && typeof payload.protocol === 'string') {
    const ports = portsOf(m.right, sets);
    if (payload.protocol !== 'th') rule.protos = intersect(rule.protos, [payload.protocol]);
    if (!ports || !(positive || op === '!=')) rule.limited = true;
    else rule.dports = positive ? ports : complement(ports);
    return;
  }
  if (payload && (payload.protocol === 'ip6' || payload.protocol === 'icmpv6')) {
    rule.inert = true; // the model follows IPv4
    return;
  }
  if (meta && (meta.key === 'l4proto' || meta.key === 'protocol') && positive) {
    const names = stringsOf(m.right);
    if (meta.key === 'l4proto' && names) rule.protos = intersect(rule.protos, names);
    else if (meta.key === 'protocol' && names) {
      if (!names.includes('ip')) rule.inert = true;
    } else rule.limited = true;
    return;
  }
  if (meta && meta.key === 'nfproto' && positive) {
    if (!stringsOf(m.right)?.includes('ipv4')) rule.inert = true;
    return;
  }
  if (meta && (meta.key === 'iifname' || meta.key === 'iif') && positive && stringsOf(m.right)?.every((x) => x === 'lo')) {
    rule.inert = true;
    return;
  }
  if (ct && ct.key === 'state') {
    const states = stringsOf(m.right);
    if (states && positive && !states.includes('new')) rule.inert = true;
    else if (!states || !positive) rule.limited = true;
    return;
  }
  if (payload && payload.protocol === 'ip' && payload.field === 'saddr') {
    const p = o(o(m.right)?.prefix);
    if (!(positive && p && p.len === 0)) rule.limited = true;
    return;
  }
  rule.limited = true;
}

function nftVerdict(stmt: Record<string, Json>): RuleVerdict | undefined {
  if ('accept' in stmt) return { kind: 'accept' };
  if ('drop' in stmt || 'reject' in stmt) return { kind: 'drop' };
  if ('return' in stmt) return { kind: 'return' };
  for (const k of ['jump', 'goto'] as const) {
    const t = o(stmt[k])?.target;
    if (typeof t === 'string') return { kind: k, target: t };
  }
  return undefined;
}

/** a rule's expressions, possibly several model rules (a verdict map on ct state or dport) */
function nftRule(expr: Json[], sets: Map<string, Json[]>): FwRule[] {
  const rule: FwRule = { protos: null, dports: null, limited: false, inert: false, verdict: { kind: 'continue' } };
  for (const e of expr) {
    const stmt = o(e);
    if (!stmt) continue;
    if (stmt.match) {
      applyMatch(rule, o(stmt.match) ?? {}, sets);
      continue;
    }
    const v = nftVerdict(stmt);
    if (v) {
      rule.verdict = v;
      break;
    }
    if (stmt.vmap) return vmapRules(rule, o(stmt.vmap) ?? {}, sets);
    if ('counter' in stmt || 'log' in stmt || 'comment' in stmt) continue;
    rule.limited = true; // limit, quota, meter, set updates...: only some packets go on
  }
  return [rule];
}

function vmapRules(base: FwRule, vmap: Record<string, Json>, sets: Map<string, Json[]>): FwRule[] {
  const key = o(vmap.key);
  const entries = o(vmap.data)?.set;
  if (!Array.isArray(entries)) return [{ ...base, limited: true }];
  const out: FwRule[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue;
    const [k, v] = entry as [Json, Json];
    const verdict = nftVerdict(o(v) ?? {}) ?? { kind: 'continue' };
    const r: FwRule = { ...base, verdict };
    if (o(key?.ct)?.key === 'state') {
      if (!stringsOf(k)?.includes('new')) continue; // established, related, invalid: not a new connection
    } else {
      applyMatch(r, { op: '==', left: key, right: k }, sets);
    }
    out.push(r);
  }
  return out;
}

export function parseNftJson(text: string): Ruleset {
  const doc = o(JSON.parse(text));
  const items = doc?.nftables;
  if (!Array.isArray(items)) throw new Error('not nft JSON (no "nftables" array)');
  const chains = new Map<string, FwChain>();
  const sets = new Map<string, Map<string, Json[]>>(); // "family table" → set name → elements
  for (const it of items) {
    const s = o(o(it)?.set);
    if (s) {
      const scope = `${s.family} ${s.table}`;
      if (!sets.has(scope)) sets.set(scope, new Map());
      sets.get(scope)!.set(String(s.name), Array.isArray(s.elem) ? s.elem : []);
    }
    const c = o(o(it)?.chain);
    if (c) {
      const chain: FwChain = { name: `${c.family} ${c.table} ${c.name}`, rules: [] };
      if (typeof c.hook === 'string') {
        chain.hook = c.hook;
        chain.policy = c.policy === 'drop' ? 'drop' : 'accept';
      }
      chains.set(chain.name, chain);
    }
  }
  for (const it of items) {
    const r = o(o(it)?.rule);
    if (!r || !Array.isArray(r.expr)) continue;
    const chain = chains.get(`${r.family} ${r.table} ${r.chain}`);
    if (!chain) continue;
    const rules = nftRule(r.expr, sets.get(`${r.family} ${r.table}`) ?? new Map());
    // a jump target is a chain of the same table
    for (const x of rules) if (x.verdict.kind === 'jump' || x.verdict.kind === 'goto') x.verdict.target = `${r.family} ${r.table} ${x.verdict.target}`;
    chain.rules.push(...rules);
  }
  // the input hook of the ip and inet families sees IPv4; ip6, arp, bridge and netdev chains do not take part
  for (const [k, c] of chains) if (c.hook && !(k.startsWith('ip ') || k.startsWith('inet '))) c.hook = `${c.hook} (not IPv4)`;
  return { chains };
}

// ---- iptables-save ----------------------------------------------------------

function tokens(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function iptPorts(spec: string): PortRange[] {
  return spec.split(',').map((p) => {
    const [a, b] = p.split(':');
    const lo = a === '' ? 0 : Number(SERVICES[a!] ?? a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(SERVICES[b] ?? b);
    return [lo, hi] as PortRange;
  });
}

function iptRule(args: string[], table: string): FwRule {
  const rule: FwRule = { protos: null, dports: null, limited: false, inert: false, verdict: { kind: 'continue' } };
  let negate = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1] ?? '';
    if (a === '!') {
      negate = true;
      continue;
    }
    const neg = negate;
    negate = false;
    switch (a) {
      case '-p':
      case '--protocol':
        i++;
        if (neg) rule.limited = true;
        else if (next !== 'all') rule.protos = intersect(rule.protos, [next.toLowerCase()]);
        break;
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports':
        i++;
        rule.dports = neg ? complement(iptPorts(next)) : iptPorts(next);
        break;
      case '-s':
      case '--source':
        i++;
        if (neg || !/^0\.0\.0\.0\/0$/.test(next)) rule.limited = true;
        break;
      case '-i':
      case '--in-interface':
        i++;
        if (!neg && next === 'lo') rule.inert = true;
        else rule.limited = true;
        break;
      case '--state':
      case '--ctstate': {
        i++;
        const states = next.toUpperCase().split(',');
        if (!neg && !states.includes('NEW')) rule.inert = true;
        else if (neg) rule.limited = true;
        break;
      }
      case '-m':
      case '--match':
        i++;
        // these only name the module whose options follow; anything else (set, limit, recent...) limits the rule
        if (!['tcp', 'udp', 'multiport', 'state', 'conntrack', 'comment', 'icmp'].includes(next)) rule.limited = true;
        break;
      case '--comment':
      case '--icmp-type':
      case '--reject-with':
        i++;
        break;
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        i++;
        const t = next.toUpperCase();
        if (t === 'ACCEPT') rule.verdict = { kind: 'accept' };
        else if (t === 'DROP' || t === 'REJECT') rule.verdict = { kind: 'drop' };
        else if (t === 'RETURN') rule.verdict = { kind: 'return' };
        else if (['LOG', 'NFLOG', 'MARK', 'CONNMARK', 'CT'].includes(t)) rule.verdict = { kind: 'continue' };
        else rule.verdict = { kind: a === '-g' || a === '--goto' ? 'goto' : 'jump', target: `${table} ${next}` };
        break;
      }
      default:
        if (a.startsWith('-')) {
          rule.limited = true;
          if (!next.startsWith('-')) i++;
        }
    }
  }
  return rule;
}

/** the filter table of `iptables-save` (IPv4) */
export function parseIptablesSave(text: string): Ruleset {
  const chains = new Map<string, FwChain>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    if (table !== 'filter') continue;
    const decl = /^:(\S+)\s+(\S+)/.exec(line);
    if (decl) {
      const builtin = decl[2] !== '-';
      chains.set(`filter ${decl[1]}`, {
        name: `filter ${decl[1]}`,
        ...(builtin && decl[1] === 'INPUT' ? { hook: 'input' } : builtin ? { hook: decl[1]!.toLowerCase() } : {}),
        ...(builtin ? { policy: decl[2] === 'DROP' || decl[2] === 'REJECT' ? ('drop' as const) : ('accept' as const) } : {}),
        rules: [],
      });
      continue;
    }
    if (line.startsWith('-A ')) {
      const t = tokens(line);
      const chain = chains.get(`filter ${t[1]}`);
      chain?.rules.push(iptRule(t.slice(2), 'filter'));
    }
  }
  return { chains };
}

// ---- evaluation -------------------------------------------------------------

export function inputChains(rs: Ruleset): FwChain[] {
  return [...rs.chains.values()].filter((c) => c.hook === 'input');
}

function ruleApplies(r: FwRule, proto: Proto, port: number): boolean {
  if (r.inert) return false;
  if (r.protos && !r.protos.has(proto)) return false;
  if (r.dports && !r.dports.some(([lo, hi]) => port >= lo && port <= hi)) return false;
  return true;
}

interface ChainEnd {
  /** open: accepted for everyone; closed: dropped for everyone else; fallthrough: returned to the caller */
  end: 'open' | 'closed' | 'fallthrough';
  /** some sources were accepted on the way */
  some: boolean;
}

function walk(rs: Ruleset, chain: FwChain, proto: Proto, port: number, depth: number): ChainEnd {
  let some = false;
  for (const r of chain.rules) {
    if (!ruleApplies(r, proto, port)) continue;
    const v = r.verdict;
    let sub: ChainEnd | null = null;
    if (v.kind === 'jump' || v.kind === 'goto') {
      const target = rs.chains.get(v.target);
      if (!target || depth > 16) continue;
      sub = walk(rs, target, proto, port, depth + 1);
      some ||= sub.some;
    }
    if (r.limited) {
      if (v.kind === 'accept' || (sub && sub.end === 'open')) some = true;
      continue;
    }
    if (v.kind === 'accept') return { end: 'open', some };
    if (v.kind === 'drop') return { end: 'closed', some };
    if (v.kind === 'return') return { end: 'fallthrough', some };
    if (sub && sub.end !== 'fallthrough') return { end: sub.end, some };
    if (v.kind === 'goto') return { end: 'fallthrough', some };
  }
  if (chain.policy === 'drop') return { end: 'closed', some };
  if (chain.policy === 'accept') return { end: 'open', some };
  return { end: 'fallthrough', some };
}

/** whether a new IPv4 connection to proto/port from an arbitrary address passes every input chain */
export function reach(rs: Ruleset, proto: Proto, port: number): Reach {
  let result: Reach = 'open';
  for (const c of inputChains(rs)) {
    const e = walk(rs, c, proto, port, 0);
    // a return (or a goto that falls through) in a base chain ends in its policy
    const end = e.end === 'fallthrough' ? (c.policy === 'drop' ? 'closed' : 'open') : e.end;
    const r: Reach = end === 'closed' ? (e.some ? 'limited' : 'closed') : 'open';
    if (r === 'closed') return 'closed';
    if (r === 'limited') result = 'limited';
  }
  return result;
}

/** the ports of [lo, hi] grouped by reach: rules' port boundaries split the range into pieces judged once each */
export function reachRange(rs: Ruleset, proto: Proto, lo: number, hi: number): Array<{ lo: number; hi: number; reach: Reach }> {
  const cuts = new Set<number>([lo, hi + 1]);
  for (const c of rs.chains.values()) {
    for (const r of c.rules) {
      for (const [a, b] of r.dports ?? ANY) {
        if (a > lo && a <= hi) cuts.add(a);
        if (b + 1 > lo && b + 1 <= hi) cuts.add(b + 1);
      }
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out: Array<{ lo: number; hi: number; reach: Reach }> = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]! - 1;
    const r = reach(rs, proto, a);
    const last = out[out.length - 1];
    if (last && last.reach === r && last.hi + 1 === a) last.hi = b;
    else out.push({ lo: a, hi: b, reach: r });
  }
  return out;
}

/** no input chain drops anything for everyone: all traffic gets in */
export function filtersNothing(rs: Ruleset): boolean {
  const chains = inputChains(rs);
  if (chains.length === 0) return true;
  const dropsSomething = (c: FwChain, depth: number): boolean =>
    c.policy === 'drop' ||
    c.rules.some((r) => {
      if (r.inert || r.limited) return false;
      if (r.verdict.kind === 'drop') return true;
      if ((r.verdict.kind === 'jump' || r.verdict.kind === 'goto') && depth < 16) {
        const t = rs.chains.get(r.verdict.target);
        return t ? dropsSomething(t, depth + 1) : false;
      }
      return false;
    });
  return !chains.some((c) => dropsSomething(c, 0));
}
