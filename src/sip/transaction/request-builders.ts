// The two requests the transaction layer builds itself: the ACK for a
// non-2xx final response and the CANCEL of an INVITE. Header values are copied as text; nothing is re-parsed
// beyond the CSeq number.
import { SipMessage } from '../../sip-message/sip-message.js';

/**
 * ACK for a 300-699 response (RFC 3261 §17.1.1.3): "The ACK request
 * constructed by the client transaction MUST contain values for the Call-ID,
 * From, and Request-URI that are equal to the values of those header fields
 * in the request passed to the transport by the client transaction ... The To
 * header field in the ACK MUST equal the To header field in the response
 * being acknowledged ... The ACK MUST contain a single Via header field, and
 * this MUST be equal to the top Via header field of the original request. The
 * CSeq header field in the ACK MUST contain the same value for the sequence
 * number as was present in the original request, but the method parameter
 * MUST be equal to "ACK"." "If the INVITE request whose response is being
 * acknowledged had Route header fields, those header fields MUST appear in
 * the ACK."
 */
export function buildNon2xxAck(request: SipMessage, response: SipMessage): SipMessage {
  return sameHopRequest(request, 'ACK', response.get('to') ?? request.get('to') ?? '');
}

/**
 * CANCEL (RFC 3261 §9.1): "The Request-URI, Call-ID, To, the numeric part of
 * CSeq, and From header fields in the CANCEL request MUST be identical to
 * those in the request being cancelled, including tags. A CANCEL constructed
 * by a client MUST have only a single Via header field value matching the top
 * Via value in the request being cancelled." "If the request being cancelled
 * contains a Route header field, the CANCEL request MUST include that Route
 * header field's values." "The CANCEL request MUST NOT contain any Require or
 * Proxy-Require header fields." (none are copied)
 */
export function buildCancel(request: SipMessage): SipMessage {
  return sameHopRequest(request, 'CANCEL', request.get('to') ?? '');
}

function sameHopRequest(request: SipMessage, method: string, to: string): SipMessage {
  const m = new SipMessage();
  m.method = method;
  m.uri = request.uri;
  const h = m.headers;
  h.push({ name: 'via', value: request.getAll('via')[0] ?? '' });
  // every request carries Max-Forwards (§8.1.1.6)
  h.push({ name: 'max-forwards', value: '70' });
  h.push({ name: 'from', value: request.get('from') ?? '' });
  h.push({ name: 'to', value: to });
  h.push({ name: 'call-id', value: request.get('call-id') ?? '' });
  h.push({ name: 'cseq', value: `${request.cseq.seq} ${method}` });
  for (const r of request.headers) if (r.name === 'route') h.push({ name: 'route', value: r.value });
  return m;
}
