// Authenticate(password[,options[,maxdigits[,prompt]]]) — ask the caller
// for a PIN before the dialplan goes on (Asterisk's app_authenticate).
// `password` is the PIN itself, or /path/to/file: one valid PIN per line.
// Three tries: "agent-pass" (or `prompt`) asks, "auth-incorrect" after a
// wrong one asks again; the right PIN plays "auth-thankyou" and the next
// priority runs; the third wrong one says "goodbye" and hangs up. maxdigits
// > 0 ends the input after that many digits without waiting for #.
// Asterisk's options a, d, m and r (account codes, AstDB keys, MD5 files)
// are not supported: the PIN is checked as above, so a file of another
// format never matches (fails closed), and a warning is logged.
//
// Every PIN keyed is a login for the defences (CallState.reportPin): a
// wrong one counts against the caller's address and extension exactly as a
// wrong SIP password does — a security log line, the IDS's count and ban,
// reputation. The PIN is never logged, and 'all' keeps even the first
// argument out of LASTDATA, the CDR and the path trace.
//
//   exten => 8600,1,Authenticate(/etc/palisade/conference-pins)
//    same => n,ConfBridge(8600)
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DialplanApp } from '../app-types.js';

export const MAX_TRIES = 3;
const DIGIT_TIMEOUT_MS = 8000;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** every valid PIN, or null when the file cannot be read */
async function validPins(password: string): Promise<string[] | null> {
  if (!password.startsWith('/')) return [password];
  try {
    return (await readFile(password, 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
  } catch {
    return null;
  }
}

/** constant time per candidate: a PIN is not found faster for sharing a prefix */
function matches(entered: string, pins: readonly string[]): boolean {
  const e = digest(entered);
  let ok = false;
  for (const p of pins) ok = timingSafeEqual(e, digest(p)) || ok;
  return ok;
}

export const appAuthenticate: DialplanApp = {
  name: 'Authenticate',
  synopsis: 'Authenticate(password[,options[,maxdigits[,prompt]]]): ask for a PIN, three tries, then hang up',
  placesNoCall: true,
  sensitiveArgs: 'all',
  async run(call, args) {
    const ch = call.channel;
    const password = (args[0] ?? '').trim();
    const options = (args[1] ?? '').trim();
    const maxArg = Number((args[2] ?? '').trim() || 0);
    const maxDigits = Number.isInteger(maxArg) && maxArg > 0 ? Math.min(maxArg, 64) : 0;
    const prompt = (args[3] ?? '').trim() || 'agent-pass';
    if (options !== '') call.log.warn('dialplan.authenticate_options_unsupported', { options, channel: ch.name });
    const pins = password === '' ? [] : await validPins(password);
    if (pins === null) call.log.warn('dialplan.authenticate_file_unreadable', { channel: ch.name });
    if (!ch.answered) await ch.answer();
    const account = ch.peer.account ?? ch.callerIdNum;
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const r = await call.media.play([attempt === 1 ? prompt : 'auth-incorrect'], { interruptDigits: '0123456789*' });
      if (!r.completed) return 'hangup';
      const entered = await call.media.readDigits({ maxDigits, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#', initial: r.digit });
      if (ch.hungUp) return 'hangup';
      if (entered !== '' && pins !== null && pins.length > 0 && matches(entered, pins)) {
        call.reportPin({ ok: true, service: 'Authenticate', account });
        await call.media.play(['auth-thankyou']);
        return ch.hungUp ? 'hangup' : undefined;
      }
      // an empty entry (the caller said nothing) guessed nothing: asked again, not counted
      if (entered !== '') call.reportPin({ ok: false, service: 'Authenticate', account, detail: `attempt ${attempt} of ${MAX_TRIES}` });
    }
    await call.media.play(['goodbye']);
    await ch.hangup('normal');
    return 'hangup';
  },
};
