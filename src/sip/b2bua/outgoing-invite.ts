// The INVITE Palisade sends to one contact of an extension, and the UAC
// dialog it starts (RFC 3261 §8.1.1, §12.1.2): shared by the B2BUA's forks
// and by a channel's Dial(). The transaction layer adds the Via.
import { SipMessage } from '../../sip-message/sip-message.js';
import { Dialog, newToken } from '../dialog/dialog.js';
import { formatHost } from '../../transport/address.js';
import type { InviteHost } from './leg-host.js';
import type { BindingInfo } from './types.js';

export interface OutgoingInvite {
  req: SipMessage;
  dialog: Dialog;
  callId: string;
  fromTag: string;
}

/** who calls whom, with what offer (the same for every contact rung) */
export interface InviteParams {
  callerNumber: string;
  callerName: string;
  calleeNumber: string;
  maxForwards: number;
  offer: Buffer;
}

export function buildOutgoingInvite(ua: InviteHost, o: InviteParams & { binding: BindingInfo }): OutgoingInvite {
  const { binding } = o;
  const req = new SipMessage();
  req.method = 'INVITE';
  req.uri = binding.contactUri;
  const local = ua.localFor(binding.remote);
  const fromTag = newToken();
  // a display name is sent quoted (RFC 3261 §25.1); quotes and line breaks inside it are dropped
  const name = o.callerName.replace(/["\\\r\n]/g, '');
  const fromUri = `${name ? `"${name}" ` : ''}<sip:${o.callerNumber}@${ua.domain}>`;
  const toUri = `<sip:${o.calleeNumber}@${ua.domain}>`;
  const callId = newToken() + '@' + formatHost(local.address);
  const contact = ua.contactFor(binding.remote, o.callerNumber, /^sips:/i.test(binding.contactUri));
  const h = req.headers;
  h.push(
    { name: 'max-forwards', value: String(o.maxForwards) },
    { name: 'from', value: `${fromUri};tag=${fromTag}` },
    { name: 'to', value: toUri },
    { name: 'call-id', value: callId },
    { name: 'cseq', value: '1 INVITE' },
    { name: 'contact', value: contact },
    { name: 'allow', value: ua.allow },
    { name: 'user-agent', value: ua.userAgent },
  );
  // RFC 3327 §5.4 / RFC 3261 §8.1.2: the registration's Path is a pre-loaded route set (sent to its first hop, binding.remote)
  if (binding.path) for (const r of binding.path) h.push({ name: 'route', value: r });
  if (o.offer.length) {
    h.push({ name: 'content-type', value: 'application/sdp' });
    req.body = o.offer;
  }
  const dialog = new Dialog({
    callId,
    localTag: fromTag,
    remoteTag: '',
    localUri: fromUri,
    remoteUri: toUri,
    remoteTarget: binding.contactUri,
    routeSet: [],
    localCseq: 1,
    remoteCseq: 0,
    remote: binding.remote,
    localContact: contact,
  });
  return { req, dialog, callId, fromTag };
}
