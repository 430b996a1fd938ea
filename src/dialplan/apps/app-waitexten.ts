// WaitExten([seconds[,options]]) — wait for the caller to type an
// extension of the current context. No digit within the time: go to the
// `t` extension, or hang up when there is none (as Asterisk). Option
// m[(class)] plays music on hold while waiting. Default 10 seconds.
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';
import { collectAndJump } from './collect-extension.js';

export const appWaitExten: DialplanApp = {
  name: 'WaitExten',
  synopsis: 'WaitExten([seconds[,options]]): wait for an extension to be dialled',
  async run(call, args) {
    // no argument: ${TIMEOUT(response)} if set, else 10 s (Asterisk's default)
    const response = Number(call.vars.get('TIMEOUT(response)'));
    const def = response > 0 ? Math.round(response * 1000) : 10_000;
    const ms = secondsToMs(args[0], def) || def;
    const opts = args[1] ?? '';
    const moh = /m(?:\(([^)]*)\))?/.exec(opts);
    let digit: string | null;
    if (moh) {
      const r = await call.media.musicOnHold(moh[1] || 'default', ms);
      digit = r.digit ?? null;
    } else digit = await call.media.waitDigit(ms);
    if (call.channel.hungUp) return 'hangup';
    if (digit !== null) return collectAndJump(call, digit);
    if (call.hasExten('t') && call.goto(['t', '1']) === null) return;
    call.log.info('dialplan.timeout', { context: call.context, reason: 'WaitExten timed out and there is no t extension' });
    return 'hangup';
  },
};
