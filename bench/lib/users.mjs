// The bench's user set and its password scheme. Kamailio's config
// (bench/kamailio/kamailio.cfg) derives the same password from the number,
// so both servers are loaded with identical credentials:
//   password = "Bk-" + md5hex(user) with the digits 0-9 mapped to g-p.
// The result is 35 characters with no digit at all, so it never contains the
// user's number and passes Palisade's strength rules.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const DIGIT_TO_LETTER = 'ghijklmnop';

/** @param {string} user */
export function benchPassword(user) {
  const hex = createHash('md5').update(user).digest('hex');
  let out = 'Bk-';
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    out += c >= 48 && c <= 57 ? DIGIT_TO_LETTER[c - 48] : hex[i];
  }
  return out;
}

/** Numbers first..last inclusive, as strings. */
export function userRange(first, last) {
  const out = [];
  for (let n = first; n <= last; n++) out.push(String(n));
  return out;
}

/**
 * SIPp injection file: user;[authentication ...][;peer]. The optional third
 * field is the callee for the call scenarios (test/sipp/call-*-uac.xml).
 * @param {string} path @param {string[]} users @param {string[]} [peers]
 */
export function writeSippCsv(path, users, peers) {
  const lines = ['SEQUENTIAL'];
  users.forEach((u, i) => {
    const auth = `[authentication username=${u} password=${benchPassword(u)}]`;
    lines.push(peers ? `${u};${auth};${peers[i % peers.length]}` : `${u};${auth}`);
  });
  writeFileSync(path, lines.join('\n') + '\n');
}

/**
 * Palisade `users import` CSV: number,secret,name,,no. No mailboxes: with one,
 * every REGISTER would also bring an unsolicited MWI NOTIFY, work Kamailio's
 * side of the comparison does not do (and figures taken before imports made
 * mailboxes did not include).
 */
export function writePalisadeCsv(path, users) {
  const lines = users.map((u) => `${u},${benchPassword(u)},Bench ${u},,no`);
  writeFileSync(path, lines.join('\n') + '\n');
}
