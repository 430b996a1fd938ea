// PIDF (RFC 3863) documents: the one Palisade sends in NOTIFYs for the
// `presence` package (RFC 3856 §6.7: application/pidf+xml is the body every
// watcher must accept), with RPID activities (RFC 4480) for what a basic
// open/closed cannot say — on the phone, busy (do not disturb), away — and
// the reading of a PIDF a user agent PUBLISHes (RFC 3903) or the XMPP bridge
// hands in. Parsing uses fast-xml-parser with entities off (no expansion:
// a published document cannot grow).
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';

// loaded on the first document to read (its CommonJS build, synchronously): a server
// nobody PUBLISHes to does not carry the XML parser (about 1.5 MB of heap)
const require = createRequire(import.meta.url);

export const PIDF_TYPE = 'application/pidf+xml';

/** RPID activities Palisade reads and writes (RFC 4480 §3.2) */
export type Activity = 'on-the-phone' | 'busy' | 'away' | 'meeting' | 'vacation' | 'meal' | 'appointment';
const KNOWN_ACTIVITIES = new Set<string>(['on-the-phone', 'busy', 'away', 'meeting', 'vacation', 'meal', 'appointment']);

export interface PresenceDoc {
  basic: 'open' | 'closed';
  activities: Activity[];
  note: string;
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** RFC 3863 §4: one tuple (the extension's service), RFC 4479's person element carrying the RPID activities */
export function buildPidf(entity: string, d: PresenceDoc): string {
  const acts = d.activities.map((a) => `<rpid:${a}/>`).join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${esc(entity)}">`,
    ' <tuple id="pbx">',
    `  <status><basic>${d.basic}</basic></status>`,
    `  <contact>${esc(entity)}</contact>`,
    d.note ? `  <note>${esc(d.note)}</note>` : '',
    ' </tuple>',
    ' <dm:person id="p">',
    acts ? `  <rpid:activities>${acts}</rpid:activities>` : '',
    d.note ? `  <dm:note>${esc(d.note)}</dm:note>` : '',
    ' </dm:person>',
    '</presence>',
    '',
  ]
    .filter((l) => l !== '')
    .join('\r\n');
}

let parser: XMLParser | undefined;
const xmlParser = (): XMLParser =>
  (parser ??= new (require('fast-xml-parser') as typeof import('fast-xml-parser')).XMLParser({
    ignoreAttributes: false,
    removeNSPrefix: true,
    processEntities: false,
    isArray: (name) => name === 'tuple' || name === 'note' || name === 'person',
  }));

type Node = Record<string, unknown>;

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The text with XML's five predefined entities and character references
 * decoded — the parser expands none (processEntities: false keeps a
 * document's own DTD entities out), so `&lt;` would otherwise reach the note
 * as it was written and be escaped again on the way out. Other `&name;`
 * stay as they are.
 */
function unescapeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g, (all, e: string) => {
    if (e[0] !== '#') return NAMED[e]!;
    const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : all;
  });
}

function text(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return unescapeXml(String(v));
  if (v && typeof v === 'object' && '#text' in v) return unescapeXml(String((v as Node)['#text']));
  return '';
}

/**
 * A published PIDF reduced to what Palisade merges: open if any tuple is
 * open, the RPID activities it knows, the first note. Null when it is not a
 * PIDF document (the PUBLISH then gets 400).
 */
export function parsePidf(xml: string): PresenceDoc | null {
  let doc: Node;
  try {
    doc = xmlParser().parse(xml) as Node;
  } catch {
    return null;
  }
  const presence = doc.presence as Node | undefined;
  if (!presence || typeof presence !== 'object') return null;
  const tuples = (presence.tuple as Node[] | undefined) ?? [];
  const basic = tuples.some((t) => text((t.status as Node | undefined)?.basic).trim() === 'open') ? 'open' : 'closed';
  const activities: Activity[] = [];
  const notes: string[] = [];
  for (const t of tuples) for (const n of (t.note as unknown[] | undefined) ?? []) notes.push(text(n));
  for (const p of (presence.person as Node[] | undefined) ?? []) {
    const acts = p.activities as Node | undefined;
    if (acts && typeof acts === 'object') for (const k of Object.keys(acts)) if (KNOWN_ACTIVITIES.has(k)) activities.push(k as Activity);
    for (const n of (p.note as unknown[] | undefined) ?? []) notes.push(text(n));
  }
  for (const n of (presence.note as unknown[] | undefined) ?? []) notes.push(text(n));
  return { basic, activities, note: (notes.find((n) => n.trim() !== '') ?? '').trim().slice(0, 200) };
}
