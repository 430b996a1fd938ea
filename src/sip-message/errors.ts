// The one exception type of the message layer: structured accessors and the
// grammar functions throw it for malformed input, and nothing else escapes
// parseMessage().
import { PalisadeError } from '../core/errors.js';

export class SipParseError extends PalisadeError {
  declare readonly code: 'PAL_ERR_SIP_PARSE';
  constructor(
    message: string,
    /** header (lower-case long name) that was malformed, when known */
    readonly header?: string,
  ) {
    super('PAL_ERR_SIP_PARSE', message);
    this.name = 'SipParseError';
  }
}
