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
  /** 'b2bua' (direct call), 'channel' (the dialplan), or a module's name */
  via: string;
  /** epoch ms */
  at: number;
  /** why it ended (phase 'end') */
  cause?: string;
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
  /** the call was answered (by the callee or by Palisade itself) */
  answered: boolean;
  /** the current toExtension answered (it is in use, not ringing) */
  calleeAnswered: boolean;
}

export class CallEventHub {
  private readonly calls = new Map<string, ActiveCall>();
  private readonly contacts = new Map<string, number>();
  private readonly callListeners = new Set<(e: CallEvent) => void>();
  private readonly regListeners = new Set<(e: RegistrationEvent) => void>();
  private readonly stateListeners = new Set<(extension: string, state: DeviceState) => void>();
  private readonly lastState = new Map<string, DeviceState>();

  onCall(fn: (e: CallEvent) => void): () => void {
    this.callListeners.add(fn);
    return () => this.callListeners.delete(fn);
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
    const prev = this.calls.get(e.callId);
    const touched = new Set<string>();
    if (prev) {
      for (const x of [prev.ev.fromExtension, prev.ev.toExtension]) if (x) touched.add(x);
    }
    let merged: CallEvent = e;
    if (e.phase === 'end') {
      if (prev) merged = { ...prev.ev, ...defined(e) };
      this.calls.delete(e.callId);
    } else {
      merged = prev ? { ...prev.ev, ...defined(e) } : e;
      const sameCallee = prev !== undefined && prev.ev.toExtension === merged.toExtension;
      this.calls.set(e.callId, {
        ev: merged,
        answered: (prev?.answered ?? false) || e.phase === 'answered',
        calleeAnswered: (sameCallee && prev.calleeAnswered) || (e.phase === 'answered' && !!merged.toExtension),
      });
    }
    for (const x of [merged.fromExtension, merged.toExtension]) if (x) touched.add(x);
    for (const fn of this.callListeners) safe(() => fn(merged));
    for (const x of touched) this.publishState(x);
  }

  emitRegistration(e: RegistrationEvent): void {
    if (e.contacts > 0) this.contacts.set(e.extension, e.contacts);
    else this.contacts.delete(e.extension);
    for (const fn of this.regListeners) safe(() => fn(e));
    this.publishState(e.extension);
  }

  /** Asterisk's device state of an extension, from its calls and registrations */
  deviceState(extension: string): DeviceState {
    let ringing = false;
    for (const c of this.calls.values()) {
      if (c.ev.fromExtension === extension) return 'inuse';
      if (c.ev.toExtension === extension) {
        if (c.calleeAnswered) return 'inuse';
        ringing = true;
      }
    }
    if (ringing) return 'ringing';
    return (this.contacts.get(extension) ?? 0) > 0 ? 'idle' : 'unavailable';
  }

  /** the calls in progress, oldest first */
  activeCalls(): CallEvent[] {
    return [...this.calls.values()].map((c) => ({ ...c.ev, phase: c.answered ? 'answered' : c.ev.phase }));
  }

  /** how many contacts an extension holds (any technology) */
  contactCount(extension: string): number {
    return this.contacts.get(extension) ?? 0;
  }

  private publishState(extension: string): void {
    const s = this.deviceState(extension);
    if (this.lastState.get(extension) === s) return;
    this.lastState.set(extension, s);
    for (const fn of this.stateListeners) safe(() => fn(extension, s));
  }
}

function defined(e: CallEvent): Partial<CallEvent> {
  const out: Partial<CallEvent> = {};
  for (const [k, v] of Object.entries(e)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** a listener's fault never breaks the call path */
function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // listeners log their own faults; the call goes on
  }
}
