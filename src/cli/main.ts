// `palisade` command line: one file per command, dispatched here; the
// modules' own commands (src/core/module.ts, cli) come through the host.
// The commands import their helpers (cli-args, control-client, table),
// never this file.
import { runCheck } from './cmd-check.js';
import { runUsersImport } from './cmd-users-import.js';
import { runStart } from './cmd-start.js';
import { runStatus, runShow } from './cmd-show.js';
import { runAuditCommand } from './cmd-audit.js';
import { runPinGenerate, runSecretGenerate } from './cmd-secret.js';
import { runDialplan } from './cmd-dialplan.js';
import { runExport, runImport } from './cmd-site.js';
import { createHost, loadServerConfig } from '../host/index.js';
import { UsageError } from '../admin/cli-args.js';

const USAGE = `usage: palisade <command> [options]

commands:
  start --config FILE            run in the foreground (JSON logs on stdout; SIGTERM stops)
  start --demo [--dir DIR] [--port N] [--http-port P]
                                 run the demo site (SQLite, generated secrets printed once;
                                 SIP on 127.0.0.1:N, 5060 by default, TLS on N+1;
                                 web console on 127.0.0.1:P, 8088 by default)
  check --config FILE            validate a configuration file
  users import FILE.csv --config FILE
                                 provision extensions from number,secret[,name[,email[,voicemail]]]
                                 lines; each gets a mailbox (PIN generated and shown once, given, or no)
  status --config FILE           state of the running server (via its control socket)
  show registrations --config FILE
  show calls --config FILE
  show voicemail --config FILE   mailboxes with their new and old message counts
  dialplan show --config FILE [CONTEXT]
                                 the parsed dialplan, each step with its file:line
  dialplan reload --config FILE  the running server re-reads extensions.conf
  audit --config FILE [--json] [--no-host]
                                 security audit of the configuration and this host
                                 (docs/configuration.md); exit 1 on a critical finding
  export DIR --config FILE       the site as files for git: the database's extensions (HA1 only), the dialplan
  import DIR [--dry-run] --config FILE
                                 replace the database's extensions and the dialplan with an export's (all checked first)
  secret generate [--count N]    strong SIP/admin secrets
  pin generate [--length N] [--mailbox M] [--count N]
                                 voicemail PINs that pass the PIN policy
`;

/** the usage text: the core's commands, then the modules' */
function usage(modules: Iterable<{ usage: string }>): string {
  return USAGE + [...modules].map((m) => m.usage).join('');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const modules = createHost().cli;
  try {
    switch (cmd) {
      case 'start':
        return await runStart(rest);
      case 'check':
        return await runCheck(rest);
      case 'users':
        if (rest[0] === 'import') return await runUsersImport(rest.slice(1));
        break;
      case 'status':
        return await runStatus(rest);
      case 'show':
        return await runShow(rest);
      case 'audit':
        return await runAuditCommand(rest);
      case 'dialplan':
        return await runDialplan(rest);
      case 'export':
        return await runExport(rest);
      case 'import':
        return await runImport(rest);
      case 'secret':
        if (rest[0] === 'generate') return runSecretGenerate(rest.slice(1));
        break;
      case 'pin':
        if (rest[0] === 'generate') return runPinGenerate(rest.slice(1));
        break;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage(modules.values()));
        return cmd === undefined ? 2 : 0;
      default: {
        const fromModule = modules.get(cmd);
        if (fromModule) return await fromModule.run(rest, { loadConfig: loadServerConfig });
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`palisade ${cmd}: ${err.message}\n${err.usage}`);
      return 2;
    }
    process.stderr.write(`palisade: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`palisade: unknown command "${argv.join(' ')}"\n${usage(modules.values())}`);
  return 2;
}
