// SRTP (RFC 3711) with SDES keying (RFC 4568) for the RTP relay.
export { SrtpContext, SUPPORTED_SUITES, rtpHeaderLength } from './srtp-context.js';
export type { SrtpSuite, SrtpCounters } from './srtp-context.js';
export { deriveKey, deriveSessionKeys, KeyLabel } from './srtp-keys.js';
export { parseCrypto, chooseCrypto, formatCrypto, newKeySalt, isSupportedSuite } from './sdes.js';
export type { CryptoAttribute } from './sdes.js';
export { SrtpLegs, SrtpError, isSecureProfile } from './srtp-legs.js';
