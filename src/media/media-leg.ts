// One call leg's media inside Palisade: an RTP endpoint with a negotiated
// codec, driven by the shared 20 ms clock. Each tick it sends the next
// frame of whatever source is playing (prompt, music, conference mix) or
// nothing (timestamps still advance, the next packet gets the marker).
// Received audio is decoded for taps (recorder, MixMonitor, mixer, in-band
// DTMF); two legs can be bridged, forwarding packets as they arrive and
// transcoding when the legs chose different codecs: µ-law↔A-law by table,
// GSM↔G.711 through PCM.
import { mediaClock, type MediaClock } from './media-clock.js';
import { RtpEndpoint, type SocketPair } from './rtp/rtp-endpoint.js';
import { decoderFor, encoderFor, samplesIn, type CodecName, type FrameDecoder } from './codecs/codec-registry.js';
import { ALAW_TO_ULAW, ULAW_TO_ALAW, transcode } from './codecs/codec-g711.js';
import { Rfc4733Receiver, dtmfPackets, type EventPacket } from './dtmf/rfc4733.js';
import { InbandDtmfDetector } from './dtmf/inband-detector.js';
import type { NegotiatedMedia } from './media-sdp.js';
import { holdsBy, isUnspecifiedAddress } from './sdp/sdp-query.js';
import type { DigitSource, FrameSource, MediaEndpoint } from './media-endpoint.js';

export type { DigitSource, FrameSource } from './media-endpoint.js';

export const FRAME_SAMPLES = 160;

export class MediaLeg implements MediaEndpoint {
  readonly ep: RtpEndpoint;
  private send: { name: CodecName; pt: number } | null = null;
  private encode: ((pcm: Int16Array) => Uint8Array) | null = null;
  private dtmfPt: number | null = null;
  private readonly decoders = new Map<number, { name: CodecName; dec: FrameDecoder }>();
  private readonly rfc4733 = new Rfc4733Receiver();
  private readonly inband = new InbandDtmfDetector();
  /** RFC 4733 seen on this leg: in-band detection is switched off (no double digits) */
  private eventsSeen = false;
  source: FrameSource | null = null;
  /** the far end put us on hold: nothing is sent */
  held = false;
  /** Echo(): what arrives is sent straight back (payload as received) */
  echo = false;
  private peer: MediaLeg | null = null;
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private readonly dtmfQueue: EventPacket[][] = [];
  private dtmfTs = 0;
  private readonly rxTaps = new Set<(pcm: Int16Array) => void>();
  private readonly txTaps = new Set<(pcm: Int16Array) => void>();
  private readonly tickFn = (): void => this.tick();
  private running = false;
  private ticksSinceRx = 0;
  /** forwarded events: source timestamp → our timestamp */
  private fwdEvent = { src: -1, ts: 0 };
  private readonly digitTaps = new Set<(digit: string, via: DigitSource) => void>();
  /** no RTP for `rtpTimeoutMs` while running */
  onRtpTimeout: (() => void) | null = null;

  constructor(
    pair: SocketPair,
    readonly address: string,
    private readonly rtpTimeoutMs = 0,
    private readonly clock: MediaClock = mediaClock,
  ) {
    this.ep = new RtpEndpoint(pair, address);
    this.rfc4733.onDigit = (e) => this.emitDigit(e.digit, 'rfc4733');
    this.inband.onDigit = (d) => {
      if (!this.eventsSeen) this.emitDigit(d, 'inband');
    };
  }

  get port(): number {
    return this.ep.localPort;
  }

  get codec(): CodecName | null {
    return this.send?.name ?? null;
  }

  get telephoneEventPt(): number | null {
    return this.dtmfPt;
  }

  /** apply an offer/answer result (initial or re-INVITE) */
  configure(m: NegotiatedMedia): void {
    // RFC 3264 §8.4: on hold (sendonly/inactive, or the old c=0.0.0.0) we send nothing
    this.held = holdsBy(m);
    if (!isUnspecifiedAddress(m.address)) this.ep.setRemote(m.address, m.port, m.rtcpPort);
    this.send = m.send;
    this.encode = m.send ? encoderFor(m.send.name) : null;
    this.dtmfPt = m.dtmfPt;
    this.decoders.clear();
    for (const r of m.receive) {
      const dec = decoderFor(r.name);
      if (dec) this.decoders.set(r.pt, { name: r.name, dec });
    }
    for (const [pt, d] of this.decoders) this.ep.on(pt, (payload) => this.onAudio(pt, d.name, d.dec, payload));
    if (m.dtmfPt !== null) {
      this.ep.on(m.dtmfPt, (payload, info) => {
        this.eventsSeen = true;
        this.ticksSinceRx = 0;
        this.rfc4733.receive(payload, info.timestamp);
        if (this.peer) this.forwardEvent(payload, info.timestamp, info.marker);
      });
    }
  }

