// MessageSend(destination[,from]) — send the channel's message
// (${MESSAGE(body)}, ${MESSAGE(content-type)}) to an extension, as
// Asterisk's app_message. destination: 'sip:1002', 'pjsip:1002',
// 'sip:1002@host' or '1002'; from: an extension number or a URI whose user
// part is one (default: ${MESSAGE(from)}, else the caller ID). Works in the
// messaging context (answering a message) and in a call (a script telling
// someone something). Sets MESSAGE_SEND_STATUS to SUCCESS (delivered or
// queued for an offline extension), INVALID_URI (no such extension),
// INVALID_PROTOCOL (neither sip: nor pjsip:) or FAILURE.
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { OutgoingMessage, DeliveryOutcome } from './message-service.js';
import { MESSAGE_VARS } from './message-channel.js';

/** what the application needs of the running module */
export interface MessageSender {
  deliver(m: OutgoingMessage): Promise<DeliveryOutcome>;
  nameOf(ext: string): string | undefined;
}

/** the user part of 'sip:1002@host', 'pjsip:1002', '"Bob" <sip:1002@x>' or '1002'; null for another scheme */
export function extensionOf(uri: string): string | null {
  let s = uri.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) s = s.slice(lt + 1, s.indexOf('>', lt) > 0 ? s.indexOf('>', lt) : undefined);
  const m = /^(?:([a-z][a-z0-9+.-]*):)?([^@;>]*)/i.exec(s);
  if (!m) return null;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== '' && scheme !== 'sip' && scheme !== 'sips' && scheme !== 'pjsip') return null;
  // pjsip:ENDPOINT/sip:USER@host as Asterisk writes it: the user is after the slash
  const user = m[2]!.includes('/') ? m[2]!.slice(m[2]!.lastIndexOf('/') + 1).replace(/^sips?:/, '') : m[2]!;
  return user;
}

export function appMessageSend(sender: () => MessageSender | null): DialplanApp {
  return {
    name: 'MessageSend',
    synopsis: 'MessageSend(destination[,from]): send ${MESSAGE(body)} to an extension; sets MESSAGE_SEND_STATUS',
    async run(call, args) {
      const s = sender();
      const set = (v: string) => call.vars.set('MESSAGE_SEND_STATUS', v);
      if (!s) return void set('FAILURE');
      const to = extensionOf(args[0] ?? '');
      if (to === null) return void set('INVALID_PROTOCOL');
      if (to === '') return void set('INVALID_URI');
      const fromArg = (args[1] ?? '').trim();
      const from = (fromArg ? extensionOf(fromArg) : null) || call.vars.get(MESSAGE_VARS.from) || call.channel.callerIdNum;
      const body = call.vars.get(MESSAGE_VARS.body) ?? '';
      const m: OutgoingMessage = {
        to,
        from,
        fromName: s.nameOf(from) ?? '',
        contentType: call.vars.get(MESSAGE_VARS.contentType) ?? 'text/plain',
        body: Buffer.from(body, 'utf8'),
        at: Date.now(),
      };
      try {
        const r = await s.deliver(m);
        set(r === 'unknown' ? 'INVALID_URI' : r === 'dropped' ? 'FAILURE' : 'SUCCESS');
        call.log.info('dialplan.message_send', { channel: call.channel.name, to, from, outcome: r });
      } catch (err) {
        set('FAILURE');
        call.log.warn('dialplan.message_send_failed', { channel: call.channel.name, to, error: (err as Error).message });
      }
    },
  };
}

/** MESSAGE(to|from|body|content-type): the message of this channel, as Set(MESSAGE(...)=...) left it */
export const funcMessage: DialplanFunction = {
  name: 'MESSAGE',
  synopsis: 'MESSAGE(to|from|body|content-type): a field of the message being handled',
  read(env, raw) {
    const field = raw.trim().toLowerCase();
    const key =
      field === 'to' ? MESSAGE_VARS.to : field === 'from' ? MESSAGE_VARS.from : field === 'body' ? MESSAGE_VARS.body : field === 'content-type' ? MESSAGE_VARS.contentType : null;
    if (key === null) return '';
    return env.channel.vars.get(key) ?? '';
  },
};
