// Echo([seconds]) — the caller hears its own audio back, until it hangs up or
// the optional time runs out; answers first when the call is still ringing.
// The media round trip test of Asterisk's Echo(); the channel bench uses it.
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';

export const appEcho: DialplanApp = {
  name: 'Echo',
  synopsis: 'Echo([seconds]): send the caller its own audio back (until hangup, or for the given time)',
  placesNoCall: true,
  async run(call, args) {
    const ch = call.channel;
    if (!ch.answered) await ch.answer();
    if (!(await call.media.echo(secondsToMs(args[0], 0)))) return 'hangup';
  },
};
