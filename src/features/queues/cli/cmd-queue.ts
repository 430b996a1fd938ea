// `palisade queue ...`: the operator's queue commands over the control
// socket (src/features/queues/queues-module.ts lists the commands).
//
//   palisade queue show [QUEUE] [--json]
//   palisade queue stats [QUEUE] [--day YYYY-MM-DD|today] [--json]
//   palisade queue add QUEUE INTERFACE [--penalty N] [--name NAME] [--paused]
//   palisade queue remove QUEUE INTERFACE
//   palisade queue pause INTERFACE [--queue QUEUE] [--reason TEXT]
//   palisade queue unpause INTERFACE [--queue QUEUE]
import { parseCommandArgs, stdio, UsageError, type CliIo } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import type { CliCommand, CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';
import { formatTable } from '../../../admin/table.js';

const USAGE = `usage: palisade queue show [QUEUE] [--json] --config FILE
       palisade queue stats [QUEUE] [--day YYYY-MM-DD|today] [--json] --config FILE
       palisade queue add QUEUE INTERFACE [--penalty N] [--name NAME] [--paused] --config FILE
       palisade queue remove QUEUE INTERFACE --config FILE
       palisade queue pause INTERFACE [--queue QUEUE] [--reason TEXT] --config FILE
       palisade queue unpause INTERFACE [--queue QUEUE] --config FILE
`;

const OPTIONS = { ...CONTROL_OPTIONS, json: 'boolean', day: 'string', penalty: 'string', name: 'string', paused: 'boolean', queue: 'string', reason: 'string' } as const;

export async function runQueue(argv: string[], env: CliEnv<LoadedConfig>, io: CliIo = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, OPTIONS, USAGE, 2);
  const ask = (cmd: string, args: Record<string, unknown>) => askServer(values, env.loadConfig, cmd, args);
  const [a, b] = positionals;
  switch (sub) {
    case 'show': {
      const r = (await ask('queue-show', a ? { queue: a } : {})) as Array<Record<string, unknown> & { members: Record<string, unknown>[]; callers: Record<string, unknown>[] }>;
      if (values.json) io.out(JSON.stringify(r, null, 2) + '\n');
      else {
        for (const q of r) {
          io.out(
            `${q.queue} (${q.strategy}): ${q.waiting} waiting, ${q.answered} answered, ${q.abandoned} abandoned, service level ${q.serviceLevelPercent}% within ${q.serviceLevelSeconds} s\n`,
          );
          io.out(formatTable(q.members, '  no members', ['interface', 'name', 'penalty', 'status', 'reason', 'calls', 'talkSeconds', 'dynamic']));
          if (q.callers.length) io.out(formatTable(q.callers, '', ['position', 'callerid', 'waitSeconds', 'priority', 'state']));
        }
      }
      return 0;
    }
    case 'stats': {
      const r = await ask('queue-stats', { ...(a ? { queue: a } : {}), ...(values.day ? { day: values.day } : {}) });
      io.out(JSON.stringify(r, null, 2) + '\n');
      return 0;
    }
    case 'add':
      if (!a || !b) throw new UsageError('queue add takes QUEUE and INTERFACE', USAGE);
      await ask('queue-add', { queue: a, interface: b, penalty: values.penalty, name: values.name, paused: values.paused === true });
      io.out(`${b} added to ${a}\n`);
      return 0;
    case 'remove':
      if (!a || !b) throw new UsageError('queue remove takes QUEUE and INTERFACE', USAGE);
      await ask('queue-remove', { queue: a, interface: b });
      io.out(`${b} removed from ${a}\n`);
      return 0;
    case 'pause':
    case 'unpause':
      if (!a || b) throw new UsageError(`queue ${sub} takes one INTERFACE (--queue QUEUE for one queue only)`, USAGE);
      await ask(`queue-${sub}`, { interface: a, queue: values.queue, reason: values.reason });
      io.out(`${a} ${sub}d${values.queue ? ` in ${values.queue}` : ' in every queue'}\n`);
      return 0;
    default:
      throw new UsageError(sub ? `unknown queue command "${sub}"` : 'which queue command?', USAGE);
  }
}

export const queueCli: CliCommand<LoadedConfig> = {
  name: 'queue',
  usage:
    '  queue show [QUEUE] | stats [QUEUE] [--day D] | add QUEUE IFACE | remove QUEUE IFACE | pause IFACE | unpause IFACE --config FILE\n                                 call queues: members, waiting callers, statistics, agents\n',
  run: (argv, env) => runQueue(argv, env),
};
