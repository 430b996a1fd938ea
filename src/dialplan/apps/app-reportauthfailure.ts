// ReportAuthFailure(service[,account]) — tell the defences that a PIN the
// dialplan checked by itself was wrong, e.g. when DBLookup found no student
// for the ID and PIN keyed (examples/attendance/extensions.conf). The
// caller's address and calling extension take it exactly like a wrong SIP
// password: a security log line in Asterisk's format (Service=service,
// AccountID=account, RemoteAddress=the caller), the IDS's failure count
// and, past its threshold, a ban; bad reputation for both. `account` is
// what the PIN was for (a student ID, a mailbox) and defaults to the
// caller's own extension. Never pass the PIN itself.
//
//   same => n,DBLookup(FIGURE=attendance_figure,${ID},${SHA256(${ID}:${PIN})})
//   same => n,GotoIf($["${DBLOOKUPSTATUS}" = "FOUND"]?found)
//   same => n,ReportAuthFailure(attendance,${ID})
import type { DialplanApp } from '../app-types.js';

const SERVICE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export const appReportAuthFailure: DialplanApp = {
  name: 'ReportAuthFailure',
  synopsis: 'ReportAuthFailure(service[,account]): count a wrong PIN against the caller, as a failed login',
  placesNoCall: true,
  async run(call, args) {
    const ch = call.channel;
    let service = (args[0] ?? '').trim();
    if (!SERVICE_RE.test(service)) {
      call.log.warn('dialplan.reportauthfailure_service', { expected: 'a service name: letters, digits, _ and -', channel: ch.name });
      service = 'dialplan';
    }
    const account = (args[1] ?? '').trim().slice(0, 64) || (ch.peer.account ?? ch.callerIdNum);
    call.reportPin({ ok: false, service, account, detail: `reported by the dialplan at ${call.context},${call.exten},${call.priority}` });
  },
};
