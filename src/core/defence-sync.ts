// The port through which one node's defences reach the others (several
// Palisade nodes: docs/operations.md, "Scaling out"). The security module
// publishes every change it makes on its own (a ban, a reputation mark, an
// imported fraud list, a learned call) and applies the changes other nodes
// made; a cluster module carries them over a broker. The security module
// knows no broker and the cluster module no security rule: both speak these
// plain records. Alone, nothing is published and nothing arrives.

/** a ban as every node enforces it (times in epoch ms) */
export interface SharedBan {
  address: string;
  since: number;
  until: number;
  reason: string;
  offences: number;
  manual: boolean;
}

export type DefenceChange =
  | { kind: 'ban'; ban: SharedBan }
  | { kind: 'unban'; address: string }
  /** evidence added to a subject's reputation at time t (epoch ms): additive, so nodes converge whatever the order */
  | { kind: 'reputation'; subject: string; good: number; bad: number; t: number }
  | { kind: 'reputation-reset'; subject: string; t: number }
  /** the fraud-number list in the shared database changed: reload it */
  | { kind: 'fraud-reload' }
  /** a call a principal placed (learned into its calling profile) */
  | { kind: 'profile-call'; principal: string; dest: string; t: number }
  /** an answered call's length (learned into the principal's profile) */
  | { kind: 'profile-length'; principal: string; seconds: number }
  /** a priced call answered on `node`: it spends `perMinute` of each principal's daily limit until its 'spend' arrives */
  | { kind: 'spend-open'; call: string; node: string; principals: string[]; perMinute: number; t: number }
  /** that call ended: what it cost each principal (added to the day's spend on every node) */
  | { kind: 'spend'; call: string; node: string; spent: Array<{ principal: string; amount: number }>; t: number }
  /**
   * a call passed the gate on `node`: it counts against `max_calls`, `max_outbound_calls` (principals)
   * and `calls_per_minute` (each principal's cap beside it) on every node until its 'call-close'
   */
  | { kind: 'call-open'; call: string; node: string; principals: Array<{ id: string; perMinute: number }>; callee?: string; t: number }
  /** that call ended */
  | { kind: 'call-close'; call: string; node: string }
  /** applied locally by the carrier, never published: `node` stopped (or restarted); its open calls spend and count no more */
  | { kind: 'node-gone'; node: string };

export interface DefenceSync {
  /** the security module: a change made here, for the other nodes (a no-op without a cluster) */
  publish(change: DefenceChange): void;
  /** the security module: how to apply a change another node made */
  onRemote(apply: (change: DefenceChange) => void): void;
}

/**
 * The hub between the two sides: the security module on one, carriers on
 * the other — the worker link (the other workers of this node) and the
 * cluster module (the other nodes). A change one carrier brings is applied
 * here and handed to every other carrier, so worker 0 of a clustered node
 * passes the cluster's changes to its workers and its workers' to the
 * cluster.
 */
export class DefenceSyncHub implements DefenceSync {
  private readonly carriers = new Map<string, (change: DefenceChange) => void>();
  private readonly appliers: Array<(change: DefenceChange) => void> = [];

  publish(change: DefenceChange): void {
    for (const send of this.carriers.values()) send(change);
  }

  onRemote(apply: (change: DefenceChange) => void): void {
    this.appliers.push(apply);
  }

  /** a carrier takes every local change from now on, and those the other carriers bring ('cluster', 'workers') */
  carry(send: (change: DefenceChange) => void, name = 'cluster'): void {
    if (this.carriers.has(name)) throw new Error(`a defence carrier named ${name} is set already`);
    this.carriers.set(name, send);
  }

  /** a carrier: a change that arrived from elsewhere; applied here and passed to the other carriers */
  applyRemote(change: DefenceChange, from = 'cluster'): void {
    for (const a of this.appliers) a(change);
    for (const [name, send] of this.carriers) if (name !== from) send(change);
  }

  get carried(): boolean {
    return this.carriers.size > 0;
  }
}
