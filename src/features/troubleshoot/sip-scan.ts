// What the trace recorder needs from a SIP message on the packet path, found
// by an index scan of the bytes (no parse, no regular expression): the first
// line, the Call-ID and the CSeq method. Header names are matched without
// regard to case and in their compact forms (RFC 3261 §7.3.3: i = Call-ID).

export interface SipSummary {
  callId: string;
  isRequest: boolean;
  /** request method, '' for a response */
  method: string;
  /** response status, 0 for a request */
  status: number;
  /** the method of the CSeq header ('' when missing) */
  cseqMethod: string;
  /** offset of the body (after the blank line), data.length when none; -1: not looked for (bodyOffset finds it) */
  bodyStart: number;
}

const CR = 13;
const LF = 10;

/** end of the line starting at `i` (index of its CR LF or bare LF, or the end); indexOf is native */
function lineEnd(b: Buffer, i: number): number {
  const lf = b.indexOf(LF, i);
  const e = lf < 0 ? b.length : lf;
  return e > i && b[e - 1] === CR ? e - 1 : e;
}

/** index after the line break at `i` */
function nextLine(b: Buffer, i: number): number {
  if (b[i] === CR) i++;
  if (b[i] === LF) i++;
  return i;
}

/** whether b[from, to) equals `name` (lower-case ASCII) ignoring case */
function nameIs(b: Buffer, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let k = 0; k < name.length; k++) if ((b[from + k]! | 0x20) !== name.charCodeAt(k)) return false;
  return true;
}

function trimmed(b: Buffer, from: number, to: number): string {
  while (from < to && (b[from] === 32 || b[from] === 9)) from++;
  while (to > from && (b[to - 1] === 32 || b[to - 1] === 9)) to--;
  return b.toString('latin1', from, to);
}

/** null when the bytes are not shaped like a SIP message with a Call-ID */
export function scanSip(b: Buffer): SipSummary | null {
  const firstEnd = lineEnd(b, 0);
  if (firstEnd < 8) return null;
  let isRequest = true;
  let method = '';
  let status = 0;
  // "SIP/2.0 200 OK"
  if (b[0] === 0x53 && b[1] === 0x49 && b[2] === 0x50 && b[3] === 0x2f) {
    isRequest = false;
    const sp = b.indexOf(32, 0);
    if (sp < 0 || sp + 4 > firstEnd) return null;
    status = (b[sp + 1]! - 48) * 100 + (b[sp + 2]! - 48) * 10 + (b[sp + 3]! - 48);
    if (!(status >= 100 && status <= 699)) return null;
  } else {
    const sp = b.indexOf(32, 0);
    if (sp <= 0 || sp > firstEnd) return null;
    method = b.toString('latin1', 0, sp);
  }
  let callId = '';
  let cseqMethod = '';
  let i = nextLine(b, firstEnd);
  const n = b.length;
  while (i < n) {
    const end = lineEnd(b, i);
    if (end === i) return callId ? { callId, isRequest, method, status, cseqMethod, bodyStart: nextLine(b, i) } : null;
    // only Call-ID (i) and CSeq matter: other lines are passed over on their first letter
    const c0 = b[i]! | 0x20;
    const colon = c0 === 0x63 || c0 === 0x69 ? b.indexOf(58, i) : -1;
    if (colon > i && colon < end) {
      let nameEnd = colon;
      while (nameEnd > i && (b[nameEnd - 1] === 32 || b[nameEnd - 1] === 9)) nameEnd--;
      if (nameIs(b, i, nameEnd, 'call-id') || nameIs(b, i, nameEnd, 'i')) callId = trimmed(b, colon + 1, end);
      else if (nameIs(b, i, nameEnd, 'cseq')) {
        const v = trimmed(b, colon + 1, end);
        const sp = v.lastIndexOf(' ');
        cseqMethod = sp < 0 ? '' : v.slice(sp + 1).trim();
      }
    }
    i = nextLine(b, end);
  }
  return callId ? { callId, isRequest, method, status, cseqMethod, bodyStart: n } : null;
}

/** offset of the body: after the first blank line (CRLF CRLF, or a bare LF LF), data.length when none */
export function bodyOffset(b: Buffer): number {
  const crlf = b.indexOf('\r\n\r\n');
  const lf = b.indexOf('\n\n');
  if (crlf < 0) return lf < 0 ? b.length : lf + 2;
  return lf >= 0 && lf < crlf ? lf + 2 : crlf + 4;
}
