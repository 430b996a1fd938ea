// tshark's RTP stream analysis (`-z rtp,streams`) of a capture, parsed: the
// reference Palisade's per-stream quality figures are checked against.
import { spawnSync } from 'node:child_process';

export interface TsharkStream {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  ssrc: number;
  payload: string;
  packets: number;
  lost: number;
  lossPct: number;
  maxDeltaMs: number;
  meanJitterMs: number;
  maxJitterMs: number;
}

const LINE =
  /^\s*\S+\s+\S+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+) \((-?[\d.]+)%\)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*X?\s*$/;

/** Runs tshark on `pcap`; `extra` e.g. ['-o', 'rtp.heuristic_rtp:TRUE']. */
export function tsharkRtpStreams(pcap: string, extra: readonly string[] = []): TsharkStream[] {
  const r = spawnSync('tshark', ['-r', pcap, ...extra, '-q', '-z', 'rtp,streams'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark -r ${pcap}: ${r.stderr}`);
  return parseRtpStreams(r.stdout);
}

export function parseRtpStreams(text: string): TsharkStream[] {
  const out: TsharkStream[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.push({
      src: m[1]!,
      srcPort: Number(m[2]),
      dst: m[3]!,
      dstPort: Number(m[4]),
      ssrc: Number.parseInt(m[5]!, 16),
      payload: m[6]!,
      packets: Number(m[7]),
      lost: Number(m[8]),
      lossPct: Number(m[9]),
      maxDeltaMs: Number(m[12]),
      meanJitterMs: Number(m[14]),
      maxJitterMs: Number(m[15]),
    });
  }
  return out;
}
