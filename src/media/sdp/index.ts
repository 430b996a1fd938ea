// SDP for the B2BUA: parse, serialize, and rewrite for the relay.
export type { Sdp, SdpAttribute, SdpConnection, SdpDirection, SdpLine, SdpMedia, SdpOrigin } from './sdp-types.js';
export { parseSdp, SdpParseError } from './parse-sdp.js';
export { serializeSdp } from './serialize-sdp.js';
export { findAttribute, isHold, isUnspecifiedAddress, mediaAddress, mediaDirection, mediaTargets } from './sdp-query.js';
export type { MediaTarget } from './sdp-query.js';
export { rewriteForRelay, SdpRewriteError } from './rewrite-for-relay.js';
export type { RelayEndpoint, RewriteOptions } from './rewrite-for-relay.js';
export { LegOrigin } from './leg-origin.js';
