// The voicemail feature's boundary: main.ts builds it with createVoicemail()
// and gets the service, the MWI event package (registered with the event
// server it hands in), the two dialplan applications and the admin
// commands, so the composition root only wires callbacks.
import { copyFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { MediaCall } from '../../channel/channel-media.js';
import type { VoicemailConfig } from '../../config/config-types.js';
import type { Logger } from '../../observability/logger.js';
import type { SecurityEventSink } from '../../core/security-event.js';
import type { PinOutcomeSink } from '../../core/pin-outcome.js';
import { createVoiceMailApp, type VoicemailApp } from './app-voicemail.js';
import { createVoiceMailMainApp } from './app-voicemail-main.js';
import type { EventRegistry } from '../../sip/events/index.js';
import { MwiPackage } from './mwi.js';
import { VoicemailService, type MailQueue } from './voicemail-service.js';
import { readWavInfo } from './wav-info.js';

export { VoicemailService, type MailQueue, type VoicemailMail } from './voicemail-service.js';
export { MwiPackage, summaryBody } from './mwi.js';
export type { VoicemailApp } from './app-voicemail.js';
export { PROMPTS } from './prompts.js';

export interface VoicemailFeature {
  service: VoicemailService;
  mwi: MwiPackage;
  apps: VoicemailApp[];
  /** control-socket commands (voicemail-*); undefined when cmd is not one of ours */
  command(cmd: string, args: Record<string, unknown>): Promise<unknown> | undefined;
  start(): Promise<void>;
  stop(): void;
}

/**
 * The applications in the shape the dialplan's registerApp(name, impl)
 * takes (src/dialplan/app-registry.ts): run(call, args) with call.channel
 * and call.media.
 * They must be registered before extensions.conf is parsed (the parser
 * refuses unknown applications), which is before the feature exists:
 * `feature` is read at call time. A null feature (`palisade check`, which
 * runs no calls) makes a call fail with VMSTATUS=FAILED.
 */
export function voicemailDialplanApps(feature: () => VoicemailFeature | null): Array<{
  name: string;
  synopsis: string;
  placesNoCall: true;
  run(call: MediaCall, args: string[]): Promise<void>;
}> {
  const SYNOPSIS: Record<string, string> = {
    VoiceMail: 'Leave a voicemail message: VoiceMail(mailbox[@context][&mailbox2...][,u|b|s])',
    VoiceMailMain: 'Check voicemail messages: VoiceMailMain([mailbox][@context])',
  };
  return ['VoiceMail', 'VoiceMailMain'].map((name) => ({
    name,
    synopsis: SYNOPSIS[name]!,
    // a message left or heard: no call out, no jump (no operator exit)
    placesNoCall: true as const,
    run: async (call: MediaCall, args: string[]) => {
      const f = feature();
      if (!f) {
        call.channel.vars.set('VMSTATUS', 'FAILED');
        return;
      }
      await f.apps.find((a) => a.name === name)!.run(call, args);
    },
  }));
}

export interface VoicemailDeps {
  mail: MailQueue | null;
  log: Logger;
  security?: SecurityEventSink;
  /** VoiceMailMain's logins, each with the caller's address: the IDS, the security log, reputation */
  pinOutcome?: PinOutcomeSink;
  extensionEmail?: (number: string) => string | null;
  /** the RFC 6665 event server that serves MWI (message-summary) */
  events: EventRegistry;
  /** for Message-Account in the summary: sip:MAILBOX@DOMAIN */
  domain: string;
}

export function createVoicemail(cfg: VoicemailConfig, d: VoicemailDeps): VoicemailFeature {
  const service = new VoicemailService(cfg, d.mail, d.log, d.extensionEmail);
  const mwi = new MwiPackage(
    {
      domain: d.domain,
      maxExpires: cfg.mwiMaxExpires,
      unsolicited: cfg.mwiUnsolicited,
      log: d.log,
      // an extension's mailbox is the one with its number in [default]
      mailboxOf: (user) => service.mailbox(user),
      counts: (b) => service.counts(b),
    },
    d.events,
  );
  d.events.register(mwi);
  service.onChange((box) => void mwi.onMailboxChange(box));
  const apps = [createVoiceMailApp(service), createVoiceMailMainApp(service, d.pinOutcome)];

  const boxArg = (args: Record<string, unknown>) => {
    const spec = typeof args.mailbox === 'string' ? args.mailbox : '';
    const box = service.mailbox(spec);
    if (!box) throw new Error(`no mailbox "${spec}"; expected MAILBOX[@CONTEXT] from voicemail.conf`);
    return box;
  };

  const commands: Record<string, (args: Record<string, unknown>) => Promise<unknown>> = {
    // every mailbox with its counts (palisade voicemail list)
    'voicemail-list': async () =>
      Promise.all(
        service.mailboxes().map(async (b) => {
          const c = await service.counts(b);
          return { mailbox: `${b.number}@${b.context}`, name: b.name, email: b.email, new: c.newCount, old: c.oldCount };
        }),
      ),
    'voicemail-messages': async (args) => {
      const box = boxArg(args);
      return (await service.messages(box)).map((m) => ({ id: m.id, folder: m.folder, from: m.callerIdNum, time: new Date(m.origTime).toISOString(), duration_ms: m.durationMs }));
    },
    // leave a message from a WAV file (announcements to a mailbox, tests, imports)
    'voicemail-deposit': async (args) => {
      const box = boxArg(args);
      const wav = typeof args.wav === 'string' ? args.wav : '';
      if (!isAbsolute(wav)) throw new Error('wav must be an absolute path to an 8 kHz mono WAV file');
      const info = readWavInfo(wav);
      if (!info) throw new Error(`${wav} is not a WAV file`);
      const tmp = await service.store.tempPath(box);
      await copyFile(wav, tmp);
      const m = await service.deposit(box, {
        tmpWav: tmp,
        callerIdNum: typeof args.callerid === 'string' ? args.callerid.slice(0, 32) : '',
        callerIdName: typeof args.callername === 'string' ? args.callername.slice(0, 64) : '',
        channel: 'admin',
      });
      return { id: m.id, duration_ms: m.durationMs };
    },
    'voicemail-delete': async (args) => {
      const box = boxArg(args);
      const m = await service.store.find(box, String(args.id ?? ''));
      if (!m) throw new Error(`no message "${String(args.id ?? '')}" in ${box.number}@${box.context}`);
      await service.remove(m);
      return { deleted: m.id };
    },
    'voicemail-mark-old': async (args) => {
      const box = boxArg(args);
      const m = await service.store.find(box, String(args.id ?? ''));
      if (!m) throw new Error(`no message "${String(args.id ?? '')}" in ${box.number}@${box.context}`);
      const moved = await service.markOld(m);
      return { id: moved.id, folder: moved.folder };
    },
  };

  return {
    service,
    mwi,
    apps,
    command: (cmd, args) => commands[cmd]?.(args),
    start: () => service.start(),
    stop: () => {},
  };
}
