// Do-not-disturb as the layers around it see it: features that know an
// extension's DND (the office module's feature codes, a chat client's "dnd"
// show through the XMPP bridge, an administrator) register a provider, and
// features that show it (presence, busy lamps, queues) ask the hub and hear
// its changes. A port in core/ (docs/architecture.md, "Do not disturb"):
// neither side imports the other. Cost: a loop over a few providers.

/** one source of DND state */
export interface DndProvider {
  /** short, for logs: 'office', 'xmpp', 'admin' */
  readonly name: string;
  isDnd(extension: string): boolean;
}

export class DndHub {
  private readonly providers: DndProvider[] = [];
  private readonly listeners = new Set<(extension: string, dnd: boolean) => void>();

  register(p: DndProvider): void {
    if (this.providers.some((x) => x.name === p.name)) throw new Error(`a DND provider named ${p.name} is registered already`);
    this.providers.push(p);
  }

  /** true when any provider says the extension does not want to be disturbed */
  isDnd(extension: string): boolean {
    for (const p of this.providers) if (p.isDnd(extension)) return true;
    return false;
  }

  /** a provider's state for `extension` changed: listeners hear the combined state */
  changed(extension: string): void {
    const on = this.isDnd(extension);
    for (const fn of this.listeners) {
      try {
        fn(extension, on);
      } catch {
        // a listener's fault never reaches the provider
      }
    }
  }

  onChange(fn: (extension: string, dnd: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
