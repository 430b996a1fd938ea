// The extensions the server serves: rows imported into the database
// (`palisade users import`) merged with the configuration file's, which wins
// on the same number. The authenticator, the registrar and the B2BUA read
// it; `reload-extensions` re-reads it in place and tells its listeners
// (voicemail re-reads the imported mailboxes). It also knows the numbers set
// aside (disabled), which serve no one but are still taken.
import type { PalisadeConfig } from '../config/config-types.js';
import type { Ha1Set } from '../sip/auth/digest.js';
import type { ExtensionDirectory as ExtensionDirectoryPort, ExtensionInfo } from '../core/directory.js';
import type { Database } from '../storage/database.js';
import type { StoredExtension } from '../storage/extension-repo.js';

export interface ExtensionRecord extends ExtensionInfo {
  ha1: Ha1Set;
}

type ReloadAnswer = Record<string, unknown> | undefined;

/** told after each (re)load; may add fields to the `reload-extensions` answer (awaited when it returns a promise) */
export type ReloadListener = (imported: readonly StoredExtension[]) => ReloadAnswer | Promise<ReloadAnswer>;

export class ExtensionDirectory implements ExtensionDirectoryPort {
  private readonly byNumber = new Map<string, ExtensionRecord>();
  /** numbers set aside ("disabled"): they serve no one, but are not free either */
  private setAside = new Set<string>();
  /** when each database extension's present holder was made (created_at); not for palisade.yaml's */
  private made = new Map<string, number>();
  private readonly listeners: ReloadListener[] = [];
  private rows: StoredExtension[] = [];

  constructor(
    private readonly cfg: PalisadeConfig,
    private readonly storage: Database,
  ) {}

  get size(): number {
    return this.byNumber.size;
  }

  get(number: string): ExtensionRecord | undefined {
    return this.byNumber.get(number);
  }

  has(number: string): boolean {
    return this.byNumber.has(number);
  }

  /**
   * Is `number` an extension set aside (disabled through the API or a site
   * file)? It cannot register or call, and has() says no; what belongs to it
   * (its learned calling profile) is kept for when it comes back.
   */
  isSetAside(number: string): boolean {
    return this.setAside.has(number) && !this.byNumber.has(number);
  }

  /**
   * When the present holder of `number` was made (epoch ms): the database's
   * created_at, which an update keeps and a delete and create renews.
   * Undefined for palisade.yaml's extensions and numbers not served.
   */
  createdAt(number: string): number | undefined {
    return this.made.get(number);
  }

  values(): IterableIterator<ExtensionRecord> {
    return this.byNumber.values();
  }

  /** the imported rows the configuration file does not override */
  imported(): readonly StoredExtension[] {
    const configured = new Set(this.cfg.extensions.map((e) => e.number));
    return this.rows.filter((r) => !configured.has(r.number));
  }

  /** `listener` runs now with the current rows, and after every reload */
  onReload(listener: ReloadListener): void {
    this.listeners.push(listener);
    void listener(this.imported());
  }

  /** (re)loads: imported rows first, the configuration file wins on the same number */
  async load(): Promise<{ extensions: number } & Record<string, unknown>> {
    const next = new Map<string, ExtensionRecord>();
    this.rows = await this.storage.extensions.list();
    const setAside = new Set(await this.storage.extensions.disabledNumbers());
    for (const row of this.rows) {
      next.set(row.number, {
        number: row.number,
        name: row.name ?? '',
        context: row.context ?? 'default',
        directMedia: !!row.directMedia,
        ha1: { md5: row.ha1Md5 ?? undefined, sha256: row.ha1Sha256 ?? undefined },
      });
    }
    const made = new Map(this.rows.map((r) => [r.number, r.createdAt]));
    for (const e of this.cfg.extensions) {
      made.delete(e.number);
      next.set(e.number, {
        number: e.number,
        name: e.name,
        context: e.context,
        directMedia: e.directMedia,
        encryption: e.encryption,
        ha1: { md5: e.ha1Md5 ?? undefined, sha256: e.ha1Sha256 ?? undefined },
      });
    }
    // swap in place: the authenticator and the B2BUA hold this directory
    this.byNumber.clear();
    for (const [k, v] of next) this.byNumber.set(k, v);
    this.setAside = setAside;
    this.made = made;
    let out: { extensions: number } & Record<string, unknown> = { extensions: this.byNumber.size };
    const imported = this.imported();
    for (const l of this.listeners) out = { ...out, ...(await l(imported)) };
    return out;
  }
}
