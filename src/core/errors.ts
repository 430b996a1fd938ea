// One base for Palisade's errors, each with a stable code (PAL_ERR_...) in
// the manner of fastify's FST_ERR_... catalogue. Callers, logs and tests
// match on the code, never on the message, so a message can be improved
// without breaking anyone. A new error adds its code here, with one line
// saying when it is thrown.

/** every code, with when it is thrown */
export const ERROR_CODES = {
  PAL_ERR_CONFIG: 'the configuration (YAML, extensions.conf, voicemail.conf) has problems; each names file:line:col',
  PAL_ERR_CIDR: 'an address or CIDR in a list (ACL, IDS trusted list) is malformed',
  PAL_ERR_USAGE: 'a `palisade` command line is malformed (unknown option, missing value, stray argument)',
  PAL_ERR_CONTROL: 'the control socket cannot be reached, does not answer, or the server refused the request',
  PAL_ERR_SIP_PARSE: 'a SIP message or header is malformed',
  PAL_ERR_SDP_PARSE: 'an SDP body is malformed (with its line)',
  PAL_ERR_SDP_REWRITE: 'an SDP body cannot be rewritten for the media relay',
  PAL_ERR_MEDIA_NEGOTIATION: 'an offer has no audio stream with a codec Palisade speaks',
  PAL_ERR_SRTP_OFFER: 'an RTP/SAVP offer carries no usable a=crypto key',
  PAL_ERR_GSM_FRAME: 'a GSM 06.10 frame is malformed',
  PAL_ERR_WAV_FORMAT: 'a WAV file is not 8 kHz mono PCM, µ-law or A-law',
  PAL_ERR_PROMPT_NOT_FOUND: 'a prompt is in neither the custom nor the generated prompt directory',
  PAL_ERR_RTP_PORTS_EXHAUSTED: 'the RTP port range is used up',
  PAL_ERR_RTP_BIND: 'an RTP or RTCP socket cannot be bound',
  PAL_ERR_RTP_REMOTE: 'a relay leg is given a remote address it cannot use',
  PAL_ERR_RTP_CLOSED: 'a relay session is used after it was closed',
  PAL_ERR_DIALPLAN_EXPRESSION: 'a dialplan $[...] expression is malformed',
  PAL_ERR_STORAGE: 'the database cannot be opened, reached or migrated',
} as const;

export type PalErrorCode = keyof typeof ERROR_CODES;

export class PalisadeError extends Error {
  readonly code: PalErrorCode;

  constructor(code: PalErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
