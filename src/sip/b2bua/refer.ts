// What a REFER (RFC 3515) asks, read from its Refer-To, and the NOTIFYs
// that report how the referred call went (message/sipfrag, RFC 3420). The
// B2BUA's transfers (call-transfer.ts) and the SIP channels' use them.
import { parseNameAddr } from '../../sip-message/name-addr.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Dialog } from '../dialog/dialog.js';
import { reasonPhrase } from '../../sip-message/response.js';

/** a dialog named by a Replaces header (RFC 3891 §6.1), as its recipient sees it */
export interface ReplacesId {
  callId: string;
  /** RFC 3891 §3: the to-tag is the recipient's local tag */
  toTag: string;
  /** and the from-tag its remote tag */
  fromTag: string;
  /** early-only: replace only an early dialog (RFC 3891 §3) */
  earlyOnly: boolean;
}

export interface ReferTarget {
  /** the user part of the Refer-To URI: the number to transfer to */
  user: string;
  /** an attended transfer: the dialog the transferee's new call replaces */
  replaces?: ReplacesId;
}

/** reads a Replaces header value: `callid;to-tag=x;from-tag=y[;early-only]`; null when malformed */
export function parseReplaces(value: string): ReplacesId | null {
  const parts = value.split(';').map((p) => p.trim());
  const callId = parts.shift() ?? '';
  if (!callId) return null;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of parts) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (name === 'to-tag') toTag = v;
    else if (name === 'from-tag') fromTag = v;
    else if (name === 'early-only') earlyOnly = true;
  }
  // RFC 3891 §6.1: both tags are mandatory
  if (!toTag || !fromTag) return null;
  return { callId, toTag, fromTag, earlyOnly };
}

/**
 * The Refer-To of a REFER (RFC 3515 §2.1: exactly one), null when it is
 * missing, unreadable, not a SIP URI or names no user. An embedded
 * `?Replaces=` header (RFC 3891 §4, escaped as URI headers are) makes it an
 * attended transfer.
 */
export function readReferTo(req: SipMessage): ReferTarget | null {
  const raw = req.get('refer-to');
  if (raw === undefined) return null;
  try {
    // The URI headers are read apart, leniently: phones put a Call-ID's '@'
    // in the Replaces value unescaped, which RFC 3261 §25.1's hvalue does not allow.
    const q = raw.indexOf('?');
    const gt = raw.lastIndexOf('>');
    const headers = q >= 0 && (gt < 0 || q < gt) ? raw.slice(q + 1, gt < 0 ? undefined : gt) : '';
    const bare = headers ? raw.slice(0, q) + (gt < 0 ? '' : raw.slice(gt)) : raw;
    const uri = parseNameAddr(bare, 'Refer-To').uri;
    if ((uri.scheme !== 'sip' && uri.scheme !== 'sips') || !uri.user) return null;
    let replaces: ReplacesId | undefined;
    for (const h of headers ? headers.split('&') : []) {
      const eq = h.indexOf('=');
      if (eq < 0 || decodeURIComponent(h.slice(0, eq)).toLowerCase() !== 'replaces') continue;
      const r = parseReplaces(decodeURIComponent(h.slice(eq + 1)));
      if (!r) return null;
      replaces = r;
    }
    return { user: uri.user, replaces };
  } catch {
    return null;
  }
}

/**
 * RFC 3515 §2.4.5: a NOTIFY in the REFER's dialog whose body is the status
 * line of the referred call's latest response; `final` ends the implicit
 * subscription. §2.4.6: the Event header's id is the REFER's CSeq number,
 * which tells apart several REFERs in one dialog.
 */
export function referNotify(d: Dialog, referCseq: number, status: number, final: boolean, userAgent: string): SipMessage {
  const body = Buffer.from(`SIP/2.0 ${status} ${reasonPhrase(status)}\r\n`);
  const n = d.createRequest('NOTIFY', { body, contentType: 'message/sipfrag;version=2.0', userAgent });
  n.headers.push({ name: 'event', value: `refer;id=${referCseq}` });
  n.headers.push({ name: 'subscription-state', value: final ? 'terminated;reason=noresource' : 'active;expires=60' });
  n.headers.push({ name: 'contact', value: d.localContact });
  return n;
}
