// The one exception type of the message layer: structured accessors and the
// grammar functions throw it for malformed input, and nothing else escapes
// parseMessage().
export class SipParseError extends Error {
  constructor(
    message: string,
    /** header (lower-case long name) that was malformed, when known */
    readonly header?: string,
  ) {
    super(message);
    this.name = 'SipParseError';
  }
}
