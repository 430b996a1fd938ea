// A kept call as text, like sngrep's call flow: one line per SIP message with
// its time, leg, direction, addresses and first line; the legs' Call-IDs
// first, so both halves of a bridged call read as one.
import type { CallTrace, TracedSip } from './trace-types.js';

function clock(t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

const addr = (e: { address: string; port: number }) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);

/** "INVITE sip:1500@host", "SIP/2.0 486 Busy Here" → "486 Busy Here", with (SDP) when a body is SDP */
export function firstLine(m: TracedSip): string {
  const nl = m.data.indexOf('\r\n');
  let line = m.data.toString('latin1', 0, nl < 0 ? Math.min(m.data.length, 200) : nl);
  if (line.startsWith('SIP/2.0 ')) line = line.slice(8);
  else line = line.replace(/ SIP\/2\.0$/, '');
  const head = m.data.toString('latin1', 0, Math.min(m.data.length, 4096)).toLowerCase();
  if (/\r\n(content-type|c)\s*:\s*application\/sdp/.test(head)) line += ' (SDP)';
  return line;
}

export interface LadderOptions {
  /** print each message's text after the ladder */
  messages?: boolean;
}

export function formatLadder(t: CallTrace, o: LadderOptions = {}): string {
  const out: string[] = [];
  out.push(`trace #${t.id}  ${clock(t.start)} .. ${clock(t.end)}  ${t.reason}`);
  t.legs.forEach((l, i) => {
    const elided = l.elided ? `  (${l.elided} messages elided from the middle)` : '';
    out.push(`  leg ${String.fromCharCode(65 + i)}  ${l.method}  Call-ID: ${l.callId}  users: ${l.users.join(', ') || '-'}${elided}`);
  });
  if (t.rtp.length) out.push(`  rtp: ${t.rtp.length} packets recorded${t.rtpDropped ? `, ${t.rtpDropped} not recorded` : ''}${t.rtpPayload ? ' (with payloads)' : ' (headers)'}`);
  out.push('');
  const rows = t.sip.map((m) => ({
    time: clock(m.t).slice(11),
    leg: String.fromCharCode(65 + m.leg),
    from: addr(m.src),
    dir: m.dir === 'in' ? 'recv' : 'sent',
    to: addr(m.dst),
    proto: m.transport.toUpperCase(),
    msg: firstLine(m),
  }));
  const wFrom = Math.max(4, ...rows.map((r) => r.from.length));
  const wTo = Math.max(2, ...rows.map((r) => r.to.length));
  out.push(`${'time'.padEnd(12)}  leg  dir   ${'from'.padEnd(wFrom)}     ${'to'.padEnd(wTo)}  proto  message`);
  for (const r of rows) out.push(`${r.time}  ${r.leg.padEnd(3)}  ${r.dir}  ${r.from.padEnd(wFrom)} --> ${r.to.padEnd(wTo)}  ${r.proto.padEnd(5)}  ${r.msg}`);
  if (o.messages) {
    for (const m of t.sip) {
      out.push('', `---- ${clock(m.t)}  leg ${String.fromCharCode(65 + m.leg)}  ${addr(m.src)} -> ${addr(m.dst)} ${m.transport.toUpperCase()}`);
      out.push(m.data.toString('utf8').replace(/\r\n/g, '\n').trimEnd());
    }
  }
  return out.join('\n') + '\n';
}
