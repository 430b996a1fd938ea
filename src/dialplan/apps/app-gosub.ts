// Gosub([[context,]exten,]priority[(arg1[,arg2...])]) — call a subroutine:
// jump there and come back to the next priority on Return(). The arguments
// are ${ARG1}..${ARGn} inside the subroutine (the caller's values come back
// on Return). Return([value]) — go back, setting ${GOSUB_RETVAL}. Nesting
// is limited to 100 levels; a target that does not exist, or a Return
// without Gosub, ends the call as in Asterisk.
import { splitArgs } from '../app-args.js';
import type { DialplanApp } from '../app-types.js';

/** Splits 'label(a,b)' into the priority/label and its arguments. */
export function gosubTarget(data: string): { parts: string[]; args: string[] } {
  const parts = splitArgs(data).map((p) => p.trim());
  let args: string[] = [];
  const last = parts[parts.length - 1] ?? '';
  const open = last.indexOf('(');
  if (open > 0 && last.endsWith(')')) {
    args = splitArgs(last.slice(open + 1, -1));
    parts[parts.length - 1] = last.slice(0, open).trim();
  }
  return { parts, args };
}

export const appGosub: DialplanApp = {
  name: 'Gosub',
  synopsis: 'Gosub([[context,]exten,]priority[(args)]): call a dialplan subroutine',
  async run(call, _args, data) {
    const { parts, args } = gosubTarget(data);
    const err = call.gosub(parts, args);
    if (err === null) return;
    call.log.warn('dialplan.gosub_failed', { target: parts.join(','), reason: err });
    return 'hangup';
  },
};

export const appReturn: DialplanApp = {
  name: 'Return',
  synopsis: 'Return([value]): return from a Gosub',
  async run(call, _args, data) {
    const err = call.gosubReturn(data);
    if (err === null) return;
    call.log.warn('dialplan.return_failed', { reason: err });
    return 'hangup';
  },
};
