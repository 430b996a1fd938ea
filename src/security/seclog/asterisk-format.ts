// Security events in the line format of Asterisk's security log
// (res_security_log.c), so that fail2ban's stock `asterisk` filter and
// OSSEC/Wazuh's Asterisk rules read Palisade's log unchanged:
//
// [Nov 25 12:50:45] SECURITY[4242] res_security_log.c: SecurityEvent="InvalidPassword",EventTV="2026-11-25T12:50:45.123+0000",Severity="Error",Service="SIP",EventVersion="2",AccountID="1001",SessionID="abc@host",LocalAddress="IPV4/UDP/127.0.0.1/5060",RemoteAddress="IPV4/UDP/127.0.0.2/5060",Challenge="...",ReceivedChallenge="...",ReceivedHash=""
//
// Information elements appear in Asterisk's order (event, time, severity,
// service, version, account, session, local, remote, then the event's own).
// Values an attacker controls (account, Call-ID, user agent) have quotes,
// backslashes and control characters replaced: a crafted account name must
// not be able to inject a second RemoteAddress="..." that a log parser would
// then ban instead of the real source. The client's response hash is never
// written (Asterisk writes it as ReceivedHash; we leave it empty).
import type { SecurityEvent } from '../../core/security-event.js';
import type { Remote } from '../../transport/types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Asterisk's default log time stamp: "%b %e %T" in local time */
export function asteriskTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** EventTV: ISO 8601 with milliseconds and numeric zone, as Asterisk 12+ writes it */
export function eventTv(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** Asterisk's ast_sockaddr form for security events: IPV4/UDP/1.2.3.4/5060 */
export function asteriskAddress(r: Remote | undefined): string {
  if (!r) return 'IPV4/UDP/0.0.0.0/0';
  // a Remote holds a literal address: only IPv6 has a colon (no regex per line)
  return `${r.address.includes(':') ? 'IPV6' : 'IPV4'}/${r.transport.toUpperCase()}/${r.address}/${r.port}`;
}

/** a value safe inside "...": no quote, backslash, comma-quote trick or control character */
export function safeValue(v: string | number | boolean | undefined): string {
  const s = v === undefined ? '' : String(v);
  let out = '';
  for (let i = 0; i < s.length && i < 256; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c ? '_' : s[i];
  }
  return out;
}

const VERSION: Record<string, string> = { InvalidPassword: '2', ChallengeSent: '1', SuccessfulAuth: '1' };

export function formatAsteriskLine(ev: SecurityEvent, pid = process.pid): string {
  const f: Array<[string, string]> = [
    ['SecurityEvent', ev.type],
    ['EventTV', eventTv(ev.time)],
    ['Severity', ev.level >= 4 ? 'Error' : 'Informational'],
    ['Service', ev.service],
    ['EventVersion', VERSION[ev.type] ?? '1'],
  ];
  if (ev.account !== undefined) f.push(['AccountID', safeValue(ev.account)]);
  if (ev.sessionId !== undefined) f.push(['SessionID', safeValue(ev.sessionId)]);
  if (ev.local !== undefined || ev.remote !== undefined) f.push(['LocalAddress', asteriskAddress(ev.local)]);
  if (ev.remote !== undefined) f.push(['RemoteAddress', asteriskAddress(ev.remote)]);
  const nonce = ev.extra?.nonce;
  switch (ev.type) {
    case 'InvalidPassword':
      f.push(['Challenge', safeValue(nonce)], ['ReceivedChallenge', safeValue(nonce)], ['ReceivedHash', '']);
      break;
    case 'ChallengeSent':
      f.push(['Challenge', safeValue(nonce)]);
      break;
    case 'SuccessfulAuth':
      f.push(['UsingPassword', '1']);
      break;
    case 'RequestBadFormat':
    case 'RequestNotAllowed':
      f.push(['RequestType', safeValue(ev.extra?.method ?? '')]);
      if (ev.detail) f.push(['RequestParams', safeValue(ev.detail)]);
      break;
    case 'FailedACL':
      f.push(['ACLName', safeValue(ev.detail ?? '')]);
      break;
    case 'InvalidAccountID':
      break;
    default:
      if (ev.detail) f.push(['Detail', safeValue(ev.detail)]);
  }
  return `[${asteriskTimestamp(ev.time)}] SECURITY[${pid}] res_security_log.c: ${f.map(([k, v]) => `${k}="${v}"`).join(',')}`;
}
