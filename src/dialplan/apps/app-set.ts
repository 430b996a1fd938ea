// Set(name=value) — set a channel variable. The whole data is one
// assignment (commas included), as Asterisk's Set. Inheritance prefixes
// _ and __ are accepted and dropped (there are no child channels to
// inherit here). Set(CALLERID(name)=...) / CALLERID(num) override the caller
// ID the dialplan sees; Set(TIMEOUT(digit)=5) / TIMEOUT(response) set the
// seconds Background/WaitExten wait for further digits / for the first one.
// Set(MESSAGE(body)=...) (also to, from, content-type) changes the message a
// MessageSend() sends (src/features/messaging/). Set(NAME=) clears the variable.
import type { DialplanApp } from '../app-types.js';

export const appSet: DialplanApp = {
  name: 'Set',
  synopsis: 'Set(name=value): set a channel variable',
  placesNoCall: true,
  async run(call, _args, data) {
    const eq = data.indexOf('=');
    if (eq <= 0) {
      call.log.warn('dialplan.set_syntax', { data: data.slice(0, 64), reason: 'expected name=value' });
      return;
    }
    let name = data
      .slice(0, eq)
      .trim()
      .replace(/^_{1,2}/, '');
    const value = data.slice(eq + 1);
    const fn = /^(CALLERID|TIMEOUT)\((num|name|digit|response)\)$/i.exec(name);
    const msg = /^MESSAGE\((to|from|body|content-type)\)$/i.exec(name);
    if (msg) {
      name = `MESSAGE(${msg[1]!.toLowerCase()})`;
    } else if (fn) {
      name = `${fn[1]!.toUpperCase()}(${fn[2]!.toLowerCase()})`;
      if (name.startsWith('TIMEOUT') && !(Number(value) > 0)) {
        call.log.warn('dialplan.set_bad_timeout', { name, expected: 'seconds greater than 0' });
        return;
      }
    } else if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
      call.log.warn('dialplan.set_bad_name', { name: name.slice(0, 64) });
      return;
    }
    if (value === '') call.vars.delete(name);
    else call.vars.set(name, value);
  },
};
