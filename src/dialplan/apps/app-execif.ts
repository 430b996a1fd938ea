// ExecIf(condition?App(args)[:App(args)]) — run one application when the
// condition is true (neither empty nor 0), or the other one when it is
// false. The applications are looked up in the same registry as every
// step; an unknown one is logged and skipped.
import type { DialplanApp } from '../app-types.js';

/** 'Playback(a,b)' → ['Playback', 'a,b']; a bare name has empty data. */
function appCall(text: string): [string, string] {
  const t = text.trim();
  const open = t.indexOf('(');
  if (open < 0) return [t, ''];
  return [t.slice(0, open).trim(), t.endsWith(')') ? t.slice(open + 1, -1) : t.slice(open + 1)];
}

/** The ':' separating the two applications: the first one outside parentheses. */
function splitBranches(rest: string): [string, string] {
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ':' && depth === 0) return [rest.slice(0, i), rest.slice(i + 1)];
  }
  return [rest, ''];
}

export const appExecIf: DialplanApp = {
  name: 'ExecIf',
  synopsis: 'ExecIf(condition?App(args)[:App(args)]): run an application conditionally',
  async run(call, _args, data) {
    const q = data.indexOf('?');
    if (q < 0) {
      call.log.warn('dialplan.execif_syntax', { expected: 'condition?App(args)[:App(args)]' });
      return;
    }
    const cond = data.slice(0, q).trim();
    const [yes, no] = splitBranches(data.slice(q + 1));
    const truth = cond !== '' && !(/^-?\d+(\.\d+)?$/.test(cond) && Number(cond) === 0);
    const chosen = (truth ? yes : no).trim();
    if (chosen === '') return;
    const [name, appData] = appCall(chosen);
    const running = name.toLowerCase() === 'execif' ? null : call.runApp(name, appData);
    if (!running) {
      call.log.warn('dialplan.execif_unknown_app', { app: name.slice(0, 40) });
      return;
    }
    return running;
  },
};
