// What call routing needs to know about extensions and where they are
// registered. Ports in core/ (docs/architecture.md, Layers): the B2BUA and
// the channels look extensions and bindings up through them; main.ts wires
// them to the configuration, storage and the registrar's location service.
import type { Remote } from './peer.js';

export interface ExtensionInfo {
  number: string;
  name: string;
  context: string;
  directMedia: boolean;
  /** 'required': TLS signalling and SRTP media only (encryption-policy.ts); absent = optional */
  encryption?: 'optional' | 'required';
}

export interface BindingInfo {
  contactUri: string;
  remote: Remote;
  /** the registration's Path (RFC 3327): Route headers on the requests that start a dialog with it */
  path?: readonly string[];
}

/** the extensions Palisade serves, by number */
export interface ExtensionDirectory {
  get(number: string): ExtensionInfo | undefined;
}

/** the contacts registered for an address of record (sip/ua/location.ts) */
export interface LocationLookup {
  lookup(aor: string): BindingInfo[];
}
