// Digest authentication for requests the UAS core answers itself: OPTIONS
// addressed to a user, and out-of-dialog SUBSCRIBE, NOTIFY, MESSAGE and REFER
// (docs/architecture.md, Security rules: all of them require authentication). The challenge is the same
// 401 for an unknown user and a wrong password, with the same headers in the
// same order, so nothing tells a scanner which extensions exist (RFC 3261
// §22.1 and §8.2.7: a UAS challenges with 401 / WWW-Authenticate).
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import { credentialsIdentity, type DigestAuthenticator } from '../auth/digest.js';
import { newToken } from '../dialog/dialog.js';

export interface RequestAuthOutcome {
  ok: boolean;
  reason?: string;
  method: string;
  account: string;
  remote: Remote;
  callId: string;
  cseq: number;
  nonce?: string;
  attempt?: string;
  userAgent?: string;
}

export interface RequestAuthOptions {
  auth: DigestAuthenticator;
  server: string;
  onAuth?: (e: RequestAuthOutcome) => void;
}

export class RequestAuthenticator {
  constructor(private readonly o: RequestAuthOptions) {}

  /** the challenge to send, or the authenticated user */
  check(req: SipMessage, remote: Remote): { response: SipMessage } | { user: string } {
    const header = req.get('authorization');
    const v = this.o.auth.verify(req.method, header, { proxy: false, requestUri: req.uri, body: req.body });
    const ids = { method: req.method, remote, callId: req.callId, cseq: req.cseq.seq, userAgent: req.get('user-agent') };
    if (v.ok) {
      this.o.onAuth?.({ ok: true, account: v.user, ...ids });
      return { user: v.user };
    }
    this.o.onAuth?.({ ok: false, reason: v.reason, ...ids, ...withAccount(credentialsIdentity(header), req.from.uri.user) });
    if (v.reason === 'uri-mismatch') return { response: buildResponse(req, 400, 'Digest URI Mismatch', { toTag: newToken(), server: this.o.server }) };
    return {
      response: buildResponse(req, 401, 'Unauthorized', {
        toTag: newToken(),
        server: this.o.server,
        headers: this.o.auth.challenge({ proxy: false, stale: v.reason === 'stale' }),
      }),
    };
  }
}

/** the digest username, else the From user, as the account a failure is logged for */
export function withAccount(c: { username?: string; nonce?: string; attempt?: string }, fromUser: string | undefined): { account: string; nonce?: string; attempt?: string } {
  return { account: c.username ?? fromUser ?? '', nonce: c.nonce, attempt: c.attempt };
}
