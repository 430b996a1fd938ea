// GSM 06.10 full-rate decoder (ETSI EN 300 961, "RPE-LTP"), as carried in
// RTP payload type 3 (RFC 3551 §4.5.8): 33-byte frames of 260 bits after a
// 4-bit 0xD signature, each decoding to 160 samples at 8 kHz. A straight
// fixed-point rendering of the standard's decoder (§4.3): RPE decoding,
// long-term synthesis, short-term synthesis with interpolated reflection
// coefficients, de-emphasis. Bit-exact with libgsm. The encoder is in
// codec-gsm-encoder.ts; what both use is in codec-gsm-common.ts.
import {
  GSM_FRAME_BYTES,
  GSM_FRAME_SAMPLES,
  GsmParams,
  QLB,
  SEGMENT_LENGTH,
  SEGMENT_START,
  add,
  decodeLars,
  interpolatedRp,
  multR,
  rpeDecode,
  sub,
  unpackFrame,
  word,
} from './codec-gsm-common.js';
import { PalisadeError } from '../../core/errors.js';

export { GSM_FRAME_BYTES, GSM_FRAME_SAMPLES } from './codec-gsm-common.js';

export class GsmFormatError extends PalisadeError {
  declare readonly code: 'PAL_ERR_GSM_FRAME';
  constructor(message: string) {
    super('PAL_ERR_GSM_FRAME', message);
  }
}

export class GsmDecoder {
  /** reconstructed short-term residual: dp0[0..119] history, [120..159] current */
  private readonly dp0 = new Int16Array(160);
  private readonly LARpp = [new Int16Array(8), new Int16Array(8)];
  private j = 0;
  private nrp = 40;
  private readonly v = new Int16Array(9);
  private msr = 0;
  /** frames decodePayload() skipped for a missing signature */
  badFrames = 0;
  // scratch, reused for every frame
  private readonly p = new GsmParams();
  private readonly wt = new Int16Array(GSM_FRAME_SAMPLES);
  private readonly erp = new Int16Array(40);
  private readonly rp = new Int16Array(8);

  /** one 33-byte frame → 160 samples */
  decodeFrame(frame: Uint8Array, out: Int16Array = new Int16Array(GSM_FRAME_SAMPLES)): Int16Array {
    if (frame.length < GSM_FRAME_BYTES) throw new GsmFormatError(`GSM frame of ${frame.length} bytes; expected 33`);
    const p = this.p;
    if (!unpackFrame(frame, p)) throw new GsmFormatError('GSM frame without the 0xD signature');
    const wt = this.wt;
    for (let j = 0; j < 4; j++) {
      rpeDecode(p.xmaxc[j]!, p.Mc[j]!, p.xMc, j * 13, this.erp);
      this.longTermSynthesis(p.Nc[j]!, p.bc[j]!, this.erp);
      for (let k = 0; k < 40; k++) wt[j * 40 + k] = this.dp0[120 + k]!;
    }
    this.shortTermSynthesis(p.LARc, wt, out);
    // §4.3.5 de-emphasis, truncation and upscaling
    let msr = this.msr;
    for (let k = 0; k < GSM_FRAME_SAMPLES; k++) {
      msr = add(out[k]!, multR(msr, 28180));
      out[k] = word(add(msr, msr) & 0xfff8);
    }
    this.msr = msr;
    return out;
  }

  /**
   * An RTP payload of one or more whole frames (RFC 3551 §4.5.8). This runs
   * on the RTP path, where anyone can send a packet: a frame without the
   * 0xD signature is silence (and leaves the decoder's state alone), never
   * an exception; `badFrames` counts them.
   */
  decodePayload(payload: Uint8Array): Int16Array {
    const frames = Math.floor(payload.length / GSM_FRAME_BYTES);
    const out = new Int16Array(frames * GSM_FRAME_SAMPLES);
    for (let f = 0; f < frames; f++) {
      const frame = payload.subarray(f * 33, f * 33 + 33);
      if (frame[0]! >> 4 !== 0xd) {
        this.badFrames++;
        continue;
      }
      this.decodeFrame(frame, out.subarray(f * 160, f * 160 + 160));
    }
    return out;
  }

  /** §4.3.2 */
  private longTermSynthesis(Ncr: number, bcr: number, erp: Int16Array): void {
    const dp = this.dp0;
    const Nr = Ncr < 40 || Ncr > 120 ? this.nrp : Ncr;
    this.nrp = Nr;
    const brp = QLB[bcr]!;
    for (let k = 0; k < 40; k++) {
      dp[120 + k] = add(erp[k]!, multR(brp, dp[120 + k - Nr]!));
    }
    dp.copyWithin(0, 40, 160);
  }

  /** §4.3.3-4.3.4 (with §4.2.8-4.2.9 LAR decoding and interpolation) */
  private shortTermSynthesis(LARc: Int16Array, wt: Int16Array, s: Int16Array): void {
    const cur = this.LARpp[this.j]!;
    this.j ^= 1;
    const prev = this.LARpp[this.j]!;
    decodeLars(LARc, cur);
    const rp = this.rp;
    const v = this.v;
    for (let seg = 0; seg < 4; seg++) {
      interpolatedRp(seg, prev, cur, rp);
      const from = SEGMENT_START[seg]!;
      const to = from + SEGMENT_LENGTH[seg]!;
      for (let k = from; k < to; k++) {
        let sri = wt[k]!;
        for (let i = 7; i >= 0; i--) {
          sri = sub(sri, multR(rp[i]!, v[i]!));
          v[i + 1] = add(v[i]!, multR(rp[i]!, sri));
        }
        s[k] = sri;
        v[0] = sri;
      }
    }
  }
}
