// The queues module's REST resources (issue 10; src/core/api-routes.ts):
// queues with their members and waiting callers, and the agent actions of
// the control commands (add, remove, pause, unpause). The `admin` and
// `operator` roles (an operator handles queues, docs/operations.md "Web
// console and API"). Changes act on the running queues at once; dynamic
// members are kept across restarts when queues.conf has persistentmembers.
import { Type } from 'typebox';
import type { ApiResult, ApiRoute } from '../../core/api-routes.js';
import type { QueueService } from './queue-service.js';

const QUEUE = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,80}$' });
const IFACE = Type.String({ pattern: '^[A-Za-z0-9]+/[^\\s/|,]{1,80}$', description: 'Tech/resource such as PJSIP/1001' });
const QueueParam = Type.Object({ queue: QUEUE });
const MemberParam = Type.Object({ queue: QUEUE, interface: Type.String({ minLength: 3, maxLength: 100, description: 'URL-encoded Tech/resource, e.g. PJSIP%2F1001' }) });

const RESULT: Record<string, [number, string]> = {
  nosuchqueue: [404, 'no such queue'],
  exists: [409, 'already a member'],
  notfound: [404, 'not a member of that queue'],
  notdynamic: [409, 'a static member (queues.conf): remove it there'],
  badinterface: [400, 'interface must be Tech/resource such as PJSIP/1001'],
};

const isService = (x: QueueService | ApiResult): x is QueueService => typeof (x as QueueService).setPaused === 'function';

function fail(status: number, error: string, message: string): ApiResult {
  return { status, body: { error, message } };
}

export function queueApi(svc: () => QueueService | null): ApiRoute[] {
  const roles = ['admin', 'operator'] as const;
  const running = (): QueueService | ApiResult => svc() ?? fail(409, 'not-running', 'queues are not running (queues: { file: queues.conf } in palisade.yaml)');
  const member = (s: QueueService, queue: string, iface: string) => {
    const q = s.status(queue)[0] as { members?: Array<Record<string, unknown>> } | undefined;
    return q?.members?.find((m) => m.interface === iface) ?? null;
  };
  const outcome = (r: string | boolean): ApiResult | null => {
    if (r === true || r === 'ok') return null;
    const [status, message] = r === false ? [404, 'not a member of any such queue'] : (RESULT[r] ?? [400, String(r)]);
    return fail(status, status === 404 ? 'not-found' : status === 409 ? 'conflict' : 'validation', message);
  };
  const pause = (paused: boolean): ApiRoute => ({
    method: 'POST',
    path: `/queues/:queue/members/:interface/${paused ? 'pause' : 'unpause'}`,
    roles,
    tag: 'queues',
    summary: paused ? 'Pause an agent in a queue: it gets no calls from it until unpaused' : 'Unpause an agent in a queue',
    params: MemberParam,
    body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ pattern: '^[^|\\x00-\\x1f]{0,80}$' })) }, { additionalProperties: false })),
    handle(req) {
      const s = running();
      if (!isService(s)) return s;
      const { queue, interface: iface } = req.params as { queue: string; interface: string };
      const before = member(s, queue, iface);
      const bad = outcome(s.setPaused(queue, iface, paused, (req.body as { reason?: string } | undefined)?.reason ?? ''));
      if (bad) return bad;
      const after = member(s, queue, iface);
      return { body: after, change: { action: paused ? 'queue.pause' : 'queue.unpause', target: `${queue}/${iface}`, before, after } };
    },
  });
  return [
    {
      method: 'GET',
      path: '/queues',
      roles,
      tag: 'queues',
      summary: 'Queues with their members (agents), waiting callers and live figures',
      handle() {
        const s = svc();
        return { body: s ? s.status() : [] };
      },
    },
    {
      method: 'GET',
      path: '/queues/:queue',
      roles,
      tag: 'queues',
      summary: 'One queue with its members and waiting callers',
      params: QueueParam,
      handle(req) {
        const s = running();
        if (!isService(s)) return s;
        const q = s.status(req.params.queue)[0];
        return q ? { body: q } : fail(404, 'not-found', `no queue ${req.params.queue}`);
      },
    },
    {
      method: 'POST',
      path: '/queues/:queue/members',
      roles,
      tag: 'queues',
      summary: 'Add a dynamic member (agent) to a queue',
      params: QueueParam,
      body: Type.Object(
        {
          interface: IFACE,
          penalty: Type.Optional(Type.Integer({ minimum: 0, maximum: 999_999 })),
          name: Type.Optional(Type.String({ pattern: '^[^|\\x00-\\x1f]{0,80}$' })),
          paused: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      handle(req) {
        const s = running();
        if (!isService(s)) return s;
        const queue = req.params.queue!;
        const b = req.body as { interface: string; penalty?: number; name?: string; paused?: boolean };
        const bad = outcome(s.addMember(queue, b.interface, { penalty: b.penalty ?? 0, name: b.name ?? '', paused: b.paused === true }));
        if (bad) return bad;
        const after = member(s, queue, b.interface);
        return { status: 201, body: after, change: { action: 'queue.member.add', target: `${queue}/${b.interface}`, after } };
      },
    },
    {
      method: 'DELETE',
      path: '/queues/:queue/members/:interface',
      roles,
      tag: 'queues',
      summary: 'Remove a dynamic member (agent) from a queue',
      params: MemberParam,
      handle(req) {
        const s = running();
        if (!isService(s)) return s;
        const { queue, interface: iface } = req.params as { queue: string; interface: string };
        const before = member(s, queue, iface);
        const bad = outcome(s.removeMember(queue, iface));
        if (bad) return bad;
        return { body: { queue, interface: iface, removed: true }, change: { action: 'queue.member.remove', target: `${queue}/${iface}`, before } };
      },
    },
    pause(true),
    pause(false),
  ];
}
