// VoiceMail(mailbox[@context][&mailbox2...][,options]) — Asterisk's
// app_voicemail "leave a message" side. Options: u = unavailable greeting
// (the default), b = busy greeting, s = skip the "leave your message after
// the tone" instructions. Sets VMSTATUS to SUCCESS, USEREXIT or FAILED.
import { copyFile } from 'node:fs/promises';
import type { MediaCall, PlayResult } from '../../channel/channel-media.js';
import type { MailboxConfig } from '../../config/config-types.js';
import type { VoicemailService } from './voicemail-service.js';
import { PROMPTS } from './prompts.js';

/** a recording shorter than this is a hang-up during the greeting, not a message */
const MIN_MESSAGE_MS = 1000;

export interface VoicemailApp {
  readonly name: string;
  run(call: MediaCall, args: string | readonly string[]): Promise<void>;
}

export function splitArgs(args: string | readonly string[]): string[] {
  return typeof args === 'string' ? (args === '' ? [] : args.split(',').map((a) => a.trim())) : args.map((a) => a.trim());
}

export function createVoiceMailApp(vm: VoicemailService): VoicemailApp {
  return {
    name: 'VoiceMail',
    async run(call, rawArgs) {
      const { channel: ch, media } = call;
      const [boxesArg = '', options = ''] = splitArgs(rawArgs);
      const boxes: MailboxConfig[] = [];
      for (const spec of boxesArg.split('&')) {
        const b = spec.trim() === '' ? undefined : vm.mailbox(spec.trim());
        if (b) boxes.push(b);
      }
      if (boxes.length === 0) {
        ch.vars.set('VMSTATUS', 'FAILED');
        return;
      }
      if (!ch.answered) await ch.answer();
      const first = boxes[0]!;
      for (const b of boxes) {
        if (await vm.isFull(b)) {
          await media.play([PROMPTS.mailboxFull]);
          ch.vars.set('VMSTATUS', 'FAILED');
          return;
        }
      }

      // The greeting: the owner's own recording, else one generated from
      // the prompt set ("the person at extension 7 5 6 is unavailable").
      const busy = options.includes('b');
      const kind = busy ? 'busy' : 'unavail';
      let r: PlayResult;
      if (await vm.store.hasGreeting(first, kind)) {
        r = await media.play([vm.store.greetingPath(first, kind)], { interruptDigits: '#' });
      } else {
        const tail = busy ? PROMPTS.isOnPhone : PROMPTS.isUnavailable;
        if (await vm.store.hasGreeting(first, 'name')) {
          r = await media.play([vm.store.greetingPath(first, 'name'), tail], { interruptDigits: '#' });
        } else {
          r = await media.play([PROMPTS.thePersonAt], { interruptDigits: '#' });
          if (r.completed && !r.digit) r = await media.sayDigits(first.number, { interruptDigits: '#' });
          if (r.completed && !r.digit) r = await media.play([tail], { interruptDigits: '#' });
        }
      }
      if (!r.completed || ch.hungUp) {
        ch.vars.set('VMSTATUS', 'USEREXIT');
        return;
      }
      if (!options.includes('s') && !r.digit) {
        r = await media.play([PROMPTS.leaveMessage], { interruptDigits: '#' });
        if (!r.completed) {
          ch.vars.set('VMSTATUS', 'USEREXIT');
          return;
        }
      }

      const tmp = await vm.store.tempPath(first);
      const rec = await media.record({
        path: tmp,
        maxMs: vm.cfg.maxMessageSeconds * 1000,
        silenceMs: vm.cfg.maxSilenceSeconds * 1000,
        stopDigits: '#',
        beep: true,
      });
      if (rec.durationMs < MIN_MESSAGE_MS) {
        await vm.discard(tmp);
        ch.vars.set('VMSTATUS', rec.reason === 'hangup' ? 'USEREXIT' : 'FAILED');
        if (!ch.hungUp) await media.play([PROMPTS.goodbye]);
        return;
      }
      // several mailboxes (756&757) each get their own copy
      for (const [i, b] of boxes.entries()) {
        let path = tmp;
        if (i < boxes.length - 1) {
          path = await vm.store.tempPath(b);
          await copyFile(tmp, path);
        }
        await vm.deposit(b, { tmpWav: path, callerIdNum: ch.callerIdNum, callerIdName: ch.callerIdName, channel: ch.name });
      }
      ch.vars.set('VMSTATUS', 'SUCCESS');
      if (!ch.hungUp) await media.play([PROMPTS.messageSaved, PROMPTS.goodbye]);
    },
  };
}
