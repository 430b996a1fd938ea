// Offer/answer (RFC 3264) for media that Palisade terminates itself: pick
// the audio format and the telephone-event payload type from an offer, write
// our answer or our own offer, and read the far end's answer.
import { parseSdp } from './sdp/parse-sdp.js';
import { mediaTargets } from './sdp/sdp-query.js';
import type { Sdp, SdpDirection } from './sdp/sdp-types.js';
import { codecByName, codecByStaticPt, type CodecName } from './codecs/codec-registry.js';
import { PalisadeError } from '../core/errors.js';

export interface NegotiatedMedia {
  /** where the far end receives RTP */
  address: string;
  port: number;
  rtcpPort: number;
  /** what we send with */
  send: { name: CodecName; pt: number } | null;
  /** payload types we accept, by codec */
  receive: Array<{ name: CodecName; pt: number }>;
  /** RFC 4733 telephone-event payload type, null when not offered */
  dtmfPt: number | null;
  /** the far end's direction (RFC 3264 §6.1); sendonly/inactive = we must not send (hold) */
  direction: SdpDirection;
}

/** RFC 3264 §6.1: the answer's direction mirrors the offer's */
export const MIRROR: Record<SdpDirection, SdpDirection> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

export class MediaNegotiationError extends PalisadeError {
  declare readonly code: 'PAL_ERR_MEDIA_NEGOTIATION';
  constructor(message: string) {
    super('PAL_ERR_MEDIA_NEGOTIATION', message);
  }
}

/** formats of one m-line with the codec each names (static PT or a=rtpmap) */
function formatsOf(sdp: Sdp, index: number): Array<{ pt: number; name: string }> {
  const m = sdp.media[index]!;
  const out: Array<{ pt: number; name: string }> = [];
  for (const f of m.formats) {
    const pt = Number(f);
    if (!Number.isInteger(pt)) continue;
    const map = m.attributes.find((a) => a.name === 'rtpmap' && a.value !== null && a.value.startsWith(`${f} `));
    let name = map
      ? map
          .value!.slice(f.length + 1)
          .split('/')[0]!
          .trim()
      : (codecByStaticPt(pt)?.name ?? '');
    // RFC 7587: Opus is "opus/48000/2"; names are case-insensitive (RFC 4855 §3)
    name = name.toUpperCase();
    out.push({ pt, name });
  }
  return out;
}

const PREFERENCE: CodecName[] = ['PCMU', 'PCMA', 'GSM'];
/** what our own offers list, in our order of preference (G.711 first: no transcoding to the usual phone) */
const OFFERED: CodecName[] = ['PCMU', 'PCMA', 'GSM'];

/**
 * Chooses from an offer. `allow` limits the codecs (e.g. ['PCMA'] for a
 * test, or the other leg's choice when bridging). The offerer's order wins
 * among what we can send (RFC 3264 §6.1): a phone offering GSM first is
 * answered, and sent, GSM.
 */
export function negotiateOffer(offer: Buffer | string, allow: CodecName[] = PREFERENCE): { media: NegotiatedMedia; index: number; sdp: Sdp } {
  const sdp = parseSdp(offer);
  const targets = mediaTargets(sdp);
  for (let i = 0; i < sdp.media.length; i++) {
    const m = sdp.media[i]!;
    const t = targets[i];
    if (m.type !== 'audio' || !t || !m.proto.toUpperCase().startsWith('RTP/AVP')) continue;
    const fmts = formatsOf(sdp, i);
    const usable = fmts.filter((f) => allow.includes(f.name as CodecName) && codecByName(f.name)?.decodes);
    if (usable.length === 0) continue;
    const send = usable.find((f) => codecByName(f.name)!.encodes) ?? null;
    const receive = usable.map((f) => ({ name: f.name as CodecName, pt: f.pt }));
    const ev = fmts.find((f) => f.name === 'TELEPHONE-EVENT');
    return {
      index: i,
      sdp,
      media: {
        address: t.address,
        port: t.port,
        rtcpPort: t.rtcpPort,
        send: send ? { name: send.name as CodecName, pt: send.pt } : null,
        receive,
        dtmfPt: ev ? ev.pt : null,
        direction: t.direction,
      },
    };
  }
  throw new MediaNegotiationError('no audio stream with PCMU, PCMA or GSM in the offer');
}

let sessionSeq = Math.floor(Date.now() / 1000);

export interface LocalMedia {
  address: string;
  port: number;
  /** o= session id and version, kept across re-offers */
  sessionId?: string;
  version?: number;
}

function head(local: LocalMedia): string[] {
  const ip6 = local.address.includes(':');
  const fam = ip6 ? 'IP6' : 'IP4';
  return ['v=0', `o=palisade ${local.sessionId ?? String(++sessionSeq)} ${local.version ?? 1} IN ${fam} ${local.address}`, 's=palisade', `c=IN ${fam} ${local.address}`, 't=0 0'];
}

function mediaLines(port: number, codecs: Array<{ name: CodecName; pt: number }>, dtmfPt: number | null, direction: SdpDirection = 'sendrecv'): string[] {
  const pts = codecs.map((c) => c.pt);
  if (dtmfPt !== null) pts.push(dtmfPt);
  const lines = [`m=audio ${port} RTP/AVP ${pts.join(' ')}`];
  for (const c of codecs) lines.push(`a=rtpmap:${c.pt} ${c.name}/8000`);
  if (dtmfPt !== null) lines.push(`a=rtpmap:${dtmfPt} telephone-event/8000`, `a=fmtp:${dtmfPt} 0-16`);
  lines.push('a=ptime:20', `a=${direction}`);
  return lines;
}

/**
 * our answer: the chosen stream accepted, every other m-line rejected with
 * port 0 (RFC 3264 §6). `direction` defaults to the mirror of the offer's;
 * a bridge passes on what the other leg answered instead.
 */
export function buildAnswer(local: LocalMedia, offer: Sdp, index: number, media: NegotiatedMedia, direction: SdpDirection = MIRROR[media.direction]): string {
  const lines = head(local);
  for (let i = 0; i < offer.media.length; i++) {
    const m = offer.media[i]!;
    if (i === index) {
      const recv = media.send ? [media.send, ...media.receive.filter((r) => r.pt !== media.send!.pt)] : media.receive;
      lines.push(...mediaLines(local.port, recv, media.dtmfPt, direction));
    } else lines.push(`m=${m.type} 0 ${m.proto} ${m.formats.join(' ')}`);
  }
  return lines.join('\r\n') + '\r\n';
}

/** our offer for an outgoing leg (or a re-offer: sendonly/inactive to hold, RFC 3264 §8.4) */
export function buildOffer(local: LocalMedia, codecs: CodecName[] = OFFERED, dtmfPt = 101, direction: SdpDirection = 'sendrecv'): string {
  const list = codecs.map((name) => ({ name, pt: codecByName(name)!.staticPt! }));
  return [...head(local), ...mediaLines(local.port, list, dtmfPt, direction)].join('\r\n') + '\r\n';
}

/** the far end's answer to our offer */
export function readAnswer(answer: Buffer | string, offered: CodecName[] = OFFERED): NegotiatedMedia {
  return negotiateOffer(answer, offered).media;
}
