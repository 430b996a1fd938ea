// GSM 06.10 full-rate encoder (ETSI EN 300 961 §4.2, "RPE-LTP"): 160
// samples at 8 kHz → one 33-byte frame as RTP payload type 3 carries it
// (RFC 3551 §4.5.8). The standard's fixed-point algorithm, step by step:
//   preprocessing (§4.2.1-4.2.3): downscaling, offset compensation, pre-emphasis
//   LPC analysis (§4.2.4-4.2.7): autocorrelation, Schur recursion for the
//     reflection coefficients, their log-area ratios, quantised and coded
//   short-term analysis filter (§4.2.8-4.2.10) → residual d
//   per 5 ms sub-frame: long-term predictor lag and gain (§4.2.11-4.2.12),
//     weighting filter, RPE grid selection, APCM quantisation (§4.2.13-4.2.15),
//     and the decoder's own reconstruction of the residual (§4.2.16-4.2.18)
// All 16/32-bit operations are the standard's (codec-gsm-common.ts), so the
// frames are bit-exact with the reference (libgsm). State and scratch are
// preallocated: encoding a frame allocates nothing.
import {
  GSM_FRAME_BYTES,
  GSM_FRAME_SAMPLES,
  GsmParams,
  LAR_MIC,
  QLB,
  SEGMENT_LENGTH,
  SEGMENT_START,
  abs,
  add,
  decodeLars,
  div,
  expMant,
  interpolatedRp,
  lAdd,
  mult,
  multR,
  norm,
  packFrame,
  rpeDecode,
  sub,
  word,
} from './codec-gsm-common.js';

const NO_FRAMES = new Uint8Array(0);

/** table 4.1: LAR quantiser A, B and the largest code MAC (the smallest, MIC, is shared with the decoder) */
const LAR_A = [20480, 20480, 20480, 20480, 13964, 15360, 8534, 9036];
const LAR_B = [0, 0, 2048, -2560, 94, -1792, -341, -1144];
const LAR_MAC = [31, 31, 15, 15, 7, 7, 3, 3];
/** table 4.3a: LTP gain decision levels */
const DLB = [6554, 16384, 26214];
/** table 4.4: weighting filter impulse response */
const H = [-134, -374, 0, 2054, 5741, 8192, 5741, 2054, 0, -374, -134];
/** table 4.5: normalised inverse mantissa */
const NRFAC = [29128, 26215, 23832, 21846, 20165, 18725, 17476, 16384];

export class GsmEncoder {
  // §4.2.2-4.2.3 filter memories
  private z1 = 0;
  private Lz2 = 0;
  private mp = 0;
  /** short-term analysis filter memory */
  private readonly u = new Int16Array(8);
  /** decoded LARs of this frame and the previous one (for interpolation) */
  private readonly LARpp = [new Int16Array(8), new Int16Array(8)];
  private j = 0;
  /** reconstructed short-term residual: [0..119] the past, [120..279] this frame */
  private readonly dp0 = new Int16Array(280);

  // scratch, reused for every frame
  private readonly p = new GsmParams();
  /** preprocessed speech, then (filtered in place) the short-term residual d */
  private readonly s = new Int16Array(GSM_FRAME_SAMPLES);
  private readonly Lacf = new Int32Array(9);
  private readonly P = new Int16Array(9);
  private readonly K = new Int16Array(9);
  /** reflection coefficients r, then log-area ratios LAR (§4.2.5-4.2.6) */
  private readonly lar = new Int16Array(8);
  private readonly rp = new Int16Array(8);
  private readonly wt = new Int16Array(40);
  private readonly dpp = new Int16Array(40);
  /** LTP residual e with five zeros either side for the weighting filter; later the decoded ep */
  private readonly e = new Int16Array(50);
  private readonly x = new Int16Array(40);
  private readonly xM = new Int16Array(13);

  /** remainder of a payload that was not a whole number of frames */
  private readonly pending = new Int16Array(GSM_FRAME_SAMPLES);
  private pendingLen = 0;
  private readonly one = new Uint8Array(GSM_FRAME_BYTES);

