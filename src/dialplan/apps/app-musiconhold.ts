// MusicOnHold([class[,duration]]) — play music on hold of a class
// ('default' when empty) for `duration` seconds, or until hang-up when
// no duration is given.
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';

export const appMusicOnHold: DialplanApp = {
  name: 'MusicOnHold',
  synopsis: 'MusicOnHold([class[,duration]]): play music on hold',
  placesNoCall: true,
  async run(call, args) {
    const cls = (args[0] ?? '').trim() || 'default';
    const ms = secondsToMs(args[1], 0);
    if (!call.channel.answered) await call.channel.answer();
    await call.media.musicOnHold(cls, ms);
    if (call.channel.hungUp) return 'hangup';
  },
};
