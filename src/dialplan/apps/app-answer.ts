// Answer([delay]) — answer the call; wait `delay` milliseconds afterwards
// (Asterisk: gives the far end time to open its audio path).
import type { DialplanApp } from '../app-types.js';

export const appAnswer: DialplanApp = {
  name: 'Answer',
  synopsis: 'Answer([delay-ms]): answer the channel',
  placesNoCall: true,
  async run(call, args) {
    if (!call.channel.answered) await call.channel.answer();
    const delay = Number(args[0] ?? '');
    if (Number.isFinite(delay) && delay > 0) await call.media.wait(Math.min(delay, 5000));
  },
};
