// Dial(Tech/resource[&Tech/resource...][,timeout[,options[,URL]]]) — ring
// every target at once; the first to answer is bridged with the caller.
// timeout in seconds (empty = ring until they answer or refuse). Options are
// handed to the channel (r: ring indication, m: music on hold while
// ringing); g: carry on in the dialplan after the bridged call ends (without
// it, the caller is hung up when the callee hangs up, as in Asterisk).
// Sets DIALSTATUS (ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL,
// INVALIDARGS), DIALEDPEERNUMBER and ANSWEREDTIME (seconds).
import type { DialTarget } from '../../channel/channel.js';
import type { DialplanApp } from '../app-types.js';
import { secondsToMs } from '../app-args.js';

export function parseTargets(spec: string): DialTarget[] | null {
  const out: DialTarget[] = [];
  for (const t of spec.split('&')) {
    const s = t.trim();
    const slash = s.indexOf('/');
    if (slash <= 0 || slash === s.length - 1) return null;
    const tech = s.slice(0, slash);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(tech)) return null;
    out.push({ tech, resource: s.slice(slash + 1) });
  }
  return out.length > 0 ? out : null;
}

export const appDial: DialplanApp = {
  name: 'Dial',
  synopsis: 'Dial(Tech/resource[&...][,timeout[,options]]): call one or more targets and bridge the first to answer',
  async run(call, args) {
    const targets = parseTargets(args[0] ?? '');
    call.vars.delete('ANSWEREDTIME');
    if (!targets) {
      call.log.warn('dialplan.dial_bad_targets', { data: (args[0] ?? '').slice(0, 128), expected: 'Tech/resource such as SIP/1001' });
      call.vars.set('DIALSTATUS', 'INVALIDARGS');
      return;
    }
    const timeoutMs = secondsToMs(args[1], 0);
    const options = args[2] ?? '';
    call.vars.set('DIALEDPEERNUMBER', targets.map((t) => `${t.tech}/${t.resource}`).join('&'));
    const r = await call.channel.dial(targets, { timeoutMs, options });
    call.vars.set('DIALSTATUS', r.status);
    if (r.status === 'ANSWER') {
      call.vars.set('ANSWEREDTIME', String(Math.round((r.answeredMs ?? 0) / 1000)));
      if (!options.includes('g')) {
        if (!call.channel.hungUp) await call.channel.hangup('normal');
        return 'hangup';
      }
    }
    if (call.channel.hungUp) return 'hangup';
  },
};