  /** join the shared clock (after answer / early media) */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.clock.add(this.tickFn);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clock.remove(this.tickFn);
  }

  tapReceived(fn: (pcm: Int16Array) => void): () => void {
    this.rxTaps.add(fn);
    return () => this.rxTaps.delete(fn);
  }

  tapSent(fn: (pcm: Int16Array) => void): () => void {
    this.txTaps.add(fn);
    return () => this.txTaps.delete(fn);
  }

  tapDigits(fn: (digit: string, via: DigitSource) => void): () => void {
    this.digitTaps.add(fn);
    return () => this.digitTaps.delete(fn);
  }

  /** a digit for the taps: from the RTP stream, or one the signalling carried (SIP INFO) */
  emitDigit(digit: string, via: DigitSource): void {
    for (const t of this.digitTaps) t(digit, via);
  }

  /** queue RFC 4733 digits to send (one event after the other) */
  sendDigits(digits: string, durationMs = 100): boolean {
    if (this.dtmfPt === null) return false;
    for (const d of digits) {
      this.dtmfQueue.push(...dtmfPackets(d, durationMs));
      // RFC 4733 §2.5.1.5 leaves the gap to the sender; 60 ms of nothing between events
      this.dtmfQueue.push([], [], []);
    }
    return true;
  }

  /** both legs forward each other's packets (transcoding when needed) until unbridge() */
  bridge(other: MediaLeg): void {
    this.peer = other;
    other.peer = this;
  }

  unbridge(): void {
    const p = this.peer;
    this.peer = null;
    if (p && p.peer === this) p.peer = null;
  }

  get bridgedTo(): MediaLeg | null {
    return this.peer;
  }

  private onAudio(pt: number, name: CodecName, dec: FrameDecoder, payload: Buffer): void {
    this.ticksSinceRx = 0;
    if (this.echo && !this.held) this.ep.sendAudio(pt, payload, samplesIn(name, payload.length));
    const peer = this.peer;
    // decoded at most once: the GSM decoder carries state from one frame to the next
    let pcm: Int16Array | null = null;
    if (peer?.send && !peer.held) {
      // Same codec: pass the payload as is. µ-law↔A-law: one table lookup per byte.
      if (peer.send.name === name) peer.ep.sendAudio(peer.send.pt, payload, samplesIn(name, payload.length));
      else if (name === 'PCMU' && peer.send.name === 'PCMA') peer.ep.sendAudio(peer.send.pt, transcode(payload, ULAW_TO_ALAW), payload.length);
      else if (name === 'PCMA' && peer.send.name === 'PCMU') peer.ep.sendAudio(peer.send.pt, transcode(payload, ALAW_TO_ULAW), payload.length);
      else if (peer.encode) {
        // GSM↔G.711: through PCM (a GSM encoder holds back any part of a frame for the next packet)
        pcm = dec.decode(payload);
        const out = peer.encode(pcm);
        if (out.length > 0) peer.ep.sendAudio(peer.send.pt, out, samplesIn(peer.send.name, out.length));
      }
    }
    if (this.rxTaps.size === 0 && this.eventsSeen && !peer?.txTaps.size) return;
    pcm ??= dec.decode(payload);
    if (!this.eventsSeen) this.inband.push(pcm);
    for (const t of this.rxTaps) t(pcm);
    if (peer) for (const t of peer.txTaps) t(pcm);
  }

  private forwardEvent(payload: Buffer, ts: number, marker: boolean): void {
    const peer = this.peer!;
    if (peer.dtmfPt === null) return;
    if (ts !== this.fwdEvent.src) this.fwdEvent = { src: ts, ts: peer.ep.timestamp };
    peer.ep.send(peer.dtmfPt, payload, marker, this.fwdEvent.ts);
  }

  private tick(): void {
    this.ep.tick();
    if (this.held) {
      this.ep.skip();
      this.ticksSinceRx = 0; // a held party sends no media; that is no timeout
      return;
    }
    if (this.rtpTimeoutMs > 0 && ++this.ticksSinceRx * 20 >= this.rtpTimeoutMs) {
      this.ticksSinceRx = 0;
      this.onRtpTimeout?.();
    }
    if (this.dtmfQueue.length > 0 && this.dtmfPt !== null) {
      const pkts = this.dtmfQueue.shift()!;
      if (pkts.length > 0) {
        if (pkts[0]!.marker) this.dtmfTs = this.ep.timestamp;
        for (const p of pkts) this.ep.send(this.dtmfPt, p.payload, p.marker, this.dtmfTs);
      }
      // audio is muted while an event plays; time moves on
      this.ep.skip();
      return;
    }
    if (this.peer || this.echo) return; // bridged or echoing: packets are sent as they arrive
    const src = this.source;
    if (src && this.encode && this.send && src.nextFrame(this.frame)) {
      // 160 samples are one G.711 payload or exactly one GSM frame
      this.ep.sendAudio(this.send.pt, this.encode(this.frame), FRAME_SAMPLES);
      for (const t of this.txTaps) t(this.frame);
    } else {
      this.ep.skip();
    }
  }

  close(): void {
    this.stop();
    this.unbridge();
    this.rxTaps.clear();
    this.txTaps.clear();
    this.ep.close();
  }
}
