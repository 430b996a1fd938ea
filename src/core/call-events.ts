// Call and device-state events, protocol-neutral: every call through the
// B2BUA and every dialplan channel reports its phases here, the location
// service its registrations, and features read them — busy lamps (the
// `dialog` package), presence, queues (don't ring an agent in use), the
// console's live view. Asterisk calls the derived per-extension state
// "device state". docs/architecture.md, "Call and device-state events".
//
// Cost: a Map update and the listeners per phase; nothing per packet.

export type CallPhase = 'start' | 'ringing' | 'answered' | 'end';

export interface CallEvent {
  phase: CallPhase;
  /** Palisade's id of the call (a channel's uniqueid, the B2BUA call's id); stable across phases */
  callId: string;
  /** the SIP Call-ID of the caller's leg, when SIP */
  sipCallId?: string;
  /** the calling number as presented */
  from: string;
  /** the number dialled */
  to: string;
  /** the local extension that places the call (absent: a trunk or a stranger) */
  fromExtension?: string;
  /** the local extension being rung or connected, once known (a Dial() sets it at ringing; '' clears it when that leg is gone) */
  toExtension?: string;
  /** the channel or leg name(s), for logs and the console */
  channel?: string;
  /** the CDR uniqueid the call's record will carry, when it differs from callId (a B2BUA call) */
  uniqueid?: string;
  /** the signalling ids (SIP Call-IDs) of the outgoing legs this call opened, e.g. a Dial()'s branches (ties them in a trace) */
  legs?: string[];
  /** the early dialogs of its ringing legs (phones that answered 180/183 with a tag); [] once none rings */
  early?: EarlyDialog[];
  /** 'b2bua' (direct call), 'channel' (the dialplan), or a module's name */
  via: string;
  /** epoch ms */
  at: number;
  /** why it ended (phase 'end') */
  cause?: string;
}

/**
 * One early dialog of a call's outgoing leg: Palisade's INVITE to one phone
 * of an extension, answered by a provisional response with a To tag. Busy
 * lamps publish it (RFC 4235 call-id, local-tag, remote-tag) and a phone
 * picks the call up by naming it in an INVITE's Replaces (RFC 3891).
 */
export interface EarlyDialog {
  /** the extension whose phone rings */
  extension: string;
  /** the leg's SIP Call-ID */
  callId: string;
  /** the ringing phone's tag (its To tag) */
  phoneTag: string;
  /**
   * What Palisade publishes for its own tag: a stand-in, not the From tag of
   * its INVITE, so that what a lamp shows its watchers never names the
   * dialog once answered (a Replaces naming an answered dialog is an
   * attended transfer). A pickup's Replaces names it as to-tag.
   */
  pickupTag: string;
}

export interface RegistrationEvent {
  /** the extension (address of record's user part) */
  extension: string;
  contact: string;
  /** true: added or refreshed; false: removed (unregistered, expired) */
  registered: boolean;
  /** what happened to this contact: a new binding, a refresh of one, or its removal */
  kind: 'added' | 'refreshed' | 'removed';
  /** contacts the extension holds after this event */
  contacts: number;
  /** 'sip', 'iax2' ... */
  via: string;
  at: number;
}

export type DeviceState = 'idle' | 'ringing' | 'inuse' | 'unavailable';

interface ActiveCall {
  ev: CallEvent;
  /** the worker that holds the call, when another worker does (sip.workers > 1); -1: this one */
  worker: number;
  /** the call was answered (by the callee or by Palisade itself) */
  answered: boolean;
  /** the current toExtension answered (it is in use, not ringing) */
  calleeAnswered: boolean;
}

export class CallEventHub {
  private readonly calls = new Map<string, ActiveCall>();
  private readonly contacts = new Map<string, number>();
  /** per extension: calls it places, calls ringing it, calls it answered (O(1) device state) */
  private readonly placing = new Map<string, number>();
  private readonly ringingAt = new Map<string, number>();
  private readonly answeredAt = new Map<string, number>();
  private readonly callListeners = new Set<(e: CallEvent) => void>();
  /** listeners that also hear the calls other workers hold */
  private readonly everyCallListeners = new Set<(e: CallEvent) => void>();
  private readonly regListeners = new Set<(e: RegistrationEvent) => void>();
  private readonly stateListeners = new Set<(extension: string, state: DeviceState) => void>();
  private readonly lastState = new Map<string, DeviceState>();

