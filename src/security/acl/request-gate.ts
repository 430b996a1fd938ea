// The request gate (docs/architecture.md): after parsing, before the UAS core and
// before authentication. Each check is O(1) or a short integer scan:
//   1. the global ACL (security.acl) — every request (FailedACL);
//   2. the address's reputation under 5 — out-of-dialog requests
//      (ReputationReject); requests inside a dialog still reach their call,
//      and an address phones are registered from is left to the IDS;
//   3. an out-of-dialog INVITE from outside security.local_networks is
//      refused unless its From names an extension whose call_from permits
//      that address — a call claiming an internal user from outside is
//      counted against the address (docs/configuration.md, Security). Any other From gets the
//      very same 403, so the answer never tells whether an extension exists.
// INVITEs to an emergency number skip 2 and 3 (never blocked); the ACL, an
// administrator's explicit decision, still applies.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { SecurityEventSink, SecurityEventType } from '../../core/security-event.js';
import { EVENT_LEVELS } from '../ids/event-levels.js';
import type { Acl } from './acl.js';
import type { CidrSet } from '../../core/cidr.js';
import { ip, type ReputationService } from '../reputation/reputation-service.js';

export interface RequestGateDeps {
  acl: Acl;
  localNetworks: CidrSet;
  /** addresses never refused for their reputation (security.reputation.exempt: the host itself by default) */
  reputationExempt: CidrSet;
  /**
   * whether a phone is registered from this address right now: such an
   * address (an office NAT shared with working phones) is not refused for
   * its reputation — the IDS's registered-address threshold deals with it
   */
  isRegisteredAddress?: (address: string) => boolean;
  reputation: ReputationService;
  isEmergency(dialled: string): boolean;
  isExtension(number: string): boolean;
  /** whether the extension's call_from explicitly permits this address (false when it has none) */
  callFromPermits(number: string, address: string): boolean;
  sink: SecurityEventSink;
}

export type GateRefusal = { status: 403; reason: 'Forbidden'; rule: string };

const REFUSED = (rule: string): GateRefusal => ({ status: 403, reason: 'Forbidden', rule });

export class RequestGate {
  stats = { acl: 0, reputation: 0, outside: 0 };

  constructor(private readonly d: RequestGateDeps) {}

  /** null to let the request through; may throw SipParseError on a malformed header (the caller lets the UAS core answer 400) */
  check(req: SipMessage, remote: Remote): GateRefusal | null {
    const d = this.d;
    const addr = remote.address;
    if (!d.acl.open && !d.acl.allows(addr)) {
      this.stats.acl++;
      this.emit('FailedACL', EVENT_LEVELS.FailedACL, req, remote, 'security.acl');
      return REFUSED('acl');
    }
    if (req.method === 'ACK' || req.to.params.tag !== undefined) return null;
    const isInvite = req.method === 'INVITE';
    if (isInvite && d.isEmergency(req.ruri.user ?? '')) return null;
    if (d.reputation.refused(ip(addr)) && !d.reputationExempt.has(addr) && !d.isRegisteredAddress?.(addr)) {
      this.stats.reputation++;
      this.emit('ReputationReject', EVENT_LEVELS.ReputationReject, req, remote, `address score ${d.reputation.score(ip(addr))}`);
      return REFUSED('reputation');
    }
    if (isInvite && !d.localNetworks.has(addr)) {
      const fromUser = req.from.uri.user ?? '';
      if (fromUser && d.callFromPermits(fromUser, addr)) return null;
      this.stats.outside++;
      const internal = fromUser !== '' && d.isExtension(fromUser);
      d.reputation.bad(ip(addr));
      // claiming one of our users from outside is a spoofing attempt, worth acting on (8)
      this.emit(
        internal ? 'FailedACL' : 'RequestNotAllowed',
        internal ? 8 : EVENT_LEVELS.RequestNotAllowed,
        req,
        remote,
        internal ? 'internal-user-from-outside' : 'invite-from-outside',
      );
      return REFUSED('outside');
    }
    return null;
  }

  private emit(type: SecurityEventType, level: number, req: SipMessage, remote: Remote, detail: string): void {
    let account: string | undefined;
    try {
      account = req.from.uri.user ?? undefined;
    } catch {
      account = undefined;
    }
    this.d.sink.emit({ type, level, time: Date.now(), service: 'SIP', remote, account, sessionId: req.callId, detail, extra: { method: req.method } });
  }
}
