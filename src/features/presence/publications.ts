// The event state compositor's store (RFC 3903): what each extension's user
// agents (and the XMPP bridge) published, by entity-tag, each expiring on
// its own. In memory only: published state is soft state the publisher
// refreshes (RFC 3903 §1), and Palisade's own knowledge (registered, on a
// call, DND) never depends on it.
import { randomBytes } from 'node:crypto';
import type { PresenceDoc } from './pidf.js';

interface Publication {
  etag: string;
  extension: string;
  doc: PresenceDoc;
  expiresAt: number;
  /** 'sip' or a bridge's name */
  source: string;
  timer: NodeJS.Timeout;
}

/** what the compositor asks of the store */
export class Publications {
  private readonly byEtag = new Map<string, Publication>();
  private readonly byExt = new Map<string, Set<Publication>>();

  constructor(
    /** an extension's published state changed (added, modified, removed, expired) */
    private readonly changed: (extension: string) => void,
    private readonly clock: () => number = Date.now,
    private readonly limitPerExtension = 16,
  ) {}

  get(etag: string): Publication | undefined {
    return this.byEtag.get(etag);
  }

  /**
   * A new publication (no SIP-If-Match), or a modification / refresh of one
   * (`etag` given; doc null = a refresh keeps the document). RFC 3903 §6
   * step 7: every successful PUBLISH gets a new entity-tag.
   * Null when the extension already has too many publications.
   */
  put(extension: string, source: string, doc: PresenceDoc | null, seconds: number, etag?: string): string | null {
    const old = etag ? this.byEtag.get(etag) : undefined;
    if (!old && (this.byExt.get(extension)?.size ?? 0) >= this.limitPerExtension) return null;
    if (old) this.drop(old);
    const p: Publication = {
      etag: randomBytes(9).toString('base64url'),
      extension,
      doc: doc ?? old!.doc,
      expiresAt: this.clock() + seconds * 1000,
      source,
      timer: setTimeout(() => this.remove(p.etag), seconds * 1000),
    };
    p.timer.unref();
    this.byEtag.set(p.etag, p);
    let set = this.byExt.get(extension);
    if (!set) this.byExt.set(extension, (set = new Set()));
    set.add(p);
    if (doc !== null || !old) this.changed(extension);
    return p.etag;
  }

  /** RFC 3903 §4.5: Expires 0 removes the publication */
  remove(etag: string): boolean {
    const p = this.byEtag.get(etag);
    if (!p) return false;
    this.drop(p);
    this.changed(p.extension);
    return true;
  }

  /** the newest document published for the extension (undefined when none is in force) */
  latest(extension: string): PresenceDoc | undefined {
    return this.latestEntry(extension)?.doc;
  }

  /** that document with its expiry (epoch ms) */
  latestEntry(extension: string): { doc: PresenceDoc; expiresAt: number } | undefined {
    let best: Publication | undefined;
    for (const p of this.byExt.get(extension) ?? []) if (!best || p.expiresAt >= best.expiresAt) best = p;
    return best ? { doc: best.doc, expiresAt: best.expiresAt } : undefined;
  }

  /** the extensions with a publication in force */
  extensions(): string[] {
    return [...this.byExt.keys()];
  }

  clear(): void {
    for (const p of this.byEtag.values()) clearTimeout(p.timer);
    this.byEtag.clear();
    this.byExt.clear();
  }

  private drop(p: Publication): void {
    clearTimeout(p.timer);
    this.byEtag.delete(p.etag);
    const set = this.byExt.get(p.extension);
    set?.delete(p);
    if (set?.size === 0) this.byExt.delete(p.extension);
  }
}
