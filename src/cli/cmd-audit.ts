// `palisade audit --config FILE [--json] [--no-host]`: the configuration (and,
// when the server runs, its live state over the control socket) against the
// checklist of docs/configuration.md (Security audit), and the host it runs on
// (docs/operations.md, Host checks) unless --no-host. Exit 1 while a critical
// finding is open, 2 on usage errors.
import { existsSync } from 'node:fs';
import { controlRequest } from '../admin/control-socket.js';
import { formatReport, gatherAuditInput, hasCritical, runAudit, systemHostReaders } from '../security/audit/index.js';
import { parseCommandArgs } from '../admin/cli-args.js';
import { createHost } from '../host/index.js';

const USAGE = 'usage: palisade audit --config FILE [--json] [--no-host]\n';

export async function runAuditCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { config: 'string', json: 'boolean', 'no-host': 'boolean' }, USAGE);
  const cfgPath = values.config;
  if (!cfgPath) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!existsSync(cfgPath)) {
    process.stderr.write(`palisade audit: ${cfgPath} does not exist\n`);
    return 2;
  }
  const input = await gatherAuditInput(cfgPath, {
    ...(values['no-host'] ? {} : { host: systemHostReaders() }),
    sections: createHost().sections,
    fetchLive: async (socket) => {
      if (!existsSync(socket)) return null;
      const status = (await controlRequest(socket, 'status', {}, 2000)) as Record<string, unknown>;
      const registrations = (await controlRequest(socket, 'registrations', {}, 2000)) as Array<Record<string, unknown>>;
      return { status, registrations };
    },
  });
  const report = runAudit(input);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return hasCritical(report) ? 1 : 0;
}
