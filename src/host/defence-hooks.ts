// The four points where defences plug in (docs/architecture.md, Layers):
// the packet gate, the request gate (pipeline stages, see
// src/sip/pipeline/request-pipeline.ts), authentication outcomes and the
// call gate; plus the outcomes and events they feed on. The SIP stack is
// built against these points; a module (security) registers what answers
// them when it starts, before the transport listens. Without one, every
// packet, request, registration and call is let through.
import type { PacketGate } from '../transport/transport-layer.js';
import type { ListenPoint, Remote, TransportKind } from '../transport/types.js';
import type { AuthOutcome } from '../core/auth.js';
import type { PinOutcome, PinOutcomeSink } from '../core/pin-outcome.js';
import type { SecurityEvent, SecurityEventSink } from '../core/security-event.js';
import type { CallAttempt, CallGateApi, GateDecision, TrunkPolicySettings } from '../core/call-gate.js';
import { DefenceSyncHub } from '../core/defence-sync.js';

type MalformedSink = (remote: Remote, local: ListenPoint, error: string, method: string | undefined) => void;

export class DefenceHooks {
  private readonly packetGates: PacketGate[] = [];
  private readonly authSinks: Array<(o: AuthOutcome) => void> = [];
  private readonly pinSinks: PinOutcomeSink[] = [];
  private readonly eventSinks: SecurityEventSink[] = [];
  private readonly malformedSinks: MalformedSink[] = [];
  private readonly registerChecks: Array<(aor: string, remote: Remote) => boolean> = [];
  private callGates: CallGateApi[] = [];
  private trunkPolicies: ((name: string) => TrunkPolicySettings | undefined) | null = null;
  /**
   * defences shared between nodes: the security module publishes its own
   * changes and applies the others' here; a cluster module carries them
   */
  readonly sync = new DefenceSyncHub();

  // ---- what modules register
  addPacketGate(g: PacketGate): void {
    this.packetGates.push(g);
  }
  onAuthOutcome(sink: (o: AuthOutcome) => void): void {
    this.authSinks.push(sink);
  }
  onPinOutcome(sink: PinOutcomeSink): void {
    this.pinSinks.push(sink);
  }
  onSecurityEvent(sink: SecurityEventSink): void {
    this.eventSinks.push(sink);
  }
  onMalformed(sink: MalformedSink): void {
    this.malformedSinks.push(sink);
  }
  addRegisterCheck(check: (aor: string, remote: Remote) => boolean): void {
    this.registerChecks.push(check);
  }
  /** the call gate: one per server (fraud, limits, reputation) */
  setCallGate(g: CallGateApi): void {
    if (this.callGates.length > 0) throw new Error('a call gate is registered already');
    this.callGates = [g];
  }

  /** the trunks' call-gate settings (the module that owns trunks); one provider */
  setTrunkPolicies(fn: (name: string) => TrunkPolicySettings | undefined): void {
    if (this.trunkPolicies) throw new Error('trunk policies are provided already');
    this.trunkPolicies = fn;
  }

  // ---- what the SIP stack and the dialplan call
  readonly packetGate: PacketGate = {
    admit: (address: string, transport: TransportKind) => this.packetGates.every((g) => g.admit(address, transport)),
  };
  readonly authOutcome = (o: AuthOutcome): void => {
    for (const s of this.authSinks) s(o);
  };
  readonly pinOutcome = (o: PinOutcome): void => {
    for (const s of this.pinSinks) s(o);
  };
  readonly securityEvents: SecurityEventSink = {
    emit: (ev: SecurityEvent) => {
      for (const s of this.eventSinks) s.emit(ev);
    },
  };
  readonly malformed: MalformedSink = (remote, local, error, method) => {
    for (const s of this.malformedSinks) s(remote, local, error, method);
  };
  /** a trunk's call-gate settings; undefined for a trunk nobody declared */
  readonly trunkPolicy = (name: string): TrunkPolicySettings | undefined => this.trunkPolicies?.(name);
  readonly mayRegister = (aor: string, remote: Remote): boolean => this.registerChecks.every((c) => c(aor, remote));
  readonly callGate: CallGateApi = {
    check: (a: CallAttempt): GateDecision => this.callGates[0]?.check(a) ?? { ok: true, verdict: 'no-gate', ticket: { answered: () => {}, ended: () => {} } },
  };
}
