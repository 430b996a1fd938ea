// A principal is whoever a call is charged to and limited as: an extension
// today, a trunk once trunks exist, a campaign's automatic dialer (a feature to come, docs/architecture.md). Both carry the same policy
// object, so the call gate never cares which kind it is looking at.
import { OPEN_ACL, type Acl } from '../acl/acl.js';
import type { CallClass } from './number-plan.js';

export type PrincipalKind = 'extension' | 'trunk' | 'campaign';

export interface PrincipalPolicy {
  /** 'ext:1001', 'trunk:provider-a' */
  id: string;
  kind: PrincipalKind;
  /** where this principal may register from (extensions) */
  registerFrom: Acl;
  /** where this principal's calls may come from */
  callFrom: Acl;
  /** destination classes it may call; internal and emergency are always added */
  permissions: ReadonlySet<CallClass>;
  /** concurrent calls it takes part in (placing or receiving); 0 = unlimited */
  maxCalls: number;
  /** call attempts passing the gate per sliding minute; 0 = unlimited */
  callsPerMinute: number;
  /** active outbound calls at once (docs/configuration.md, `extensions`: one unless allowed more) */
  maxOutboundCalls: number;
  /** currency units per day; 0 = no paid (rated) calls at all */
  dailySpendLimit: number;
}

export const DEFAULT_PERMISSIONS: readonly CallClass[] = ['internal', 'emergency', 'local', 'national', 'mobile'];

export interface PolicyLimits {
  permissions: readonly CallClass[];
  maxCalls: number;
  callsPerMinute: number;
  maxOutboundCalls: number;
  dailySpendLimit: number;
}

export const DEFAULT_LIMITS: PolicyLimits = {
  permissions: DEFAULT_PERMISSIONS,
  maxCalls: 4,
  callsPerMinute: 10,
  maxOutboundCalls: 1,
  dailySpendLimit: 10,
};

const ID_PREFIX: Record<PrincipalKind, string> = { extension: 'ext', trunk: 'trunk', campaign: 'campaign' };

/** a principal's id: 'ext:1001', 'trunk:provider-a', 'campaign:spring' */
export function principalId(kind: PrincipalKind, name: string): string {
  return `${ID_PREFIX[kind]}:${name}`;
}

/** the kind and name a principal id was made of (principalId); undefined for any other ('anonymous') */
export function principalOf(id: string): { kind: PrincipalKind; name: string } | undefined {
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = id.slice(0, colon);
  const kind = (Object.keys(ID_PREFIX) as PrincipalKind[]).find((k) => ID_PREFIX[k] === prefix);
  return kind ? { kind, name: id.slice(colon + 1) } : undefined;
}

export function makePolicy(kind: PrincipalKind, name: string, o: Partial<PolicyLimits> & { registerFrom?: Acl; callFrom?: Acl } = {}): PrincipalPolicy {
  const permissions = new Set<CallClass>(o.permissions ?? DEFAULT_LIMITS.permissions);
  permissions.add('internal');
  permissions.add('emergency'); // never removable
  return {
    id: principalId(kind, name),
    kind,
    registerFrom: o.registerFrom ?? OPEN_ACL,
    callFrom: o.callFrom ?? OPEN_ACL,
    permissions,
    maxCalls: o.maxCalls ?? DEFAULT_LIMITS.maxCalls,
    callsPerMinute: o.callsPerMinute ?? DEFAULT_LIMITS.callsPerMinute,
    maxOutboundCalls: o.maxOutboundCalls ?? DEFAULT_LIMITS.maxOutboundCalls,
    dailySpendLimit: o.dailySpendLimit ?? DEFAULT_LIMITS.dailySpendLimit,
  };
}
