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
import { runBans } from './cmd-bans.js';
import { runReputation } from './cmd-reputation.js';
import { runFraud } from './cmd-fraud.js';
import { runDialplan } from './cmd-dialplan.js';
import { runTrace } from './cmd-trace.js';
import { runPcap } from './cmd-pcap.js';
import { createHost } from '../host/index.js';
import { UsageError } from './cli-args.js';

const USAGE = `usage: palisade <command> [options]

commands:
  start --config FILE            run in the foreground (JSON logs on stdout; SIGTERM stops)
  start --demo [--dir DIR] [--port N]
                                 run the demo site (SQLite, generated secrets printed once;
                                 SIP on 127.0.0.1:N, 5060 by default, TLS on N+1)
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
  secret generate [--count N]    strong SIP/admin secrets
  pin generate [--length N] [--mailbox M] [--count N]
                                 voicemail PINs that pass the PIN policy
  bans list --config FILE        addresses the IDS has banned
  bans add ADDRESS [--for 1h] [--reason TEXT] --config FILE
  bans remove ADDRESS --config FILE
  reputation show|reset ADDRESS|USER --config FILE
                                 reputation score (0-10) of an address or extension; reset to 5
  fraud import FILE --config FILE
                                 add known fraud numbers/prefixes (one per line)
  trace CALL-ID|EXTENSION|#N [--messages] [--json] --config FILE
                                 SIP ladder of a kept call (failed calls are kept; secrets redacted)
  trace --list --config FILE     the kept calls and the traced extensions
  trace --extension N --on [--payload]|--off --config FILE
                                 keep every call of an extension (with its RTP) while on
  pcap CALL-ID|EXTENSION|#N [--out FILE] --config FILE > call.pcapng
                                 a kept call's SIP and RTP as pcapng (Wireshark, tshark)
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
      case 'secret':
        if (rest[0] === 'generate') return runSecretGenerate(rest.slice(1));
        break;
      case 'pin':
        if (rest[0] === 'generate') return runPinGenerate(rest.slice(1));
        break;
      case 'bans':
        return await runBans(rest);
      case 'reputation':
        return await runReputation(rest);
      case 'fraud':
        return await runFraud(rest);
      case 'trace':
        return await runTrace(rest);
      case 'pcap':
        return await runPcap(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage(modules.values()));
        return cmd === undefined ? 2 : 0;
      default: {
        const fromModule = modules.get(cmd);
        if (fromModule) return await fromModule.run(rest);
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
