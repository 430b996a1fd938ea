// SDP parser (RFC 8866 §5; RFC 4566 grammar is the same for what we read).
// Liberal in what it accepts (LF-only line ends, blank lines, unknown line
// types are kept), strict about the lines whose meaning we rely on: v=, o=,
// c= and m= must be well formed, or the B2BUA could relay media to the wrong
// place. A description that fails here is answered with 488 by the caller.
import type { Sdp, SdpAttribute, SdpConnection, SdpMedia, SdpOrigin } from './sdp-types.js';
import { PalisadeError } from '../../core/errors.js';

export class SdpParseError extends PalisadeError {
  declare readonly code: 'PAL_ERR_SDP_PARSE';
  constructor(
    message: string,
    /** 1-based line number in the description, 0 when not tied to a line */
    readonly line: number,
  ) {
    super('PAL_ERR_SDP_PARSE', line > 0 ? `${message} (SDP line ${line})` : message);
    this.name = 'SdpParseError';
  }
}

/** Largest SDP we accept: far above any real offer, small enough to bound work. */
const MAX_SDP_BYTES = 65536;

export function parseSdp(text: string | Buffer): Sdp {
  if (typeof text !== 'string') {
    if (text.length > MAX_SDP_BYTES) throw new SdpParseError('SDP too large', 0);
    text = text.toString('utf8');
  } else if (text.length > MAX_SDP_BYTES) {
    throw new SdpParseError('SDP too large', 0);
  }

  let sdp: Sdp | null = null;
  let sawVersion = false;
  let sawSessionName = false;
  let media: SdpMedia | null = null;
  let lineNo = 0;
  let pos = 0;
  const len = text.length;

  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    let stop = end;
    if (stop > pos && text.charCodeAt(stop - 1) === 13 /* \r */) stop--;
    const line = text.slice(pos, stop);
    pos = end + 1;
    lineNo++;
    if (line.length === 0 || isBlank(line)) continue;

    // RFC 8866 §5: <type>=<value>, type is exactly one character.
    const hasType = line.length >= 2 && line.charCodeAt(1) === 61 /* = */;
    const type = hasType ? line[0] : '';
    const value = hasType ? line.slice(2) : line;

    if (!sawVersion) {
      // RFC 8866 §5.1: the description starts with v=0.
      if (type !== 'v' || value.trim() !== '0') throw new SdpParseError('SDP must start with v=0', lineNo);
      sawVersion = true;
      continue;
    }
    if (sdp === null) {
      if (type !== 'o') throw new SdpParseError('o= must follow v=', lineNo);
      sdp = {
        version: 0,
        origin: parseOrigin(value, lineNo),
        sessionName: '',
        connection: null,
        attributes: [],
        lines: [],
        media: [],
      };
      continue;
    }

    switch (type) {
      case 'm':
        media = parseMediaLine(value, lineNo);
        sdp.media.push(media);
        break;
      case 'a': {
        const attr = parseAttribute(value);
        (media ?? sdp).attributes.push(attr);
        break;
      }
      case 'c': {
        const target = media ?? sdp;
        // A second c= (multicast layering) has no meaning for a unicast relay; keep it as written.
        if (target.connection === null) target.connection = parseConnection(value, lineNo);
        else target.lines.push({ type, value });
        break;
      }
      case 's':
        if (media === null && !sawSessionName) {
          sawSessionName = true;
          sdp.sessionName = value;
          break;
        }
        (media ?? sdp).lines.push({ type, value });
        break;
      default:
        (media ?? sdp).lines.push({ type, value });
    }
  }

  if (sdp === null) throw new SdpParseError(sawVersion ? 'SDP has no o= line' : 'empty SDP', 0);
  // RFC 8866 §5.3: s= is mandatory; "-" is what stacks send when there is no name.
  if (!sawSessionName) sdp.sessionName = '-';
  return sdp;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Splits on runs of spaces (RFC 8866 uses single SP; some stacks pad). */
function fields(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && value.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && value.charCodeAt(j) !== 32) j++;
    out.push(value.slice(i, j));
    i = j;
  }
  return out;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function parseOrigin(value: string, lineNo: number): SdpOrigin {
  const f = fields(value);
  if (f.length !== 6) throw new SdpParseError('o= needs 6 fields', lineNo);
  if (!isDigits(f[1]) || !isDigits(f[2])) throw new SdpParseError('o= session id and version must be numeric', lineNo);
  return { username: f[0], sessionId: f[1], sessionVersion: f[2], netType: f[3], addrType: f[4], address: f[5] };
}

function parseConnection(value: string, lineNo: number): SdpConnection {
  const f = fields(value);
  if (f.length !== 3) throw new SdpParseError('c= needs 3 fields', lineNo);
  const slash = f[2].indexOf('/');
  const address = slash < 0 ? f[2] : f[2].slice(0, slash);
  if (address.length === 0) throw new SdpParseError('c= has an empty address', lineNo);
  return { netType: f[0], addrType: f[1], address, suffix: slash < 0 ? '' : f[2].slice(slash) };
}

function parseMediaLine(value: string, lineNo: number): SdpMedia {
  const f = fields(value);
  // RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>)
  if (f.length < 3) throw new SdpParseError('m= needs media, port and proto', lineNo);
  const portText = f[1];
  const slash = portText.indexOf('/');
  const p = slash < 0 ? portText : portText.slice(0, slash);
  const c = slash < 0 ? '' : portText.slice(slash + 1);
  if (!isDigits(p) || (slash >= 0 && !isDigits(c))) throw new SdpParseError('m= port is not a number', lineNo);
  const port = Number(p);
  if (port > 65535) throw new SdpParseError('m= port out of range', lineNo);
  return {
    type: f[0],
    port,
    portCount: slash < 0 ? null : Number(c),
    proto: f[2],
    formats: f.slice(3),
    connection: null,
    attributes: [],
    lines: [],
  };
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value, value: null };
  return { name: value.slice(0, colon), value: value.slice(colon + 1) };
}
