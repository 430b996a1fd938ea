// Descriptions as real endpoints send them, shared by the SDP tests.
// Lines are joined with CRLF as on the wire.
const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

/** baresip offer (as sent by baresip 1.x/3.x with g711 and telephone-event). */
export const BARESIP_OFFER = crlf([
  'v=0',
  'o=- 1863914291 3405207434 IN IP4 192.168.1.23',
  's=-',
  'c=IN IP4 192.168.1.23',
  't=0 0',
  'a=tool:baresip 1.0.0',
  'm=audio 10918 RTP/AVP 0 8 101',
  'b=AS:80',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=rtcp-rsize',
  'a=ssrc:1434960183 cname:7c2a3d4f-2b1e-4c55-9a0f-1f2e3d4c5b6a',
  'a=ptime:20',
]);

/** SIPp's built-in uac scenario body, as SIPp fills it in. */
export const SIPP_OFFER = crlf(['v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);

/** IPv6 offer from a WebRTC-ish endpoint: ICE, rtcp with address, SDES crypto, rtcp-mux. */
export const IPV6_ICE_OFFER = crlf([
  'v=0',
  'o=alice 2890844526 2890844527 IN IP6 2001:db8::10',
  's=call',
  'c=IN IP6 2001:db8::10',
  't=0 0',
  'a=ice-ufrag:8hhY',
  'a=ice-pwd:asd88fgpdd777uzjYhagZg',
  'm=audio 49170 RTP/SAVP 111 0 101',
  'a=rtcp:49171 IN IP6 2001:db8::10',
  'a=candidate:1 1 UDP 2130706431 2001:db8::10 49170 typ host',
  'a=candidate:1 2 UDP 2130706430 2001:db8::10 49171 typ host',
  'a=end-of-candidates',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=rtcp-mux',
  'a=sendrecv',
]);

/** Re-INVITE putting the call on hold the RFC 3264 way (Polycom/Yealink style). */
export const HOLD_SENDONLY = crlf([
  'v=0',
  'o=- 1863914291 3405207435 IN IP4 192.168.1.23',
  's=-',
  'c=IN IP4 192.168.1.23',
  't=0 0',
  'm=audio 10918 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendonly',
]);

/** Hold the RFC 2543 way, still sent by some phones: c=0.0.0.0. */
export const HOLD_ZERO_ADDRESS = crlf(['v=0', 'o=user1 53655765 2353687638 IN IP4 10.0.0.5', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);

/** Audio + video + a rejected second audio stream, media-level c= lines, unknown line types. */
export const MULTI_STREAM = crlf([
  'v=0',
  'o=bob 2808844564 2808844564 IN IP4 198.51.100.7',
  's=conference',
  'i=a session with an information line',
  'b=CT:1000',
  't=0 0',
  'y=0123456789',
  'a=group:BUNDLE',
  'm=audio 40000 RTP/AVP 8 101',
  'c=IN IP4 198.51.100.7',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=rtcp:40001',
  'a=ptime:20',
  'm=video 40002 RTP/AVP 96',
  'c=IN IP4 198.51.100.8',
  'b=AS:512',
  'a=rtpmap:96 VP8/90000',
  'a=recvonly',
  'm=audio 0 RTP/AVP 0',
  'c=IN IP4 198.51.100.7',
  'a=rtpmap:0 PCMU/8000',
]);
