// GotoIfTime(times,weekdays,mdays,months[,timezone]?[labeliftrue][:labeliffalse])
// — jump when now lies inside the time spec (time-spec.ts: 09:00-17:00,
// mon-fri, 1-31, jan-dec, an optional IANA zone), else to the second
// target; an empty target means "carry on". As Asterisk's app GotoIfTime.
import { splitArgs } from '../app-args.js';
import type { AppOutcome, CallState, DialplanApp } from '../app-types.js';
import { parseTimeSpec, timeMatches } from '../time-spec.js';

function jump(call: CallState, target: string): AppOutcome {
  const err = call.goto(splitArgs(target).map((p) => p.trim()));
  if (err === null) return;
  call.log.warn('dialplan.goto_failed', { app: 'GotoIfTime', target, reason: err });
  return 'hangup';
}

export const appGotoIfTime: DialplanApp = {
  name: 'GotoIfTime',
  synopsis: 'GotoIfTime(times,weekdays,mdays,months[,tz]?[iftrue][:iffalse]): jump by the time of day',
  async run(call, _args, data) {
    const q = data.indexOf('?');
    if (q < 0) {
      call.log.warn('dialplan.gotoiftime_syntax', { data: data.slice(0, 64), reason: 'expected times,weekdays,mdays,months?iftrue:iffalse' });
      return;
    }
    const spec = parseTimeSpec(data.slice(0, q).trim());
    if ('error' in spec) {
      call.log.warn('dialplan.gotoiftime_syntax', { data: data.slice(0, 64), reason: spec.error });
      return;
    }
    const rest = data.slice(q + 1);
    const colon = rest.indexOf(':');
    const yes = (colon < 0 ? rest : rest.slice(0, colon)).trim();
    const no = colon < 0 ? '' : rest.slice(colon + 1).trim();
    const target = timeMatches(spec, call.now()) ? yes : no;
    if (target === '') return;
    return jump(call, target);
  },
};
