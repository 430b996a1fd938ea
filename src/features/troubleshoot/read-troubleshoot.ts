// The `troubleshoot:` section: how much the call trace store keeps
// (docs/troubleshooting.md, "Limits"; docs/configuration.md). Defaults are
// the limits the store had as constants.
//
//   troubleshoot:
//     max_calls: 200          # kept calls (the oldest go first)
//     max_mb: 32              # bytes kept in all, MiB
//     max_open_calls: 5000    # traced calls followed at once, leg links remembered
//     max_open_mb: 8          # bytes of the ring of recent SIP messages, MiB
//     ring_messages: 16384    # messages in that ring
//     max_rtp_packets: 6000   # RTP packets recorded per call
import type { MapReader } from '../../config/yaml-reader.js';

export interface TroubleshootConfig {
  maxCalls: number;
  maxBytes: number;
  maxOpenCalls: number;
  maxOpenBytes: number;
  ringMessages: number;
  maxRtpPackets: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_TROUBLESHOOT: TroubleshootConfig = {
  maxCalls: 200,
  maxBytes: 32 * MIB,
  maxOpenCalls: 5000,
  maxOpenBytes: 8 * MIB,
  ringMessages: 16384,
  maxRtpPackets: 6000,
};

export function readTroubleshoot(m: MapReader): TroubleshootConfig {
  const d = DEFAULT_TROUBLESHOOT;
  const out: TroubleshootConfig = {
    maxCalls: m.int('max_calls', d.maxCalls, 1, 100_000, 'calls'),
    maxBytes: m.int('max_mb', d.maxBytes / MIB, 1, 4096, 'MiB') * MIB,
    maxOpenCalls: m.int('max_open_calls', d.maxOpenCalls, 1, 1_000_000, 'calls'),
    maxOpenBytes: m.int('max_open_mb', d.maxOpenBytes / MIB, 1, 4096, 'MiB') * MIB,
    ringMessages: m.int('ring_messages', d.ringMessages, 1024, 1_048_576, 'messages'),
    maxRtpPackets: m.int('max_rtp_packets', d.maxRtpPackets, 0, 1_000_000, 'packets per call'),
  };
  m.done();
  return out;
}
