// NoOp(text) — do nothing (its argument shows in the path trace and logs).
// Verbose([level,]message) and Log(level,message) write the message to the
// structured log at info (Verbose, Log NOTICE/VERBOSE/DEBUG) or warn
// (Log WARNING/ERROR) level, subsystem "dialplan".
import type { DialplanApp } from '../app-types.js';

export const appNoOp: DialplanApp = {
  name: 'NoOp',
  synopsis: 'NoOp([text]): do nothing',
  placesNoCall: true,
  async run() {},
};

export const appVerbose: DialplanApp = {
  name: 'Verbose',
  synopsis: 'Verbose([level,]message): log a message',
  placesNoCall: true,
  async run(call, args, data) {
    const level = args.length > 1 && /^\d+$/.test(args[0]!.trim()) ? Number(args[0]) : 0;
    const message = args.length > 1 && /^\d+$/.test(args[0]!.trim()) ? data.slice(data.indexOf(',') + 1) : data;
    call.log.info('dialplan.verbose', { level, message: message.slice(0, 500), channel: call.channel.name });
  },
};

export const appLog: DialplanApp = {
  name: 'Log',
  synopsis: 'Log(level,message): log a message at ERROR, WARNING, NOTICE, DEBUG or VERBOSE',
  placesNoCall: true,
  async run(call, args, data) {
    const level = (args[0] ?? '').trim().toUpperCase();
    const message = data.slice(data.indexOf(',') + 1).slice(0, 500);
    const fields = { level, message, channel: call.channel.name };
    if (level === 'ERROR' || level === 'WARNING') call.log.warn('dialplan.log', fields);
    else call.log.info('dialplan.log', fields);
  },
};
