// `palisade pcap CALL-ID|EXTENSION|#N > call.pcapng` (or --out FILE): a kept
// call's SIP and RTP as a pcapng file for Wireshark or tshark
// (src/features/troubleshoot/call-pcap.ts says how it is made).
import { writeFileSync } from 'node:fs';
import { parseCommandArgs, UsageError } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import type { CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';

const USAGE = 'usage: palisade pcap CALL-ID|EXTENSION|#N [--out FILE] --config FILE   (writes pcapng to stdout otherwise)\n';

export async function runPcap(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS, out: 'string' }, USAGE, 1);
  const key = positionals[0];
  if (key === undefined) throw new UsageError('which call? a Call-ID, an extension (its newest kept call) or #N from palisade trace --list', USAGE);
  if (values.out === undefined && process.stdout.isTTY) throw new UsageError('a capture is binary: redirect it (> call.pcapng) or give --out FILE', USAGE);
  const r = (await askServer(values, env.loadConfig, 'pcap', { call: key }, 30_000)) as { pcapng: string; sip: number; rtp: number; call_ids: string[] };
  const file = Buffer.from(r.pcapng, 'base64');
  if (values.out !== undefined) writeFileSync(values.out, file);
  else await new Promise<void>((resolve, reject) => process.stdout.write(file, (err) => (err ? reject(err) : resolve())));
  process.stderr.write(`${r.sip} SIP messages, ${r.rtp} RTP packets (Call-IDs ${r.call_ids.join(', ')})${values.out ? ` written to ${values.out}` : ''}\n`);
  return 0;
}
