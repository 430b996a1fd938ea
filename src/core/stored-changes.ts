// What the HTTP API changed in the shared database, for the other nodes of
// a cluster (docs/operations.md, "Scaling out"). A module that writes an
// object to the database and applies it at once (a route, an extension, a
// queue member) says which kind it changed; a carrier (the cluster module)
// sends that notice to the other nodes, and there the module that owns the
// kind reads it again from the database. Nothing but the kind travels: the
// database holds the objects. Alone, nothing is sent and nothing arrives.

/** the kinds of stored objects a node reloads when another node changed them */
export type StoredKind = 'routes' | 'trunks' | 'extensions' | 'queue-members';

export const STORED_KINDS: readonly StoredKind[] = ['routes', 'trunks', 'extensions', 'queue-members'];

export interface StoredChanges {
  /** a module: `kind` was written to the database and applied here; the other nodes reload it */
  changed(kind: StoredKind): void;
  /** a module: how this node reads `kind` again when another node changed it */
  onChanged(kind: StoredKind, reload: () => Promise<unknown> | unknown): void;
}

/** The hub between the modules and a carrier (one per server). */
export class StoredChangeHub implements StoredChanges {
  private readonly carriers = new Map<string, (kind: StoredKind) => void>();
  private readonly readers = new Map<StoredKind, Array<() => Promise<unknown> | unknown>>();

  changed(kind: StoredKind): void {
    for (const send of this.carriers.values()) send(kind);
  }

  onChanged(kind: StoredKind, reload: () => Promise<unknown> | unknown): void {
    let list = this.readers.get(kind);
    if (!list) this.readers.set(kind, (list = []));
    list.push(reload);
  }

  /** the carrier: takes every local change from now on */
  carry(send: (kind: StoredKind) => void, name = 'cluster'): void {
    if (this.carriers.has(name)) throw new Error(`a carrier of stored changes named ${name} is set already`);
    this.carriers.set(name, send);
  }

  /**
   * A carrier: another node (or worker) changed `kind`; resolves once every
   * reader has reloaded it (the first failure rejects), then the other
   * carriers pass it on (worker 0 of a clustered node: the cluster's news to
   * its workers).
   */
  async applyRemote(kind: StoredKind, from = 'cluster'): Promise<number> {
    const list = this.readers.get(kind) ?? [];
    try {
      for (const r of list) await r();
    } finally {
      for (const [name, send] of this.carriers) if (name !== from) send(kind);
    }
    return list.length;
  }
}