  /** 160 samples from `pcm[off]` → one 33-byte frame */
  encodeFrame(pcm: Int16Array, out: Uint8Array = new Uint8Array(GSM_FRAME_BYTES), off = 0, outOff = 0): Uint8Array {
    const p = this.p;
    const s = this.s;
    this.preprocess(pcm, off);
    this.autocorrelation();
    this.reflectionCoefficients();
    this.quantiseLars(p.LARc);
    this.shortTermAnalysis(p.LARc);
    for (let j = 0; j < 4; j++) {
      const dpo = 120 + j * 40;
      this.ltpParameters(s, j * 40, dpo, j);
      this.ltpFilter(s, j * 40, dpo, p.Nc[j]!, p.bc[j]!);
      this.weightingFilter();
      this.rpeEncode(j);
      // §4.2.18: what the decoder will have as residual, for the next sub-frames' LTP
      const dp = this.dp0;
      const e = this.e;
      const dpp = this.dpp;
      for (let k = 0; k < 40; k++) dp[dpo + k] = add(e[5 + k]!, dpp[k]!);
    }
    this.dp0.copyWithin(0, 160, 280);
    packFrame(p, out, outOff);
    return out;
  }

  /**
   * An RTP payload of whole frames (RFC 3551 §4.5.8) from any number of
   * samples: what is left over (under 160) waits for the next call, so a
   * G.711 peer with a 10 or 30 ms ptime can still be transcoded. The result
   * is overwritten by the next call (send it or copy it first).
   */
  encode(pcm: Int16Array): Uint8Array {
    const total = this.pendingLen + pcm.length;
    const frames = Math.floor(total / GSM_FRAME_SAMPLES);
    if (frames === 0) {
      this.pending.set(pcm, this.pendingLen);
      this.pendingLen = total;
      return NO_FRAMES;
    }
    const out = frames === 1 ? this.one : new Uint8Array(frames * GSM_FRAME_BYTES);
    let used = 0;
    for (let f = 0; f < frames; f++) {
      if (this.pendingLen > 0) {
        used = GSM_FRAME_SAMPLES - this.pendingLen;
        this.pending.set(pcm.subarray(0, used), this.pendingLen);
        this.pendingLen = 0;
        this.encodeFrame(this.pending, out, 0, 0);
      } else {
        this.encodeFrame(pcm, out, used, f * GSM_FRAME_BYTES);
        used += GSM_FRAME_SAMPLES;
      }
    }
    this.pendingLen = pcm.length - used;
    if (this.pendingLen > 0) this.pending.set(pcm.subarray(used), 0);
    return out;
  }

  /** §4.2.1-4.2.3 */
  private preprocess(pcm: Int16Array, off: number): void {
    const so = this.s;
    let z1 = this.z1;
    let Lz2 = this.Lz2;
    let mp = this.mp;
    for (let k = 0; k < GSM_FRAME_SAMPLES; k++) {
      // §4.2.1 downscaling to 13 bits
      const sO = (pcm[off + k]! >> 3) << 2;
      // §4.2.2 offset compensation: a recursive high-pass removing any DC
      const s1 = sO - z1;
      z1 = sO;
      let Ls2 = s1 * 32768;
      const msp = Lz2 >> 15;
      const lsp = Lz2 - msp * 32768;
      Ls2 += multR(lsp, 32735);
      Lz2 = lAdd(msp * 32735, Ls2);
      const sof = word(lAdd(Lz2, 16384) >> 15);
      // §4.2.3 pre-emphasis
      so[k] = add(sof, multR(mp, -28180));
      mp = sof;
    }
    this.z1 = z1;
    this.Lz2 = Lz2;
    this.mp = mp;
  }

  /** §4.2.4: L_ACF[0..8] of the frame, scaled down first so the sums cannot overflow */
  private autocorrelation(): void {
    const s = this.s;
    let smax = 0;
    for (let k = 0; k < GSM_FRAME_SAMPLES; k++) {
      const t = abs(s[k]!);
      if (t > smax) smax = t;
    }
    const scalauto = smax === 0 ? 0 : 4 - norm(smax << 16);
    if (scalauto > 0) {
      const f = 16384 >> (scalauto - 1);
      for (let k = 0; k < GSM_FRAME_SAMPLES; k++) s[k] = multR(s[k]!, f);
    }
    for (let k = 0; k <= 8; k++) {
      let sum = 0;
      // |s| <= 2^11 after scaling (or below 2^11 unscaled): 160 products fit in int32
      for (let i = k; i < GSM_FRAME_SAMPLES; i++) sum = (sum + s[i]! * s[i - k]!) | 0;
      this.Lacf[k] = sum * 2;
    }
    // the standard scales back up, keeping the precision lost on the way down
    if (scalauto > 0) for (let k = 0; k < GSM_FRAME_SAMPLES; k++) s[k] = s[k]! << scalauto;
  }

