// Writes an Sdp back as text: CRLF line ends (RFC 8866 §5), fields in the
// order RFC 8866 §5 prescribes. Lines kept verbatim keep their relative
// order; the structured c= goes after i=/u=/e=/p= and before b=/t=.
import type { Sdp, SdpAttribute, SdpConnection, SdpLine, SdpMedia } from './sdp-types.js';

export function serializeSdp(sdp: Sdp): string {
  const o = sdp.origin;
  let out = `v=${sdp.version}\r\no=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}\r\ns=${sdp.sessionName}\r\n`;
  out += section(sdp.connection, sdp.lines, sdp.attributes);
  for (const m of sdp.media) out += mediaLine(m) + section(m.connection, m.lines, m.attributes);
  return out;
}

function mediaLine(m: SdpMedia): string {
  let line = `m=${m.type} ${m.port}`;
  if (m.portCount !== null) line += `/${m.portCount}`;
  line += ` ${m.proto}`;
  for (const f of m.formats) line += ` ${f}`;
  return line + '\r\n';
}

/** Lines that RFC 8866 §5 places before c= in a section. */
function beforeConnection(type: string): boolean {
  return type === 'i' || type === 'u' || type === 'e' || type === 'p';
}

function section(conn: SdpConnection | null, lines: SdpLine[], attrs: SdpAttribute[]): string {
  let out = '';
  let i = 0;
  while (i < lines.length && beforeConnection(lines[i].type)) {
    out += `${lines[i].type}=${lines[i].value}\r\n`;
    i++;
  }
  if (conn !== null) out += `c=${conn.netType} ${conn.addrType} ${conn.address}${conn.suffix}\r\n`;
  for (; i < lines.length; i++) out += `${lines[i].type}=${lines[i].value}\r\n`;
  for (const a of attrs) out += a.value === null ? `a=${a.name}\r\n` : `a=${a.name}:${a.value}\r\n`;
  return out;
}
