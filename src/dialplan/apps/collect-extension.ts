// What Asterisk's PBX loop does after Background() or WaitExten() gets a
// digit (in the current context, or the one Background names): keep collecting while more digits could still reach an extension
// (digit timeout between them), then jump to that extension at priority 1,
// or to `i` (with ${INVALID_EXTEN}) when none matches, or hang up when the
// context has no `i` either.
import type { AppOutcome, CallState } from '../app-types.js';

export async function collectAndJump(call: CallState, first: string, context = call.context): Promise<AppOutcome> {
  let digits = first;
  const set = Number(call.vars.get('TIMEOUT(digit)'));
  const digitMs = set > 0 ? Math.round(set * 1000) : call.digitTimeoutMs;
  while (call.canMatchMore(digits, context)) {
    const d = await call.media.waitDigit(digitMs);
    if (d === null) break;
    if (d === '#' && !call.canMatchMore(digits + '#', context) && !call.hasExten(digits + '#', context)) break;
    digits += d;
  }
  if (call.channel.hungUp) return 'hangup';
  if (call.hasExten(digits, context)) {
    const err = call.goto([context, digits, '1']);
    if (err === null) return;
    call.log.warn('dialplan.goto_failed', { target: digits, reason: err });
    return 'hangup';
  }
  if (call.hasExten('i', context)) {
    call.vars.set('INVALID_EXTEN', digits);
    if (call.goto([context, 'i', '1']) === null) return;
  }
  call.log.warn('dialplan.invalid_extension', { context, digits, reason: 'no such extension and no i extension' });
  return 'hangup';
}
