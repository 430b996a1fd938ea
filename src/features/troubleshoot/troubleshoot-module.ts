// The troubleshoot module (issue 14, docs/troubleshooting.md): call traces
// and captures. It declares the `troubleshoot:` section (the trace store's
// limits) and the control commands trace, trace-list, trace-extension and
// pcap; in start() it gives the transport its SipTap and the recorder the
// relay's sessions, to tap a traced extension's RTP. It also declares the
// command-line side, `palisade trace` and `palisade pcap` (cli/), which talk
// to the running server through the control client (src/admin/).
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { LoadedConfig } from '../../security/config/load-config.js';
import { runPcap } from './cli/cmd-pcap.js';
import { runTrace } from './cli/cmd-trace.js';
import type { SipTap } from '../../transport/sip-tap.js';
import { createTroubleshoot, TROUBLESHOOT_COMMANDS, type TroubleshootFeature } from './index.js';
import type { RtpSessions } from './trace-recorder.js';
import type { CallEvent } from '../../core/call-events.js';
import { DEFAULT_TROUBLESHOOT, readTroubleshoot, type TroubleshootConfig } from './read-troubleshoot.js';

/** What the troubleshoot module needs of the running server (the host hands in a superset). */
export interface TroubleshootModuleServices {
  cfg: PalisadeConfig;
  /** every SIP message received and sent passes the tap (null: none) */
  transport: { tap: SipTap | null };
  /** the relay session behind an RTP port seen in SDP */
  media: RtpSessions;
  /** call phases: a Dial()'s outgoing legs are tied to the call that opened them (src/core/call-events.ts) */
  callEvents?: { onCall(fn: (e: CallEvent) => void): () => void };
  /** several workers: this one's index among `count` (its trace numbers) */
  workers?: { readonly index: number; readonly count: number };
}

export function troubleshootModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader, never, LoadedConfig>, TroubleshootModuleServices> {
  let feature: TroubleshootFeature | undefined;
  let transport: TroubleshootModuleServices['transport'] | undefined;
  let offCalls: (() => void) | undefined;
  const running = (): TroubleshootFeature => {
    if (!feature) throw new Error('call traces are not running');
    return feature;
  };
  return {
    name: 'troubleshoot',
    declare(d) {
      d.configSection('troubleshoot', (section) => readTroubleshoot(section));
      for (const name of TROUBLESHOOT_COMMANDS) d.command(name, (args) => running().commands[name](args));
      d.cli({
        name: 'trace',
        usage:
          '  trace CALL-ID|EXTENSION|#N [--messages] [--json] --config FILE\n                                 SIP ladder of a kept call (failed calls are kept; secrets redacted)\n  trace --list --config FILE     the kept calls and the traced extensions\n  trace --extension N --on [--payload]|--off --config FILE\n                                 keep every call of an extension (with its RTP) while on\n',
        run: (argv, env) => runTrace(argv, env),
      });
      d.cli({
        name: 'pcap',
        usage: "  pcap CALL-ID|EXTENSION|#N [--out FILE] --config FILE > call.pcapng\n                                 a kept call's SIP and RTP as pcapng (Wireshark, tshark)\n",
        run: runPcap,
      });
    },
    start(s) {
      // a configuration read without the host's sections (an embedding test) runs with the defaults
      const limits = (s.cfg.sections.troubleshoot as TroubleshootConfig | undefined) ?? DEFAULT_TROUBLESHOOT;
      const w = s.workers;
      feature = createTroubleshoot({
        ...limits,
        rtp: { sessionAt: (port) => s.media.sessionAt(port) },
        numbering: w && w.count > 1 ? { first: w.index + 1, step: w.count } : undefined,
      });
      transport = s.transport;
      transport.tap = feature.tap;
      const recorder = feature.recorder;
      offCalls = s.callEvents?.onCall((e) => {
        if (e.phase !== 'ringing' || !e.sipCallId || !e.legs) return;
        for (const leg of e.legs) recorder.relate(e.sipCallId, leg);
      });
      feature.start();
    },
    stop() {
      offCalls?.();
      if (transport && transport.tap === feature?.tap) transport.tap = null;
      feature?.stop();
    },
  };
}
