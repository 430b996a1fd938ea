// Playback(file[&file...][,options]) — play prompts, not interruptible.
// Options: skip (do nothing if the channel is not answered), noanswer (play
// early media without answering). Sets PLAYBACKSTATUS to SUCCESS or FAILED.
import type { DialplanApp } from '../app-types.js';

export const appPlayback: DialplanApp = {
  name: 'Playback',
  synopsis: 'Playback(file[&file...][,options]): play audio files',
  placesNoCall: true,
  async run(call, args) {
    const files = (args[0] ?? '')
      .split('&')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    const opts = (args[1] ?? '').toLowerCase().split(/[|,]/);
    if (!call.channel.answered) {
      if (opts.includes('skip')) {
        call.vars.set('PLAYBACKSTATUS', 'SUCCESS');
        return;
      }
      if (!opts.includes('noanswer')) await call.channel.answer();
    }
    if (files.length === 0) {
      call.vars.set('PLAYBACKSTATUS', 'FAILED');
      return;
    }
    const r = await call.media.play(files, { interruptDigits: '' });
    call.vars.set('PLAYBACKSTATUS', r.completed ? 'SUCCESS' : 'FAILED');
  },
};
