// PINs checked during a call — VoiceMailMain's login, the dialplan's
// Authenticate(), a dialplan's own check reported with ReportAuthFailure()
// (the attendance line's DBLookup) — are logins like a SIP digest: each
// outcome goes to the same defences, through main.ts's one sink. There it
// becomes a security event with the caller's signalling address (the
// security log line in Asterisk's format, the IDS's failure count and ban)
// and, for a failure, reputation evidence against that address and the
// calling extension (security-guard.ts). The PIN itself is never part of it.
// A port in core/ (docs/architecture.md, Layers): the dialplan and features
// report PIN outcomes without importing the security layer above them.
import type { TransportKind } from './peer.js';

export interface PinOutcome {
  ok: boolean;
  /** what asked for the PIN, the security log's Service: 'VoiceMail', 'Authenticate', or the dialplan's own name */
  service: string;
  /** the account the PIN was for (mailbox, student ID, or the caller's own extension); never the PIN */
  account: string;
  /** a failure for an account that does not exist (InvalidAccountID rather than InvalidPassword) */
  unknownAccount?: boolean;
  /** the call it happened in: a Channel (channel/channel.ts) fits */
  call: {
    readonly id: string;
    readonly name: string;
    readonly peer: { readonly transport: TransportKind; readonly address: string; readonly port: number; readonly account?: string };
  };
  /** short free text for the log, e.g. "attempt 2 of 3" */
  detail?: string;
}

/** where PIN outcomes go (main.ts: the IDS, the security log and reputation) */
export type PinOutcomeSink = (o: PinOutcome) => void;
