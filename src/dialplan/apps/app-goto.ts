// Goto([[context,]extension,]priority) — jump; priority is a number or a
// label. GotoIf(condition?[labeliftrue]:[labeliffalse]) — jump when the
// condition is true (neither empty nor 0) to the first target, else to the
// second; an empty target means "carry on". A target that does not exist
// is an error that ends the call, as in Asterisk.
import { splitArgs } from '../app-args.js';
import type { AppOutcome, CallState, DialplanApp } from '../app-types.js';

function jump(call: CallState, app: string, target: string): AppOutcome {
  const parts = splitArgs(target).map((p) => p.trim());
  const err = call.goto(parts);
  if (err === null) return;
  call.log.warn('dialplan.goto_failed', { app, target, reason: err });
  return 'hangup';
}

export const appGoto: DialplanApp = {
  name: 'Goto',
  synopsis: 'Goto([[context,]extension,]priority): jump to a priority or label',
  async run(call, _args, data) {
    if (data.trim() === '') {
      call.log.warn('dialplan.goto_failed', { app: 'Goto', reason: 'no target given' });
      return 'hangup';
    }
    return jump(call, 'Goto', data);
  },
};

export const appGotoIf: DialplanApp = {
  name: 'GotoIf',
  synopsis: 'GotoIf(condition?[iftrue]:[iffalse]): conditional jump',
  async run(call, _args, data) {
    const q = data.indexOf('?');
    if (q < 0) {
      call.log.warn('dialplan.gotoif_syntax', { data: data.slice(0, 64), reason: 'expected condition?iftrue:iffalse' });
      return;
    }
    const cond = data.slice(0, q).trim();
    const rest = data.slice(q + 1);
    const colon = rest.indexOf(':');
    const yes = (colon < 0 ? rest : rest.slice(0, colon)).trim();
    const no = colon < 0 ? '' : rest.slice(colon + 1).trim();
    const truth = cond !== '' && !(/^-?\d+(\.\d+)?$/.test(cond) && Number(cond) === 0);
    const target = truth ? yes : no;
    if (target === '') return;
    return jump(call, 'GotoIf', target);
  },
};
