// The per-extension "encryption required" switch (docs/configuration.md, `extensions`: encryption): a call
// to or from such an extension must be signalled over TLS and offer SRTP
// (SDES, RFC 4568) on its audio, or it is refused before any phone rings.
import { parseSdp, mediaTargets } from '../../media/sdp/index.js';
import { chooseCrypto } from '../../media/srtp/index.js';
import type { Remote } from '../../transport/types.js';
import type { BindingInfo, ExtensionInfo } from './types.js';

export type EncryptionVerdict = { ok: true; bindings: BindingInfo[] } | { ok: false; status: 403 | 488; reason: string; why: string };

/** whether an SDP offers usable SRTP (a supported a=crypto) on its first active stream */
export function offersSrtp(body: Buffer): boolean {
  if (body.length === 0) return false;
  try {
    const sdp = parseSdp(body);
    const first = mediaTargets(sdp).findIndex((t) => t !== null);
    if (first < 0) return false;
    const m = sdp.media[first]!;
    return chooseCrypto(m.attributes.filter((a) => a.name === 'crypto' && a.value !== null).map((a) => a.value!)) !== null;
  } catch {
    return false;
  }
}

export function checkEncryption(caller: ExtensionInfo, callee: ExtensionInfo, remote: Remote, offer: Buffer, bindings: BindingInfo[]): EncryptionVerdict {
  const callerRequires = caller.encryption === 'required';
  const calleeRequires = callee.encryption === 'required';
  if (!callerRequires && !calleeRequires) return { ok: true, bindings };
  const who = callerRequires ? `caller ${caller.number}` : `callee ${callee.number}`;
  if (callerRequires && remote.transport !== 'tls') {
    return { ok: false, status: 403, reason: 'Forbidden', why: `${who} requires encryption; the INVITE came over ${remote.transport.toUpperCase()}, not TLS` };
  }
  // RFC 3261 §21.4.26: 488 for a session description we will not accept
  if (!offersSrtp(offer))
    return { ok: false, status: 488, reason: 'Not Acceptable Here', why: `${who} requires encryption; the offer has no usable SRTP (a=crypto AES_CM_128_HMAC_SHA1_80/_32)` };
  if (calleeRequires) {
    const secure = bindings.filter((b) => b.remote.transport === 'tls');
    if (secure.length === 0) return { ok: false, status: 403, reason: 'Forbidden', why: `callee ${callee.number} requires encryption and has no contact registered over TLS` };
    return { ok: true, bindings: secure };
  }
  return { ok: true, bindings };
}
