// Background(file[&file...][,options[,langoverride[,context]]]) — play
// prompts while listening for digits; a digit stops playback and the caller
// is taken to the extension typed (see collect-extension.ts). Options:
// s (skip when not answered), n (do not answer), m (stop only on a digit
// that is a one-digit extension). Sets BACKGROUNDSTATUS.
import type { DialplanApp } from '../app-types.js';
import { collectAndJump } from './collect-extension.js';

export const appBackground: DialplanApp = {
  name: 'Background',
  synopsis: 'Background(file[&file...][,options[,lang[,context]]]): play while waiting for an extension',
  async run(call, args) {
    const files = (args[0] ?? '')
      .split('&')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    const opts = args[1] ?? '';
    const ctx = (args[3] ?? '').trim();
    if (!call.channel.answered) {
      if (opts.includes('s')) {
        call.vars.set('BACKGROUNDSTATUS', 'SUCCESS');
        return;
      }
      if (!opts.includes('n')) await call.channel.answer();
    }
    const r = await call.media.play(files, { interruptDigits: '0123456789*#' });
    call.vars.set('BACKGROUNDSTATUS', r.completed || r.digit ? 'SUCCESS' : 'FAILED');
    if (!r.digit) return;
    // the 4th argument names the context the typed extension is looked up in
    const target = ctx !== '' ? ctx : call.context;
    if (opts.includes('m') && !(call.hasExten(r.digit, target) && !call.canMatchMore(r.digit, target))) return;
    return collectAndJump(call, r.digit, target);
  },
};