  /**
   * Every phase of the calls this process holds. With `everyWorker`, also
   * those of the calls the other workers hold (sip.workers > 1): what shows
   * state (busy lamps, the console's live view) wants them; what acts on a
   * call or records it (the crash journal, traces, metrics) must not.
   */
  onCall(fn: (e: CallEvent) => void, o: { everyWorker?: boolean } = {}): () => void {
    const set = o.everyWorker ? this.everyCallListeners : this.callListeners;
    set.add(fn);
    return () => set.delete(fn);
  }

  onRegistration(fn: (e: RegistrationEvent) => void): () => void {
    this.regListeners.add(fn);
    return () => this.regListeners.delete(fn);
  }

  /** called when an extension's derived state changes */
  onDeviceState(fn: (extension: string, state: DeviceState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** a call moved to a phase; later phases may add toExtension, channel... */
  emitCall(e: CallEvent): void {
    this.apply(e, -1);
  }

  /**
   * A phase of a call another worker holds (its emitCall, shared through the
   * primary): device states, busy lamps and the live view count it too.
   */
  emitRemote(e: CallEvent, worker: number): void {
    const prev = this.calls.get(e.callId);
    // an id this worker holds is never taken over by another's
    if (prev && prev.worker !== worker) return;
    this.apply(e, worker);
  }

  /** a worker ended (it died): the calls it held are over */
  dropWorker(worker: number): void {
    const at = Date.now();
    for (const c of [...this.calls.values()]) if (c.worker === worker) this.apply({ ...c.ev, phase: 'end', cause: 'worker-gone', at }, worker);
  }

  /** the calls this worker holds, each as one event of its latest state (for a worker that starts later) */
  ownCalls(): CallEvent[] {
    const out: CallEvent[] = [];
    for (const c of this.calls.values()) {
      if (c.worker >= 0) continue;
      // 'answered' with a callee means the callee answered; a callee still ringing in a call Palisade answered (an IVR's Dial()) rings
      const phase = c.calleeAnswered || (c.answered && !c.ev.toExtension) ? 'answered' : c.ev.phase === 'answered' ? 'ringing' : c.ev.phase;
      out.push({ ...c.ev, phase });
    }
    return out;
  }

  private apply(e: CallEvent, worker: number): void {
    const prev = this.calls.get(e.callId);
    const merged = prev ? merge(prev.ev, e) : e;
    let now: ActiveCall | undefined;
    if (e.phase === 'end') this.calls.delete(e.callId);
    else {
      const sameCallee = prev !== undefined && prev.ev.toExtension === merged.toExtension;
      now = {
        ev: merged,
        worker,
        answered: (prev?.answered ?? false) || e.phase === 'answered',
        calleeAnswered: (sameCallee && prev.calleeAnswered) || (e.phase === 'answered' && !!merged.toExtension),
      };
      this.calls.set(e.callId, now);
    }
    // the per-extension counters move only when who calls whom, or the callee's answer, changed
    const same =
      prev !== undefined &&
      now !== undefined &&
      prev.ev.fromExtension === now.ev.fromExtension &&
      prev.ev.toExtension === now.ev.toExtension &&
      prev.calleeAnswered === now.calleeAnswered;
    if (!same) {
      if (prev) this.count(prev, -1);
      if (now) this.count(now, 1);
    }
    if (worker < 0) for (const fn of this.callListeners) tell(fn, merged);
    for (const fn of this.everyCallListeners) tell(fn, merged);
    if (this.stateListeners.size === 0) return;
    // publishState does nothing when an extension's state is unchanged, so a name twice costs a look-up
    const p = prev?.ev;
    const n = now?.ev ?? merged;
    if (p?.fromExtension) this.publishState(p.fromExtension);
    if (p?.toExtension) this.publishState(p.toExtension);
    if (n.fromExtension && n.fromExtension !== p?.fromExtension) this.publishState(n.fromExtension);
    if (n.toExtension && n.toExtension !== p?.toExtension) this.publishState(n.toExtension);
  }

  emitRegistration(e: RegistrationEvent): void {
    if (e.contacts > 0) this.contacts.set(e.extension, e.contacts);
    else this.contacts.delete(e.extension);
    for (const fn of this.regListeners) safe(() => fn(e));
    if (this.stateListeners.size > 0) this.publishState(e.extension);
  }

  /** Asterisk's device state of an extension, from its calls and registrations */
  deviceState(extension: string): DeviceState {
    if ((this.placing.get(extension) ?? 0) > 0 || (this.answeredAt.get(extension) ?? 0) > 0) return 'inuse';
    if ((this.ringingAt.get(extension) ?? 0) > 0) return 'ringing';
    return (this.contacts.get(extension) ?? 0) > 0 ? 'idle' : 'unavailable';
  }

  /**
   * The calls other workers hold whose callee rings (not answered), oldest
   * first, each with its worker and the extensions whose phones ring: where
   * a pickup code's INVITE is steered when no such call rings here.
   */
  remoteRinging(): Array<{ event: CallEvent; worker: number; rung: string[] }> {
    const out: Array<{ event: CallEvent; worker: number; rung: string[] }> = [];
    for (const c of this.calls.values()) {
      if (c.worker < 0 || c.calleeAnswered) continue;
      const rung = c.ev.early?.length ? c.ev.early.map((d) => d.extension) : c.ev.phase === 'ringing' && c.ev.toExtension ? [c.ev.toExtension] : [];
      if (rung.length > 0) out.push({ event: c.ev, worker: c.worker, rung });
    }
    return out;
  }

  /** the calls in progress, oldest first */
  activeCalls(): CallEvent[] {
    return [...this.calls.values()].map((c) => ({ ...c.ev, phase: c.answered ? 'answered' : c.ev.phase }));
  }

  /** how many contacts an extension holds (any technology) */
  contactCount(extension: string): number {
    return this.contacts.get(extension) ?? 0;
  }

  private count(c: ActiveCall, by: 1 | -1): void {
    const from = c.ev.fromExtension;
    if (from) bump(this.placing, from, by);
    const to = c.ev.toExtension;
    if (to && to !== from) bump(c.calleeAnswered ? this.answeredAt : this.ringingAt, to, by);
  }

  private publishState(extension: string): void {
    const s = this.deviceState(extension);
    if (this.lastState.get(extension) === s) return;
    this.lastState.set(extension, s);
    for (const fn of this.stateListeners) safe(() => fn(extension, s));
  }
}

function bump(m: Map<string, number>, k: string, by: number): void {
  const n = (m.get(k) ?? 0) + by;
  if (n > 0) m.set(k, n);
  else m.delete(k);
}

/** the earlier phase's fields, overridden by those the new event sets */
function merge(a: CallEvent, b: CallEvent): CallEvent {
  return {
    phase: b.phase,
    callId: b.callId,
    sipCallId: b.sipCallId ?? a.sipCallId,
    from: b.from || a.from,
    to: b.to || a.to,
    fromExtension: b.fromExtension ?? a.fromExtension,
    toExtension: b.toExtension ?? a.toExtension,
    channel: b.channel ?? a.channel,
    legs: b.legs ?? a.legs,
    early: b.early ?? a.early,
    via: b.via || a.via,
    at: b.at,
    cause: b.cause ?? a.cause,
  };
}

/** a call listener's fault never reaches the call */
function tell(fn: (e: CallEvent) => void, e: CallEvent): void {
  try {
    fn(e);
  } catch {
    // listeners log their own faults
  }
}

/** a listener's fault never breaks the call path */
function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // listeners log their own faults; the call goes on
  }
}
