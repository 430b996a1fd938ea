// SayDigits(digits) — say each digit. SayNumber(number[,gender]) — say a
// whole number ("forty-two"); the gender argument is accepted for
// compatibility (English has none).
import type { DialplanApp } from '../app-types.js';

export const appSayDigits: DialplanApp = {
  name: 'SayDigits',
  synopsis: 'SayDigits(digits): say the digits one by one',
  placesNoCall: true,
  async run(call, args) {
    const digits = (args[0] ?? '').replace(/[^0-9*#a-zA-Z]/g, '');
    if (!call.channel.answered) await call.channel.answer();
    if (digits !== '') await call.media.sayDigits(digits);
  },
};

export const appSayNumber: DialplanApp = {
  name: 'SayNumber',
  synopsis: 'SayNumber(number[,gender]): say a whole number',
  placesNoCall: true,
  async run(call, args) {
    const text = (args[0] ?? '').trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) {
      // Asterisk: "SayNumber requires an argument (number)" and the call goes on
      call.log.warn('dialplan.saynumber_not_a_number', { value: text.slice(0, 32) });
      return;
    }
    if (!call.channel.answered) await call.channel.answer();
    await call.media.sayNumber(Math.trunc(n));
  },
};
