// An access control list: a permit list and a deny list of CIDR prefixes.
//
// Semantics — deny wins, then permit, then the default:
//   1. an address in `deny` is refused, even when `permit` also names it;
//   2. otherwise an address in `permit` is allowed;
//   3. otherwise: refused when `permit` is non-empty (deny by default once a
//      permit list exists), allowed when only a deny list is given.
// So "this extension may only register from the office LAN" is
// `register_from: [192.168.10.0/24]`, and "never from this range" is a deny.
// Order inside a list does not matter, which keeps lists easy to audit.
import { CidrSet } from '../../core/cidr.js';

export interface AclSpec {
  permit: readonly string[];
  deny: readonly string[];
}

export class Acl {
  private readonly permit: CidrSet;
  private readonly deny: CidrSet;

  constructor(spec: AclSpec) {
    this.permit = CidrSet.parse(spec.permit);
    this.deny = CidrSet.parse(spec.deny);
  }

  /** a permit-only list (per-extension register_from / call_from) */
  static permitOnly(cidrs: readonly string[]): Acl {
    return new Acl({ permit: cidrs, deny: [] });
  }

  /** true when nothing is configured: every address passes */
  get open(): boolean {
    return this.permit.size === 0 && this.deny.size === 0;
  }

  allows(address: string): boolean {
    if (this.deny.size > 0 && this.deny.has(address)) return false;
    if (this.permit.size === 0) return true;
    return this.permit.has(address);
  }

  describe(): AclSpec {
    return { permit: this.permit.entries, deny: this.deny.entries };
  }
}

/** an ACL that lets everything through (nothing configured) */
export const OPEN_ACL = new Acl({ permit: [], deny: [] });