  /** §4.2.5: reflection coefficients r[1..8] (in lar[0..7]) by the Schur recursion */
  private reflectionCoefficients(): void {
    const L = this.Lacf;
    const r = this.lar;
    const P = this.P;
    const K = this.K;
    if (L[0] === 0) {
      r.fill(0);
      return;
    }
    const t = norm(L[0]!);
    for (let k = 0; k <= 8; k++) P[k] = (L[k]! << t) >> 16;
    for (let k = 1; k <= 7; k++) K[k] = P[k]!;
    for (let n = 1; n <= 8; n++) {
      const a = abs(P[1]!);
      if (P[0]! < a) {
        r.fill(0, n - 1);
        return;
      }
      const rn = P[1]! > 0 ? -div(a, P[0]!) : div(a, P[0]!);
      r[n - 1] = rn;
      if (n === 8) return;
      P[0] = add(P[0]!, multR(P[1]!, rn));
      for (let m = 1; m <= 8 - n; m++) {
        P[m] = add(P[m + 1]!, multR(K[m]!, rn));
        K[m] = add(K[m]!, multR(P[m + 1]!, rn));
      }
    }
  }

  /** §4.2.6-4.2.7: reflection coefficients → log-area ratios (piecewise linear) → coded LARs */
  private quantiseLars(LARc: Int16Array): void {
    const lar = this.lar;
    for (let i = 0; i < 8; i++) {
      const r = lar[i]!;
      let t = abs(r);
      if (t < 22118) t >>= 1;
      else if (t < 31130) t -= 11059;
      else t = (t - 26112) << 2;
      const LAR = r < 0 ? -t : t;
      let c = mult(LAR_A[i]!, LAR);
      c = add(c, LAR_B[i]!);
      c = add(c, 256) >> 9;
      // stored as a non-negative code (the decoder adds MIC back)
      LARc[i] = c > LAR_MAC[i]! ? LAR_MAC[i]! - LAR_MIC[i]! : c < LAR_MIC[i]! ? 0 : c - LAR_MIC[i]!;
    }
  }

  /** §4.2.8-4.2.10: the lattice filter with the decoded, interpolated coefficients; s becomes d */
  private shortTermAnalysis(LARc: Int16Array): void {
    const cur = this.LARpp[this.j]!;
    this.j ^= 1;
    const prev = this.LARpp[this.j]!;
    decodeLars(LARc, cur);
    const s = this.s;
    const u = this.u;
    const rp = this.rp;
    for (let seg = 0; seg < 4; seg++) {
      interpolatedRp(seg, prev, cur, rp);
      const from = SEGMENT_START[seg]!;
      const to = from + SEGMENT_LENGTH[seg]!;
      for (let k = from; k < to; k++) {
        let di = s[k]!;
        let sav = di;
        for (let i = 0; i < 8; i++) {
          const ui = u[i]!;
          const rpi = rp[i]!;
          u[i] = sav;
          sav = add(ui, multR(rpi, di));
          di = add(di, multR(rpi, ui));
        }
        s[k] = di;
      }
    }
  }

