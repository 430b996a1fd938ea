// The numbers of IAX2 (RFC 5456; the IANA registries of RFC 5457): frame
// types, subclasses, information elements, media formats, causes. Names
// follow the RFC's (NEW, AUTHREQ, CALLED_NUMBER...) so a reader can find
// each one in the RFC text and in tshark's dissector.

/** RFC 5456 §8.2: the frame types of a full frame */
export const FrameType = {
  DTMF_END: 0x01,
  VOICE: 0x02,
  VIDEO: 0x03,
  CONTROL: 0x04,
  NULL: 0x05,
  IAX: 0x06,
  TEXT: 0x07,
  IMAGE: 0x08,
  HTML: 0x09,
  CNG: 0x0a,
  MODEM: 0x0b,
  DTMF_BEGIN: 0x0c,
} as const;

/** RFC 5456 §6.7 / §8.4: IAX frame subclasses (the protocol's own messages) */
export const IaxCmd = {
  NEW: 1,
  PING: 2,
  PONG: 3,
  ACK: 4,
  HANGUP: 5,
  REJECT: 6,
  ACCEPT: 7,
  AUTHREQ: 8,
  AUTHREP: 9,
  INVAL: 10,
  LAGRQ: 11,
  LAGRP: 12,
  REGREQ: 13,
  REGAUTH: 14,
  REGACK: 15,
  REGREJ: 16,
  REGREL: 17,
  VNAK: 18,
  DPREQ: 19,
  DPREP: 20,
  DIAL: 21,
  TXREQ: 22,
  TXCNT: 23,
  TXACC: 24,
  TXREADY: 25,
  TXREL: 26,
  TXREJ: 27,
  QUELCH: 28,
  UNQUELCH: 29,
  POKE: 30,
  MWI: 32,
  UNSUPPORT: 33,
  TRANSFER: 34,
  /** Asterisk's call-token handshake (not in RFC 5456; chan_iax2 since 1.6.x) */
  CALLTOKEN: 40,
} as const;

export const IAX_CMD_NAMES: Record<number, string> = Object.fromEntries(Object.entries(IaxCmd).map(([k, v]) => [v, k]));

/** RFC 5456 §8.3: control frame subclasses */
export const ControlCmd = {
  HANGUP: 1,
  RINGING: 3,
  ANSWER: 4,
  BUSY: 5,
  CONGESTION: 8,
  FLASH: 9,
  OPTION: 11,
  KEY: 12,
  UNKEY: 13,
  PROGRESS: 14,
  PROCEEDING: 15,
  HOLD: 16,
  UNHOLD: 17,
  /** Asterisk's "stop indications" (AST_CONTROL_SRCUPDATE / -1 as 0xFF): acknowledged and ignored */
  STOP_SOUNDS: 0xff,
} as const;

/** RFC 5456 §8.6: information elements */
export const Ie = {
  CALLED_NUMBER: 1,
  CALLING_NUMBER: 2,
  CALLING_ANI: 3,
  CALLING_NAME: 4,
  CALLED_CONTEXT: 5,
  USERNAME: 6,
  PASSWORD: 7,
  CAPABILITY: 8,
  FORMAT: 9,
  LANGUAGE: 10,
  VERSION: 11,
  ADSICPE: 12,
  DNID: 13,
  AUTHMETHODS: 14,
  CHALLENGE: 15,
  MD5_RESULT: 16,
  RSA_RESULT: 17,
  APPARENT_ADDR: 18,
  REFRESH: 19,
  DPSTATUS: 20,
  CALLNO: 21,
  CAUSE: 22,
  IAX_UNKNOWN: 23,
  MSGCOUNT: 24,
  AUTOANSWER: 25,
  MUSICONHOLD: 26,
  TRANSFERID: 27,
  RDNIS: 28,
  DATETIME: 31,
  CALLINGPRES: 38,
  CALLINGTON: 39,
  CALLINGTNS: 40,
  SAMPLINGRATE: 41,
  CAUSECODE: 42,
  ENCRYPTION: 43,
  ENCKEY: 44,
  CODEC_PREFS: 45,
  RR_JITTER: 46,
  RR_LOSS: 47,
  RR_PKTS: 48,
  RR_DELAY: 49,
  RR_DROPPED: 50,
  RR_OOO: 51,
  VARIABLE: 52,
  OSPTOKEN: 53,
  /** Asterisk's call token (see IaxCmd.CALLTOKEN) */
  CALLTOKEN: 54,
  /** 64-bit capability and format (Asterisk 1.8+) */
  CAPABILITY2: 55,
  FORMAT2: 56,
} as const;

/** RFC 5456 §8.7: media formats (a bit each; the voice subclass names one) */
export const Format = {
  G723_1: 0x1,
  GSM: 0x2,
  ULAW: 0x4,
  ALAW: 0x8,
  G726: 0x10,
  ADPCM: 0x20,
  SLINEAR: 0x40,
  LPC10: 0x80,
  G729: 0x100,
  SPEEX: 0x200,
  ILBC: 0x400,
} as const;

/** RFC 5456 §8.6.13: authentication methods */
export const AuthMethod = { PLAINTEXT: 1, MD5: 2, RSA: 4 } as const;

/** RFC 5456 §8.6.21 (Q.931 cause codes, the ones Palisade uses) */
export const Cause = {
  UNALLOCATED: 1,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  INVALID_NUMBER_FORMAT: 28,
  NORMAL_UNSPECIFIED: 31,
  CONGESTION: 34,
  FACILITY_REJECTED: 29,
  BEARERCAPABILITY_NOTAVAIL: 58,
  INCOMPATIBLE_DESTINATION: 88,
} as const;

/** the protocol version carried in NEW (RFC 5456 §8.6.10) */
export const IAX_PROTO_VERSION = 2;
/** RFC 5456 §4: the IANA port */
export const IAX_DEFAULT_PORT = 4569;
/** RFC 5456 §8.1.2: meta command of a trunk frame */
export const META_TRUNK = 1;
