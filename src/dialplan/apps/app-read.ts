// Read(variable[,filename[&filename...][,maxdigits[,options[,attempts[,timeout]]]]])
// — play a prompt and read digits into a variable. maxdigits 0 or empty
// means "until #" (at most 255); '#' always ends input. attempts: how many
// times to replay the prompt when nothing is entered (default 1). timeout:
// seconds to wait for each digit (default 10). Options: s (skip when not
// answered), n (read without answering). The digit that interrupts the
// prompt is the first digit read. Sets READSTATUS: OK, TIMEOUT, HANGUP,
// SKIPPED or ERROR.
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';

export const appRead: DialplanApp = {
  name: 'Read',
  synopsis: 'Read(var[,file[,maxdigits[,options[,attempts[,timeout]]]]]): read DTMF digits into a variable',
  placesNoCall: true,
  async run(call, args) {
    const name = (args[0] ?? '').trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      call.log.warn('dialplan.read_bad_variable', { variable: name });
      call.vars.set('READSTATUS', 'ERROR');
      return;
    }
    const files = (args[1] ?? '')
      .split('&')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    const maxArg = Number((args[2] ?? '').trim() || 0);
    const maxDigits = Number.isInteger(maxArg) && maxArg > 0 ? Math.min(maxArg, 255) : 0;
    const opts = args[3] ?? '';
    const attemptsArg = Number((args[4] ?? '').trim() || 1);
    const attempts = Number.isInteger(attemptsArg) && attemptsArg > 0 ? Math.min(attemptsArg, 20) : 1;
    const timeoutMs = secondsToMs(args[5], 10_000) || 10_000;
    call.vars.set(name, '');
    if (!call.channel.answered) {
      if (opts.includes('s')) {
        call.vars.set('READSTATUS', 'SKIPPED');
        return;
      }
      if (!opts.includes('n')) await call.channel.answer();
    }
    for (let i = 0; i < attempts; i++) {
      let initial = '';
      if (files.length > 0) {
        const r = await call.media.play(files, { interruptDigits: '0123456789*#' });
        if (!r.completed && call.channel.hungUp) break;
        if (r.digit) initial = r.digit;
      }
      if (initial === '#') {
        call.vars.set('READSTATUS', 'OK');
        return;
      }
      let digits = initial;
      if (maxDigits === 0 || initial.length < maxDigits) {
        digits = await call.media.readDigits({ maxDigits, timeoutMs, terminators: '#', initial });
      }
      if (call.channel.hungUp) break;
      if (digits !== '') {
        call.vars.set(name, digits);
        call.vars.set('READSTATUS', 'OK');
        return;
      }
    }
    call.vars.set('READSTATUS', call.channel.hungUp ? 'HANGUP' : 'TIMEOUT');
    if (call.channel.hungUp) return 'hangup';
  },
};
