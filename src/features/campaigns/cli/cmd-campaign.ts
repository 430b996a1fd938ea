// `palisade campaign ...`: the operator's campaign commands over the control
// socket (src/features/campaigns/campaigns-module.ts lists the commands).
//
//   palisade campaign create NAME --exten EXTEN [--context C] [--max-concurrent N] [--cps R] [--retries N]
//            [--retry-delay S] [--ring-timeout S] [--window HH:MM-HH:MM] [--timezone TZ]
//            [--permissions local,national,...] [--routes PREFIX=HOST:PORT,...] [--callerid NUM]
//            [--dispositions a,b] [--form field:type[:opts],...]
//   palisade campaign import NAME FILE.csv
//   palisade campaign start|pause NAME
//   palisade campaign status [NAME] [--json]
//   palisade campaign results NAME [--out FILE]
//   palisade campaign disposition NAME NUMBER DISPOSITION [field=value ...] [--agent A]
//   palisade campaign dnc add NUMBER... | remove NUMBER | list
import { readFileSync, writeFileSync } from 'node:fs';
import { parseCommandArgs, stdio, UsageError, type CliIo } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import type { CliCommand, CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';

const USAGE = `usage: palisade campaign create NAME --exten EXTEN [--context C] [--max-concurrent N] [--cps R] [--retries N]
                 [--retry-delay S] [--ring-timeout S] [--window HH:MM-HH:MM] [--timezone TZ] [--permissions CLASSES]
                 [--routes PREFIX=HOST:PORT,...] [--callerid NUM] [--dispositions A,B] [--form FIELD:TYPE[:OPTS],...] --config FILE
       palisade campaign import NAME FILE.csv --config FILE
       palisade campaign start|pause NAME --config FILE
       palisade campaign status [NAME] [--json] --config FILE
       palisade campaign results NAME [--out FILE] --config FILE
       palisade campaign disposition NAME NUMBER DISPOSITION [FIELD=VALUE ...] [--agent A] --config FILE
       palisade campaign dnc add NUMBER... | dnc remove NUMBER | dnc list --config FILE
`;

const CREATE_KEYS = [
  'exten',
  'context',
  'callerid',
  'max-concurrent',
  'cps',
  'retries',
  'retry-delay',
  'ring-timeout',
  'window',
  'timezone',
  'permissions',
  'calls-per-minute',
  'daily-spend-limit',
  'routes',
  'dispositions',
  'form',
] as const;

const OPTIONS = {
  ...CONTROL_OPTIONS,
  json: 'boolean',
  out: 'string',
  agent: 'string',
  ...Object.fromEntries(CREATE_KEYS.map((k) => [k, 'string'])),
} as Record<string, 'string' | 'boolean'>;

/** "[#########.....] 45%" */
export function progressBar(percent: number, width = 30): string {
  const full = Math.max(0, Math.min(width, Math.round((percent * width) / 100)));
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${percent}%`;
}

export async function runCampaign(argv: string[], env: CliEnv<LoadedConfig>, io: CliIo = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, OPTIONS as never, USAGE, 100) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  const ask = (cmd: string, args: Record<string, unknown>) => askServer(values as never, env.loadConfig, cmd, args);
  const [a, b, c] = positionals;
  switch (sub) {
    case 'create': {
      if (!a) throw new UsageError('campaign create takes NAME', USAGE);
      const args: Record<string, unknown> = { name: a };
      for (const k of CREATE_KEYS) if (values[k] !== undefined) args[k.replace(/-/g, '_')] = values[k];
      await ask('campaign-create', args);
      io.out(`campaign ${a} created\n`);
      return 0;
    }
    case 'import': {
      if (!a || !b) throw new UsageError('campaign import takes NAME and FILE.csv', USAGE);
      const r = (await ask('campaign-import', { campaign: a, csv: readFileSync(b, 'utf8') })) as { imported: number; bad: Array<{ line: number; error: string }>; total: number };
      for (const x of r.bad) io.err(`${b}:${x.line}: ${x.error}\n`);
      io.out(`${r.imported} contacts imported, ${r.bad.length} bad lines; ${r.total} contacts in ${a}\n`);
      return r.bad.length > 0 ? 1 : 0;
    }
    case 'start':
    case 'pause':
      if (!a) throw new UsageError(`campaign ${sub} takes NAME`, USAGE);
      await ask(`campaign-${sub}`, { campaign: a });
      io.out(`campaign ${a} ${sub === 'start' ? 'running' : 'paused'}\n`);
      return 0;
    case 'status': {
      const r = (await ask('campaign-status', a ? { campaign: a } : {})) as Array<Record<string, unknown>>;
      if (values.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return 0;
      }
      for (const x of r) {
        const counts = ['answered', 'busy', 'noanswer', 'failed', 'dnc', 'refused', 'pending', 'calling']
          .filter((k) => x[k])
          .map((k) => `${k} ${x[k]}`)
          .join(', ');
        io.out(`${x.campaign} (${x.state}) ${progressBar(Number(x.progressPercent))} ${x.done}/${x.contacts} done, ${x.active} calls now; ${counts}\n`);
      }
      if (r.length === 0) io.out('no campaigns\n');
      return 0;
    }
    case 'results': {
      if (!a) throw new UsageError('campaign results takes NAME', USAGE);
      const r = (await ask('campaign-results', { campaign: a })) as { csv: string };
      if (typeof values.out === 'string') {
        writeFileSync(values.out, r.csv);
        io.out(`results of ${a} written to ${values.out}\n`);
      } else io.out(r.csv);
      return 0;
    }
    case 'disposition': {
      if (!a || !b || !c) throw new UsageError('campaign disposition takes NAME NUMBER DISPOSITION [FIELD=VALUE ...]', USAGE);
      const fields: Record<string, string> = {};
      for (const p of positionals.slice(3)) {
        const i = p.indexOf('=');
        if (i <= 0) throw new UsageError(`form values are FIELD=VALUE (got "${p}")`, USAGE);
        fields[p.slice(0, i)] = p.slice(i + 1);
      }
      await ask('campaign-disposition', { campaign: a, number: b, disposition: c, fields, agent: values.agent ?? '' });
      io.out(`${b}: ${c}\n`);
      return 0;
    }
    case 'dnc': {
      if (a === 'add' && positionals.length > 1) {
        const r = (await ask('campaign-dnc-add', { numbers: positionals.slice(1) })) as { added: number; bad: string[] };
        for (const x of r.bad) io.err(`not a phone number: ${x}\n`);
        io.out(`${r.added} numbers added to the do-not-call list\n`);
        return r.bad.length ? 1 : 0;
      }
      if (a === 'remove' && b) {
        const r = (await ask('campaign-dnc-remove', { number: b })) as { removed: boolean };
        io.out(r.removed ? `${b} removed\n` : `${b} is not on the list\n`);
        return r.removed ? 0 : 1;
      }
      if (a === 'list') {
        for (const n of (await ask('campaign-dnc-list', {})) as string[]) io.out(`${n}\n`);
        return 0;
      }
      throw new UsageError('campaign dnc add NUMBER... | remove NUMBER | list', USAGE);
    }
    default:
      throw new UsageError(sub ? `unknown campaign command "${sub}"` : 'which campaign command?', USAGE);
  }
}

export const campaignCli: CliCommand<LoadedConfig> = {
  name: 'campaign',
  usage:
    '  campaign create NAME --exten E | import NAME FILE | start NAME | pause NAME | status [NAME] | results NAME | disposition ... | dnc ... --config FILE\n                                 outbound campaigns: contacts, progressive dialer, results\n',
  run: (argv, env) => runCampaign(argv, env),
};
