// What a feature module shares with the other workers of one `palisade
// start` (sip.workers > 1, docs/operations.md "One machine, every core"):
//  - topics: small messages to every other worker (a call parked in a slot,
//    an extension's do-not-disturb set by a feature code), delivered in the
//    order they were published, through the primary;
//  - peers: a worker that went (its state is gone) or came (tell it yours:
//    replay() names the state a module publishes again then);
//  - steering: a new INVITE that belongs where some state lives (`*8` where
//    the ringing call is, a park slot's number where the parked call waits)
//    is handed, as received, to the worker a rule names before this worker
//    opens a transaction for it. Its CANCEL, retransmissions and the INVITE
//    repeated with credentials follow it (the worker link remembers the
//    Call-ID); in-dialog requests and ACKs already reach the owner by the
//    mark of its To tag (src/transport/worker-route.ts).
// One process alone: publish does nothing, rules are never asked, and the
// bus is exactly the absence of the others.

/** what a steering rule reads of a new INVITE: cheap fields of the parsed message */
export interface SteerRequest {
  /** the Request-URI's user part (the number dialled) */
  user: string;
  /** the From URI's user part (who asks; not yet authenticated) */
  fromUser: string;
  /** the To URI's user part (a carrier that addresses its INVITE to our account names the DID here) */
  toUser: string;
}

/** the worker that should take the request, or -1 (this one, whichever it is) */
export type SteerRule = (r: SteerRequest) => number;

/** the worker side of the bus: set by the worker link (src/host/workers/) */
export interface WorkerBusLink {
  publish(topic: string, body: unknown): void;
}

export class WorkerBus {
  private link: WorkerBusLink | null = null;
  private readonly topics = new Map<string, Set<(body: unknown, from: number) => void>>();
  private readonly peers = new Set<(worker: number, up: boolean) => void>();
  private readonly rules = new Set<SteerRule>();
  private readonly homeApps = new Map<string, number>();
  private readonly replays = new Set<{ topic: string; state: () => Iterable<unknown> }>();

  /** this worker's index among `count` (0 of 1 alone) */
  constructor(
    readonly index = 0,
    readonly count = 1,
  ) {}

  /** whether other workers exist to share with */
  get shared(): boolean {
    return this.count > 1;
  }

  /** to every other worker (nothing alone) */
  publish(topic: string, body: unknown): void {
    this.link?.publish(topic, body);
  }

  subscribe(topic: string, fn: (body: unknown, from: number) => void): () => void {
    let set = this.topics.get(topic);
    if (!set) {
      set = new Set();
      this.topics.set(topic, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /** a worker went (down: what it held is gone) or came (up: it knows nothing of this worker's state yet) */
  onPeer(fn: (worker: number, up: boolean) => void): () => void {
    this.peers.add(fn);
    return () => this.peers.delete(fn);
  }

  /**
   * A dialplan application whose state one worker holds (Queue()'s lines,
   * ConfBridge()'s rooms: worker 0). A call whose number leads to it — in
   * the dialplan or through an inbound route — is steered there
   * (src/host/workers/, the trunks module).
   */
  home(app: string, worker: number): void {
    this.homeApps.set(app.toLowerCase(), worker);
  }

  /** the applications one worker holds: lower-case name → worker */
  get homes(): ReadonlyMap<string, number> {
    return this.homeApps;
  }

  /**
   * The state this worker holds under `topic` (a message per item, as it
   * publishes them when they change): published again whenever a worker
   * comes, which knows nothing of it yet. Returns the removal.
   */
  replay(topic: string, state: () => Iterable<unknown>): () => void {
    const r = { topic, state };
    this.replays.add(r);
    return () => this.replays.delete(r);
  }

  /** a rule asked of every new INVITE (keep it to a comparison or a Map read: it runs per call) */
  steer(rule: SteerRule): () => void {
    this.rules.add(rule);
    return () => this.rules.delete(rule);
  }

  // ---- the worker link's side

  attach(link: WorkerBusLink | null): void {
    this.link = link;
  }

  deliver(topic: string, body: unknown, from: number): void {
    const set = this.topics.get(topic);
    if (!set) return;
    for (const fn of set) {
      try {
        fn(body, from);
      } catch {
        /* one subscriber's fault is not the link's */
      }
    }
  }

  peer(worker: number, up: boolean): void {
    for (const fn of this.peers) {
      try {
        fn(worker, up);
      } catch {
        /* as above */
      }
    }
    if (!up) return;
    for (const r of this.replays) {
      try {
        for (const body of r.state()) this.publish(r.topic, body);
      } catch {
        /* as above */
      }
    }
  }

  get steering(): boolean {
    return this.rules.size > 0;
  }

  /** the worker the first rule that names another one names; -1 when none does */
  steerOf(r: SteerRequest): number {
    for (const rule of this.rules) {
      let w = -1;
      try {
        w = rule(r);
      } catch {
        w = -1;
      }
      if (w >= 0 && w < this.count && w !== this.index) return w;
    }
    return -1;
  }
}