  /**
   * §4.2.11: the lag Nc (40..120) where the past reconstructed residual best
   * matches this sub-frame's d, and the coded gain bc
   */
  private ltpParameters(d: Int16Array, doff: number, dpo: number, j: number): void {
    const dp = this.dp0;
    const wt = this.wt;
    let dmax = 0;
    for (let k = 0; k < 40; k++) {
      const t = abs(d[doff + k]!);
      if (t > dmax) dmax = t;
    }
    const temp = dmax === 0 ? 0 : norm(dmax << 16);
    const scal = temp > 6 ? 0 : 6 - temp;
    for (let k = 0; k < 40; k++) wt[k] = d[doff + k]! >> scal;
    let Lmax = 0;
    let Nc = 40;
    // |wt| < 2^9 and |dp| <= 2^15: 40 products stay well inside int32 (| 0 keeps V8 on integers)
    for (let lambda = 40; lambda <= 120; lambda++) {
      const b = dpo - lambda;
      let L = 0;
      for (let k = 0; k < 40; k++) L = (L + wt[k]! * dp[b + k]!) | 0;
      if (L > Lmax) {
        Nc = lambda;
        Lmax = L;
      }
    }
    this.p.Nc[j] = Nc;
    Lmax = (Lmax * 2) >> (6 - scal);
    let Lpower = 0;
    for (let k = 0; k < 40; k++) {
      const t = dp[dpo - Nc + k]! >> 3;
      Lpower += t * t;
    }
    Lpower *= 2;
    let bc: number;
    if (Lmax <= 0) bc = 0;
    else if (Lmax >= Lpower) bc = 3;
    else {
      const n = norm(Lpower);
      const R = (Lmax << n) >> 16;
      const S = (Lpower << n) >> 16;
      for (bc = 0; bc <= 2; bc++) if (R <= mult(S, DLB[bc]!)) break;
    }
    this.p.bc[j] = bc;
  }

  /** §4.2.12: e = d − b·dp[k−Nc] (the estimate dpp kept for §4.2.18) */
  private ltpFilter(d: Int16Array, doff: number, dpo: number, Nc: number, bc: number): void {
    const bp = QLB[bc]!;
    const dp = this.dp0;
    for (let k = 0; k < 40; k++) {
      const est = multR(bp, dp[dpo - Nc + k]!);
      this.dpp[k] = est;
      this.e[5 + k] = sub(d[doff + k]!, est);
    }
  }

  /** §4.2.13: the 11-tap weighting filter, e → x (e's five zeros each side stand for the outside) */
  private weightingFilter(): void {
    const e = this.e;
    const x = this.x;
    for (let k = 0; k < 40; k++) {
      let L = 4096;
      for (let i = 0; i < 11; i++) L += e[k + i]! * H[i]!;
      L >>= 13;
      x[k] = L < -32768 ? -32768 : L > 32767 ? 32767 : L;
    }
  }

  /**
   * §4.2.14-4.2.17: the grid (of four, every third sample) with the most
   * energy, its 13 pulses quantised by APCM against their peak xmax; then
   * decoded back into e[5..44] as ep, as the decoder will see it.
   */
  private rpeEncode(j: number): void {
    const x = this.x;
    const xM = this.xM;
    const p = this.p;
    let EM = 0;
    let Mc = 0;
    for (let m = 0; m < 4; m++) {
      let L = 0;
      for (let i = 0; i < 13; i++) {
        const t = x[m + 3 * i]! >> 2;
        L += t * t;
      }
      L *= 2;
      if (L > EM) {
        Mc = m;
        EM = L;
      }
    }
    let xmax = 0;
    for (let i = 0; i < 13; i++) {
      xM[i] = x[Mc + 3 * i]!;
      const t = abs(xM[i]!);
      if (t > xmax) xmax = t;
    }
    // §4.2.15: xmax coded on 6 bits, a 3-bit exponent and a 3-bit mantissa
    let exp = 0;
    let t = xmax >> 9;
    let itest = false;
    for (let i = 0; i <= 5; i++) {
      itest ||= t <= 0;
      t >>= 1;
      if (!itest) exp++;
    }
    const xmaxc = add(xmax >> (exp + 5), exp << 3);
    const em = expMant(xmaxc);
    const shift = 6 - (em >> 3);
    const inv = NRFAC[em & 7]!;
    for (let i = 0; i < 13; i++) {
      // normalised by xmax, 3 bits each, offset by 4 to be non-negative
      p.xMc[j * 13 + i] = (mult(word(xM[i]! << shift), inv) >> 12) + 4;
    }
    p.Mc[j] = Mc;
    p.xmaxc[j] = xmaxc;
    rpeDecode(xmaxc, Mc, p.xMc, j * 13, this.e, 5);
  }
}
