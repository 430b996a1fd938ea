// Hangup([cause]) — end the call. The cause is a Q.850 number (16 normal,
// 17 busy, 19 no answer, 21 rejected, 34 congestion, 1 unallocated) or a
// name (busy, congestion...). The h extension still runs afterwards.
import type { HangupCause } from '../../channel/channel.js';
import type { DialplanApp } from '../app-types.js';

const BY_NUMBER: Record<string, HangupCause> = {
  '1': 'unallocated',
  '16': 'normal',
  '17': 'busy',
  '18': 'noanswer',
  '19': 'noanswer',
  '21': 'rejected',
  '34': 'congestion',
  '38': 'failure',
  '41': 'failure',
};
const NAMES: readonly HangupCause[] = ['normal', 'busy', 'noanswer', 'congestion', 'unallocated', 'rejected', 'failure'];

export function hangupCause(arg: string | undefined): HangupCause {
  const a = (arg ?? '').trim().toLowerCase();
  if (a === '') return 'normal';
  if (BY_NUMBER[a]) return BY_NUMBER[a]!;
  return (NAMES as readonly string[]).includes(a) ? (a as HangupCause) : 'normal';
}

export const appHangup: DialplanApp = {
  name: 'Hangup',
  synopsis: 'Hangup([cause]): hang up the channel with a Q.850 cause',
  placesNoCall: true,
  async run(call, args) {
    const cause = hangupCause(args[0]);
    call.vars.set('HANGUPCAUSE', cause);
    if (!call.channel.hungUp) await call.channel.hangup(cause);
    return 'hangup';
  },
};
