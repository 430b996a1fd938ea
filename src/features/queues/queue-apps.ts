// The call centre's dialplan applications and functions, with Asterisk's
// names, arguments and status variables (apps/app_queue.c):
//
//   Queue(queuename[,options[,URL[,announceoverride[,timeout]]]])   QUEUESTATUS
//   AddQueueMember(queuename[,interface[,penalty[,options[,membername]]]])   AQMSTATUS
//   RemoveQueueMember(queuename[,interface])                        RQMSTATUS
//   PauseQueueMember([queuename],interface[,options[,reason]])      PQMSTATUS
//   UnpauseQueueMember([queuename],interface[,options[,reason]])    UPQMSTATUS
//   QueueLog(queuename,uniqueid,agent,event[,additionalinfo])
//   ${QUEUE_WAITING_COUNT(q)}  ${QUEUE_MEMBER(q,logged|free|ready|count|paused)}
//
// An interface left out is the calling phone's own (PJSIP/<its extension>),
// so feature codes are one line each:
//   exten => *45,1,AddQueueMember(support)
//   exten => *46,1,RemoveQueueMember(support)
//   exten => *47,1,PauseQueueMember(,,,lunch)
//   exten => *48,1,UnpauseQueueMember()
import type { CallState, DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { QueueService } from './queue-service.js';
import { runQueueCaller } from './queue-caller.js';

const EVENT_RE = /^[A-Z][A-Z0-9_]{0,31}$/;

/** the calling phone as a queue interface: PJSIP/1001 */
function ownInterface(call: CallState): string {
  return `PJSIP/${call.channel.peer.account ?? call.channel.callerIdNum}`;
}

function running(get: () => QueueService | null, call: CallState, statusVar: string): QueueService | null {
  const svc = get();
  if (!svc) {
    call.log.warn('queue.not_running', { hint: 'queues: { file: queues.conf } in palisade.yaml' });
    call.vars.set(statusVar, 'NOSUCHQUEUE');
  }
  return svc;
}

function clean(s: string | undefined): string {
  return (s ?? '').trim().replace(/\|/g, '_');
}

export function queueApps(get: () => QueueService | null): DialplanApp[] {
  return [
    {
      name: 'Queue',
      synopsis: 'Queue(queuename[,options[,URL[,announceoverride[,timeout]]]]): wait in a call queue until a member answers',
      async run(call, args) {
        const name = (args[0] ?? '').trim();
        const svc = get();
        const q = svc?.queues.get(name);
        if (!svc || !q) {
          call.log.warn('queue.unknown', { queue: name.slice(0, 80), known: svc ? [...svc.queues.keys()].slice(0, 20) : [] });
          call.vars.set('QUEUESTATUS', 'UNKNOWN');
          return;
        }
        const t = (args[4] ?? '').trim();
        const maxWaitSec = /^\d+$/.test(t) ? Number(t) : 0;
        return runQueueCaller(svc, call, q, { options: args[1] ?? '', maxWaitSec, url: clean(args[2]) });
      },
    },
    {
      name: 'AddQueueMember',
      synopsis: 'AddQueueMember(queuename[,interface[,penalty[,options[,membername]]]]): log a phone in to a queue (AQMSTATUS)',
      async run(call, args) {
        const svc = running(get, call, 'AQMSTATUS');
        if (!svc) return;
        const iface = (args[1] ?? '').trim() || ownInterface(call);
        const pen = (args[2] ?? '').trim();
        const r = svc.addMember((args[0] ?? '').trim(), iface, {
          penalty: /^\d+$/.test(pen) ? Number(pen) : 0,
          paused: (args[3] ?? '').includes('p'),
          name: clean(args[4]),
          callid: call.channel.id,
        });
        call.vars.set('AQMSTATUS', r === 'ok' ? 'ADDED' : r === 'exists' ? 'MEMBERALREADY' : 'NOSUCHQUEUE');
      },
    },
    {
      name: 'RemoveQueueMember',
      synopsis: 'RemoveQueueMember(queuename[,interface]): log a phone out of a queue (RQMSTATUS)',
      placesNoCall: true,
      async run(call, args) {
        const svc = running(get, call, 'RQMSTATUS');
        if (!svc) return;
        const iface = (args[1] ?? '').trim() || ownInterface(call);
        const r = svc.removeMember((args[0] ?? '').trim(), iface, call.channel.id);
        call.vars.set('RQMSTATUS', r === 'ok' ? 'REMOVED' : r === 'notfound' ? 'NOTINQUEUE' : r === 'notdynamic' ? 'NOTDYNAMIC' : 'NOSUCHQUEUE');
      },
    },
    {
      name: 'PauseQueueMember',
      synopsis: 'PauseQueueMember([queuename],interface[,options[,reason]]): stop a member being rung, with a reason (PQMSTATUS)',
      placesNoCall: true,
      async run(call, args) {
        const svc = running(get, call, 'PQMSTATUS');
        if (!svc) return;
        const iface = (args[1] ?? '').trim() || ownInterface(call);
        const ok = svc.setPaused((args[0] ?? '').trim(), iface, true, clean(args[3]));
        call.vars.set('PQMSTATUS', ok ? 'PAUSED' : 'NOTFOUND');
      },
    },
    {
      name: 'UnpauseQueueMember',
      synopsis: 'UnpauseQueueMember([queuename],interface[,options[,reason]]): ring a paused member again (UPQMSTATUS)',
      placesNoCall: true,
      async run(call, args) {
        const svc = running(get, call, 'UPQMSTATUS');
        if (!svc) return;
        const iface = (args[1] ?? '').trim() || ownInterface(call);
        const ok = svc.setPaused((args[0] ?? '').trim(), iface, false, clean(args[3]));
        call.vars.set('UPQMSTATUS', ok ? 'UNPAUSED' : 'NOTFOUND');
      },
    },
    {
      name: 'QueueLog',
      synopsis: 'QueueLog(queuename,uniqueid,agent,event[,additionalinfo]): write a custom line to the queue_log',
      placesNoCall: true,
      async run(call, args) {
        const svc = get();
        const event = (args[3] ?? '').trim();
        if (!svc || !EVENT_RE.test(event)) {
          call.log.warn('queue.log_refused', { event: event.slice(0, 40), expected: 'QueueLog(queue,${UNIQUEID},agent,EVENT[,info]) with an upper-case EVENT' });
          return;
        }
        svc.log.write(clean(args[0]) || 'NONE', clean(args[1]) || call.channel.id, clean(args[2]) || 'NONE', event, ...(args.slice(4).map(clean) || []));
      },
    },
  ];
}

export function queueFunctions(get: () => QueueService | null): DialplanFunction[] {
  return [
    {
      name: 'QUEUE_WAITING_COUNT',
      synopsis: 'QUEUE_WAITING_COUNT(queuename): callers waiting in the queue',
      read: (_env, raw) => String(get()?.queues.get(raw.trim())?.entries.length ?? 0),
    },
    {
      name: 'QUEUE_MEMBER',
      synopsis: 'QUEUE_MEMBER(queuename,logged|free|ready|count|paused): members of a queue in that state',
      read: (_env, raw) => {
        const [name = '', what = 'count'] = raw.split(',').map((s) => s.trim());
        const svc = get();
        const q = svc?.queues.get(name);
        if (!svc || !q) return '0';
        const st = q.members.map((m) => svc.dispatcher.status(q, m));
        const n = (pred: (s: string) => boolean) => String(st.filter(pred).length);
        switch (what) {
          case 'logged':
            return n((s) => s !== 'unavailable');
          case 'free':
            return n((s) => s === 'free' || s === 'wrapup');
          case 'ready':
            return n((s) => s === 'free');
          case 'paused':
            return n((s) => s === 'paused');
          default:
            return String(q.members.length);
        }
      },
    },
  ];
}
