// The RTP relay the B2BUA puts between call legs.
export { PortAllocator, PortExhaustedError } from './port-allocator.js';
export { RtpRelay } from './rtp-relay.js';
export type { RtpRelayOptions, RtpRelayStats } from './rtp-relay.js';
export { RelaySession, RelayLeg, RtpRelayError } from './relay-session.js';
export type { LegName, LegStats, RemoteTarget } from './relay-session.js';
export type { FlowCounters, MediaFlow, RtpTap } from './media-flow.js';
