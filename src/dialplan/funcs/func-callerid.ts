// CALLERID(num|name|all) — the caller's number and display name.
// ${CALLERID(all)} is `"Name" <num>` as Asterisk prints it.
import type { DialplanFunction } from './func-types.js';

export const funcCallerId: DialplanFunction = {
  name: 'CALLERID',
  synopsis: 'CALLERID(num|name|all): the caller ID of the channel',
  read(env, raw) {
    const what = raw.trim().toLowerCase();
    const num = env.getVar('CALLERID(num)') || env.channel.callerIdNum;
    const name = env.getVar('CALLERID(name)') || env.channel.callerIdName;
    if (what === 'num' || what === 'number') return num;
    if (what === 'name') return name;
    if (what === 'all') return name ? `"${name}" <${num}>` : `<${num}>`;
    return '';
  },
};
