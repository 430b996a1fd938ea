// The CDR of a call the dialplan handled (one row per channel, Asterisk's
// field set), written when the channel ends.
import type { CdrRecord } from '../sip/b2bua/types.js';
import type { Channel, HangupCause } from './channel.js';

/** what a channel knows about its call once it ended */
export interface ChannelCdrInput {
  channel: Channel;
  start: Date;
  answerAt: Date | null;
  end: Date;
  cause: HangupCause;
  /** the last Dial()'s DIALSTATUS ('' when it never dialled) */
  dialStatus: string;
  lastApp: string;
  lastData: string;
  sourceIp: string;
  /** the leg Dial() bridged ('' when none) */
  dstChannel?: string;
}

export function channelCdr(c: ChannelCdrInput): CdrRecord {
  const ch = c.channel;
  const { start, answerAt, end, cause } = c;
  return {
    accountcode: '',
    src: ch.callerIdNum,
    dst: ch.dialed,
    dcontext: ch.context,
    clid: `"${ch.callerIdName}" <${ch.callerIdNum}>`,
    channel: ch.name,
    dstchannel: c.dstChannel ?? '',
    // the dialplan engine keeps these in LASTAPP/LASTDATA (sensitive arguments masked)
    lastapp: c.lastApp || (ch.vars.get('LASTAPP') ?? ''),
    lastdata: c.lastData || (ch.vars.get('LASTDATA') ?? ''),
    start,
    answer: answerAt,
    end,
    duration: Math.round((end.getTime() - start.getTime()) / 1000),
    billsec: answerAt ? Math.round((end.getTime() - answerAt.getTime()) / 1000) : 0,
    disposition: answerAt ? 'ANSWERED' : cause === 'busy' ? 'BUSY' : cause === 'congestion' ? 'CONGESTION' : cause === 'failure' ? 'FAILED' : 'NO ANSWER',
    amaflags: 'DOCUMENTATION',
    uniqueid: ch.id,
    userfield: c.dialStatus ? `DIALSTATUS=${c.dialStatus}` : cause,
    sourceIp: c.sourceIp,
    securityVerdict: 'authenticated',
  };
}
