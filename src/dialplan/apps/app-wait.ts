// Wait(seconds) — pause; fractions allowed (Wait(0.5)).
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';

export const appWait: DialplanApp = {
  name: 'Wait',
  synopsis: 'Wait(seconds): wait for the given number of seconds',
  placesNoCall: true,
  async run(call, args) {
    const ms = secondsToMs(args[0], 0);
    if (ms > 0 && !(await call.media.wait(ms))) return 'hangup';
  },
};
