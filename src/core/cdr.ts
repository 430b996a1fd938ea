// The call detail record: what a call leaves behind, in the Asterisk CDR
// field set. A port in core/ (docs/architecture.md, Layers): the B2BUA and
// the channels write records through CdrSink without importing storage/,
// and storage/cdr-repo.ts implements it.

export type CdrDisposition = 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED' | 'CONGESTION';
export type AmaFlags = 'DEFAULT' | 'OMIT' | 'BILLING' | 'DOCUMENTATION';

export const CDR_DISPOSITIONS: readonly CdrDisposition[] = ['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CONGESTION'];

export interface Cdr {
  accountcode: string;
  src: string;
  dst: string;
  dcontext: string;
  clid: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  start: number; // epoch ms
  answer: number | null; // epoch ms, null when never answered
  end: number; // epoch ms
  duration: number; // s, end - start
  billsec: number; // s, end - answer
  disposition: CdrDisposition;
  amaflags: AmaFlags;
  uniqueid: string;
  userfield: string;
  sourceIp: string;
  securityVerdict: string;
  /** media quality per leg (storage/cdr-quality.ts, the rtp_* columns); null when none was measured */
  quality?: CdrQuality | null;
}

/** what Palisade received from one leg's party (docs/media-quality.md) */
export interface CdrLegQuality {
  packets: number;
  lost: number;
  lossPct: number;
  jitterMeanMs: number;
  jitterMaxMs: number;
  maxDeltaMs: number;
  mos: number;
  /** what this party reported about the stream it received (RTCP SR/RR, XR VoIP Metrics); null: it sent no such report */
  farLossPct?: number | null;
  farJitterMs?: number | null;
  farMos?: number | null;
  farRttMs?: number | null;
}

export interface CdrQuality {
  /** received from party a (the caller, or the channel's caller) */
  a: CdrLegQuality | null;
  /** received from party b (the callee of a bridged call) */
  b: CdrLegQuality | null;
  /** 'poor-a', 'one-way-b', ... comma-separated in the row */
  flags: string[];
}

export const AMA_FLAGS: readonly AmaFlags[] = ['DEFAULT', 'OMIT', 'BILLING', 'DOCUMENTATION'];

/**
 * What a caller must give; everything else defaults ('' / computed). Times
 * may be Dates or epoch ms; amaflags '' means DOCUMENTATION.
 */
export type CdrInput = Pick<Cdr, 'src' | 'dst' | 'disposition' | 'uniqueid'> &
  Partial<Omit<Cdr, 'start' | 'answer' | 'end' | 'amaflags'>> & {
    start: number | Date;
    end: number | Date;
    answer?: number | Date | null;
    amaflags?: AmaFlags | string;
  };

/** where finished calls' records go (storage/cdr-repo.ts's CdrRepo) */
export interface CdrSink {
  write(rec: CdrInput): void;
}
