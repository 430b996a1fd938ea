// Which digest-uri a request's credentials may carry: the one rule for
// every method the PBX authenticates (REGISTER, INVITE, SUBSCRIBE, MESSAGE,
// OPTIONS...), applied by DigestAuthenticator.verify().
//
// RFC 2617 §3.2.2.5: "The authenticating server must assure that the
// resource designated by the "uri" directive is the same as the resource
// specified in the Request-Line; if they are not, the server SHOULD return
// a 400 Bad Request error."
// RFC 3261 §22.4 item 6 relaxes that for SIP: "a server MAY check that the
// Request-URI in the Authorization header field value corresponds to a user
// for whom the server is willing to accept forwarded or direct requests,
// but it is not necessarily a failure if the two fields are not
// equivalent."
//
// So a digest-uri is accepted when
//   1. it equals the Request-URI (URI equality, RFC 3261 §19.1.4), or
//   2. it names this server itself — sip: or sips:, no user part, a host
//      that is one of our names (the SIP domain, a listening address), and
//      no port or a port we listen on; its parameters (;transport=tcp...)
//      do not matter. SIPp's [authentication] always sends this form
//      ("sip:SERVER_IP:PORT", whatever the Request-URI), and several phones
//      put the registrar's address there; or
//   3. it names the same user as the Request-URI, both at this server
//      under any of its names ("sip:1002@10.0.0.5" for
//      "INVITE sip:1002@pbx.example.org").
// Anything else — another host, our host with a port we do not listen on
// (a different server on the same machine), another user of ours (which
// would let a captured answer be replayed against a different target) —
// is refused, and the caller answers 400 as RFC 2617 says.
//
// Accepting the server's own name binds the response to nothing narrower
// than "this server", which is what the client asked for; the nonce and its
// nonce-count still make each response single-use.
import { parseUri, uriEquals } from '../../sip-message/uri.js';
import type { SipUri } from '../../sip-message/types.js';

/** how this server may be named in a URI */
export interface ServerNames {
  /** host names and addresses (the SIP domain, every listening address), any case */
  hosts: Iterable<string>;
  /** every port we listen on, any transport */
  ports: Iterable<number>;
}

export class DigestUriRule {
  private readonly hosts: Set<string>;
  private readonly ports: Set<number>;

  constructor(server?: ServerNames) {
    this.hosts = new Set([...(server?.hosts ?? [])].map((h) => h.toLowerCase()));
    this.ports = new Set(server?.ports ?? []);
  }

  /** whether credentials for `digestUri` may authenticate a request for `requestUri` */
  accepts(digestUri: string, requestUri: string): boolean {
    if (digestUri === requestUri) return true;
    let d: SipUri;
    let r: SipUri;
    try {
      d = parseUri(digestUri);
      r = parseUri(requestUri);
    } catch {
      return false;
    }
    if (uriEquals(d, r)) return true;
    if (!this.namesUs(d)) return false;
    if (d.user === undefined) return true;
    return d.user === r.user && this.namesUs(r);
  }

  /** a sip:/sips: URI whose host (and maddr, and port when given) is ours */
  private namesUs(u: SipUri): boolean {
    if ((u.scheme !== 'sip' && u.scheme !== 'sips') || u.opaque) return false;
    if (!this.hosts.has(u.host)) return false;
    if (u.port !== undefined && !this.ports.has(u.port)) return false;
    const maddr = u.params.maddr;
    return maddr === undefined || (maddr !== null && this.hosts.has(maddr.toLowerCase()));
  }
}
