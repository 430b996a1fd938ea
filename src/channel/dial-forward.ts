// Call forwarding on busy and on no answer for Dial() (the B2BUA's direct
// calls do the same in src/sip/b2bua/call.ts): when a Dial() names one of
// our extensions alone and that extension forwards on busy or no answer
// (src/core/call-diversion.ts), the extension rings first — for at most its
// no-answer time — and on BUSY, or when that time runs out before Dial()'s
// own timeout, the forward target rings for what is left of the timeout.
// One hop, as Asterisk's CFB/CFU: the target's own forwards are not followed
// (its DND and unconditional forward are, by the ordinary Dial()).
import type { Diversion } from '../core/call-diversion.js';
import type { DialOptions, DialResult, DialTarget } from './channel.js';

export interface DialForwardPlan {
  /** the extension dialled */
  extension: string;
  /** forward target on busy ('' = none) */
  busy: string;
  /** forward target on no answer ('' = none) */
  noAnswer: string;
  noAnswerMs: number;
}

interface PlanHost {
  extension(number: string): { number: string } | undefined;
  diversionOf?(extension: string): Diversion | undefined;
}

/** the forwarding plan of a Dial(), or null when nothing but the ordinary Dial() applies */
export function dialForwardPlan(targets: readonly DialTarget[], ua: PlanHost): DialForwardPlan | null {
  if (targets.length !== 1) return null;
  const t = targets[0]!;
  const tech = t.tech.toUpperCase();
  if (tech !== 'SIP' && tech !== 'PJSIP') return null;
  const ext = ua.extension(t.resource);
  if (!ext) return null;
  const dv = ua.diversionOf?.(ext.number);
  // DND and the unconditional forward are the ordinary Dial()'s (dialBranches)
  if (!dv || dv.dnd || dv.always) return null;
  const busy = dv.busy && ua.extension(dv.busy) ? dv.busy : '';
  const noAnswer = dv.noAnswer && ua.extension(dv.noAnswer) ? dv.noAnswer : '';
  if (!busy && !noAnswer) return null;
  return { extension: ext.number, busy, noAnswer, noAnswerMs: dv.noAnswerSecs * 1000 };
}

/**
 * Runs a Dial() under a forwarding plan. `dialOnce` is the ordinary Dial();
 * `log` hears `dial-forwarded` with why ('busy' or 'no answer').
 */
export async function dialWithForward(
  plan: DialForwardPlan,
  targets: DialTarget[],
  o: DialOptions,
  dialOnce: (targets: DialTarget[], o: DialOptions) => Promise<DialResult>,
  hungUp: () => boolean,
  log: (fields: Record<string, unknown>) => void,
): Promise<DialResult> {
  const t0 = Date.now();
  // the no-answer forward cuts the first ring short only if it comes before Dial()'s own timeout
  const cut = plan.noAnswer !== '' && (o.timeoutMs === 0 || plan.noAnswerMs < o.timeoutMs);
  const first = await dialOnce(targets, { ...o, timeoutMs: cut ? plan.noAnswerMs : o.timeoutMs });
  let to = '';
  let why = '';
  if (first.status === 'BUSY' && plan.busy) {
    to = plan.busy;
    why = 'busy';
  } else if (first.status === 'NOANSWER' && cut) {
    to = plan.noAnswer;
    why = 'no answer';
  }
  if (!to || hungUp()) return first;
  log({ to: plan.extension, target: to, why });
  const left = o.timeoutMs > 0 ? Math.max(1000, o.timeoutMs - (Date.now() - t0)) : 0;
  return dialOnce([{ tech: 'SIP', resource: to }], { ...o, timeoutMs: left });
}
