// Progress() — send 183 Session Progress (early media) without answering.
// Ringing() — send 180 Ringing.
import type { DialplanApp } from '../app-types.js';

export const appProgress: DialplanApp = {
  name: 'Progress',
  synopsis: 'Progress(): indicate progress (early media)',
  placesNoCall: true,
  async run(call) {
    await call.channel.progress();
  },
};

export const appRinging: DialplanApp = {
  name: 'Ringing',
  synopsis: 'Ringing(): indicate ringing',
  placesNoCall: true,
  async run(call) {
    await call.channel.ring();
  },
};
