// Troubleshooting built in (issue 14), the signalling part: call traces and
// captures. A module: it gives the transport a SipTap, the relay sessions an
// RTP tap when a traced extension's call starts, and the control socket four
// commands (`palisade trace`, `palisade pcap`, src/cli/cmd-trace.ts and
// cmd-pcap.ts). docs/troubleshooting.md describes what is kept and why.
// troubleshoot-module.ts declares it to the host.
import type { CommandHandler } from '../../core/module.js';
import type { SipTap } from '../../transport/sip-tap.js';
import { ExtensionTraces } from './extension-traces.js';
import { TraceRecorder, type RtpSessions, type TraceRecorderOptions } from './trace-recorder.js';
import { TraceStore } from './trace-store.js';
import { formatLadder } from './ladder.js';
import { callPcap } from './call-pcap.js';
import type { CallTrace } from './trace-types.js';
import { DEFAULT_TROUBLESHOOT } from './read-troubleshoot.js';

export type { CallTrace } from './trace-types.js';
export { TraceStore } from './trace-store.js';
export { TraceRecorder } from './trace-recorder.js';
export { ExtensionTraces } from './extension-traces.js';

export interface TroubleshootOptions extends Partial<Omit<TraceRecorderOptions, 'store' | 'extensions' | 'rtp'>> {
  /** calls kept (default 200; troubleshoot.max_calls) */
  maxCalls?: number;
  /** bytes kept in all (default 32 MiB; troubleshoot.max_mb) */
  maxBytes?: number;
  /** the RTP relay, to capture traced extensions' media */
  rtp?: RtpSessions;
  /** this worker's trace numbers (TraceStoreOptions.numbering) */
  numbering?: { first: number; step: number };
}

/** the control commands, in the host's command table (troubleshoot-module.ts) */
export const TROUBLESHOOT_COMMANDS = ['trace', 'trace-list', 'trace-extension', 'pcap'] as const;
export type TroubleshootCommand = (typeof TROUBLESHOOT_COMMANDS)[number];

export interface TroubleshootFeature {
  /** for TransportLayer.tap */
  readonly tap: SipTap;
  /** control commands: trace, trace-list, trace-extension, pcap */
  readonly commands: Record<TroubleshootCommand, CommandHandler>;
  readonly store: TraceStore;
  readonly recorder: TraceRecorder;
  readonly extensions: ExtensionTraces;
  start(): void;
  stop(): void;
}

function str(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new Error(`"${name}" is required`);
  return v;
}

function summary(t: CallTrace): Record<string, unknown> {
  return {
    id: t.id,
    start: new Date(t.start).toISOString(),
    users: [...new Set(t.legs.flatMap((l) => l.users))].join(','),
    call_ids: t.legs.map((l) => l.callId).join(' '),
    reason: t.reason,
    sip: t.sip.length,
    rtp: t.rtp.length,
  };
}

export function createTroubleshoot(o: TroubleshootOptions = {}): TroubleshootFeature {
  const store = new TraceStore({ maxCalls: o.maxCalls ?? DEFAULT_TROUBLESHOOT.maxCalls, maxBytes: o.maxBytes ?? DEFAULT_TROUBLESHOOT.maxBytes, numbering: o.numbering });
  const extensions = new ExtensionTraces();
  const recorder = new TraceRecorder({ ...o, store, extensions, rtp: o.rtp });
  const find = (args: Record<string, unknown>): CallTrace => {
    const key = str(args, 'call');
    const t = store.find(key);
    if (!t) throw new Error(`no trace kept for "${key}" (failed calls are kept; trace an extension with: palisade trace --extension N --on)`);
    return t;
  };
  const commands: Record<TroubleshootCommand, CommandHandler> = {
    trace: (args) => {
      const t = find(args);
      // `summary`: which call it is, without the ladder (a lookup across workers asks this first)
      if (args.summary === true) return summary(t);
      return { ...summary(t), legs: t.legs, text: formatLadder(t, { messages: args.messages === true }) };
    },
    'trace-list': () => ({
      traces: store.list().map(summary),
      extensions: extensions.list().map((e) => ({ extension: e.extension, payload: e.payload, since: new Date(e.since).toISOString() })),
      store: store.stats(),
      recorder: recorder.stats(),
    }),
    'trace-extension': (args) => {
      const extension = str(args, 'extension');
      if (args.on === true) {
        const m = extensions.on(extension, args.payload === true);
        return { extension, tracing: true, payload: m.payload };
      }
      return { extension, tracing: false, was: extensions.off(extension) };
    },
    pcap: (args) => {
      const t = find(args);
      const p = callPcap(t);
      return { id: t.id, call_ids: t.legs.map((l) => l.callId), sip: p.sipPackets, rtp: p.rtpPackets, pcapng: p.file.toString('base64') };
    },
  };
  return {
    tap: recorder,
    commands,
    store,
    recorder,
    extensions,
    start: () => recorder.start(),
    stop: () => recorder.stop(),
  };
}
