// DTMF carried in SIP INFO bodies (no RFC; the de-facto formats):
// application/dtmf-relay ("Signal=5\r\nDuration=160", Cisco/Asterisk) and
// application/dtmf (just the digit, or an event number).
import { eventToDigit } from './rfc4733.js';

const VALID = /^[0-9*#A-Da-d]$/;

/** the digit an INFO body carries, or null when it carries none */
export function parseDtmfInfo(contentType: string | undefined, body: string): string | null {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/dtmf-relay') {
    for (const line of body.split(/\r?\n/)) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      if (line.slice(0, eq).trim().toLowerCase() !== 'signal') continue;
      return normalise(line.slice(eq + 1).trim());
    }
    return null;
  }
  if (ct === 'application/dtmf') return normalise(body.trim());
  return null;
}

function normalise(v: string): string | null {
  if (VALID.test(v)) return v.toUpperCase();
  // some phones send the RFC 4733 event number (10 = '*', 11 = '#')
  if (/^\d{1,2}$/.test(v)) return eventToDigit(Number(v)) ?? null;
  return null;
}
