// The `troubleshoot:` section: how much the call trace store keeps
// (docs/troubleshooting.md, "Limits"; docs/configuration.md). Defaults are
// the limits the store had as constants.
//
//   troubleshoot:
//     max_calls: 200          # kept calls (the oldest go first)
//     max_mb: 32              # bytes kept in all, MiB
//     max_open_calls: 5000    # Call-IDs followed at once; more are counted as skipped
//     max_open_mb: 16         # bytes of open rings, MiB
//     max_rtp_packets: 6000   # RTP packets recorded per call
import type { MapReader } from '../../config/yaml-reader.js';

export interface TroubleshootConfig {
  maxCalls: number;
  maxBytes: number;
  maxOpenCalls: number;
  maxOpenBytes: number;
  maxRtpPackets: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_TROUBLESHOOT: TroubleshootConfig = {
  maxCalls: 200,
  maxBytes: 32 * MIB,
  maxOpenCalls: 5000,
  maxOpenBytes: 16 * MIB,
  maxRtpPackets: 6000,
};

export function readTroubleshoot(m: MapReader): TroubleshootConfig {
  const d = DEFAULT_TROUBLESHOOT;
  const out: TroubleshootConfig = {
    maxCalls: m.int('max_calls', d.maxCalls, 1, 100_000, 'calls'),
    maxBytes: m.int('max_mb', d.maxBytes / MIB, 1, 4096, 'MiB') * MIB,
    maxOpenCalls: m.int('max_open_calls', d.maxOpenCalls, 1, 1_000_000, 'Call-IDs'),
    maxOpenBytes: m.int('max_open_mb', d.maxOpenBytes / MIB, 1, 4096, 'MiB') * MIB,
    maxRtpPackets: m.int('max_rtp_packets', d.maxRtpPackets, 0, 1_000_000, 'packets per call'),
  };
  m.done();
  return out;
}
