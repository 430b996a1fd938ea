// `palisade start --config FILE` and `palisade start --demo`: run in the
// foreground until SIGTERM/SIGINT, then shut down cleanly.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { checkDialplan, createHost, loadServerConfig } from '../host/index.js';
import type { LoadedConfig } from '../security/config/load-config.js';
import { ConfigError } from '../config/config-error.js';
import { computeHa1 } from '../sip/auth/ha1.js';
import { generateSecret } from '../security/passwords/index.js';
import { startPalisade } from '../main.js';
import cluster from 'node:cluster';
import { runPrimary } from '../host/workers/index.js';
import { LogRoot } from '../observability/logger.js';
import { ensureSelfSignedCert } from '../transport/self-signed-cert.js';
import { credentialLine, newMailboxPin } from './new-credentials.js';
import { parseCommandArgs } from '../admin/cli-args.js';
import { openStorage } from '../storage/database.js';
import { ConsoleStore } from '../features/console/console-store.js';
import { addAccount } from '../features/console/accounts.js';

const USAGE = 'usage: palisade start --config FILE | --demo [--port SIP-PORT] [--http-port PORT]\n';

const DEMO_USERS: Array<[string, string]> = [
  ['1001', 'Alice'],
  ['1002', 'Bob'],
  ['1003', 'Carol'],
  ['1004', 'Dave'],
  ['1005', 'Erin'],
];

/** examples/attendance in the install: dist/src/cli/ → three levels up */
function attendanceExampleDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'attendance');
}

/**
 * Create the demo site on first use: a config with five extensions whose
 * secrets are generated here, printed once, and written only as HA1; the
 * attendance IVR of examples/attendance on 800, voicemail for every
 * extension (PINs generated and printed once), *97 to listen.
 */
export async function prepareDemo(dir: string, sipPort = 5060, httpPort = 8088): Promise<string> {
  const abs = resolve(dir);
  const cfgPath = join(abs, 'palisade.yaml');
  if (existsSync(cfgPath)) return cfgPath;
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  const realm = '127.0.0.1';
  // SIP over TLS on 5061 with a self-signed certificate made once (key 0600)
  const certs = await ensureSelfSignedCert(abs, ['127.0.0.1', 'localhost']);
  const lines: string[] = [
    '# Palisade demo site, generated on first start. Secrets are stored only as HA1.',
    'sip:',
    `  listen: [udp:127.0.0.1:${sipPort}, tcp:127.0.0.1:${sipPort}, tls:127.0.0.1:${sipPort + 1}]`,
    `  domain: ${realm}`,
    'tls:',
    `  cert: ${certs.cert}`,
    `  key: ${certs.key}`,
    '  min_version: TLSv1.2',
    'rtp:',
    '  ports: 10000-10999',
    '  address: 127.0.0.1',
    'storage:',
    '  driver: sqlite',
    '  path: palisade.db',
    'control:',
    '  socket: palisade.sock',
    // the web console and API on this machine only
    'admin:',
    '  acl: { permit: [127.0.0.1/32, ::1/128] }',
    'http:',
    `  listen: ["127.0.0.1:${httpPort}"]`,
  ];
  // the attendance line: its dialplan and database as shipped in examples/attendance
  const ex = attendanceExampleDir();
  copyFileSync(join(ex, 'extensions.conf'), join(abs, 'extensions.conf'));
  copyFileSync(join(ex, 'attendance.sql'), join(abs, 'attendance.sql'));
  // a copy keeps the source's mode; the site's files are Palisade's alone
  for (const f of ['extensions.conf', 'attendance.sql']) chmodSync(join(abs, f), 0o600);
  const exampleYaml = parseYaml(readFileSync(join(ex, 'palisade.yaml'), 'utf8')) as { dialplan: { queries: Record<string, { datasource: string; sql: string }> } };
  lines.push('dialplan:', '  file: extensions.conf', '  datasources:', '    attendance: { driver: sqlite, path: attendance.db, create_from: attendance.sql }', '  queries:');
  for (const [name, q] of Object.entries(exampleYaml.dialplan.queries)) {
    lines.push(`    ${name}:`, `      datasource: ${q.datasource}`, `      sql: ${JSON.stringify(q.sql)}`);
  }
  lines.push('voicemail:', '  file: voicemail.conf', '  spool_dir: voicemail', 'extensions:');
  const mailboxes: string[] = ['; demo mailboxes, generated on first start: MAILBOX => PIN,Full Name,email', '[default]'];
  const banner: string[] = ['', 'Palisade demo site: these secrets are shown once and stored only as hashes.', ''];
  for (const [num, name] of DEMO_USERS) {
    const secret = generateSecret({ extension: num, name });
    lines.push(
      `  - number: "${num}"`,
      `    name: ${name}`,
      `    ha1_md5: ${computeHa1('MD5', num, realm, secret)}`,
      `    ha1_sha256: ${computeHa1('SHA-256', num, realm, secret)}`,
      '    context: internal',
      '    voicemail: true',
    );
    const pin = newMailboxPin(num);
    mailboxes.push(`${num} => ${pin},${name},`);
    banner.push(credentialLine({ number: num, name, secret, pin }));
  }
  writeFileSync(join(abs, 'voicemail.conf'), mailboxes.join('\n') + '\n', { mode: 0o600 });
  banner.push('', '  dial 800 for the attendance line (student 240001, PIN 7294), *97 for voicemail;', '  an extension that does not answer in 20 s takes a message.');
  banner.push('', `  server 127.0.0.1:${sipPort} (UDP and TCP), 127.0.0.1:${sipPort + 1} (TLS, self-signed ${certs.cert}); config in ${cfgPath}`, '');
  writeFileSync(cfgPath, lines.join('\n') + '\n', { mode: 0o600 });
  // the console's first administrator, its generated password shown once
  const cfg = loadServerConfig(cfgPath, createHost());
  const storage = await openStorage(cfg.storage);
  try {
    const store = new ConsoleStore(storage);
    await store.migrate();
    const { password } = await addAccount(store, 'admin', 'admin');
    banner.push(`  web console http://127.0.0.1:${httpPort}/  account admin, password ${password}`, '');
  } finally {
    await storage.close();
  }
  // stderr, not the JSON log on stdout: the secrets must never reach a log
  process.stderr.write(banner.join('\n') + '\n');
  return cfgPath;
}

export async function runStart(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { config: 'string', demo: 'boolean', dir: 'string', port: 'string', 'http-port': 'string' }, USAGE);
  // Everything Palisade creates (the database holding HA1s, its WAL, the
  // control socket, recordings later) is for the service's user alone.
  process.umask(0o077);
  let cfgPath = values.config;
  if (values.demo) {
    // --port: where the demo's SIP listens on first creation (TLS one above), for a machine whose 5060 is taken
    const port = Number(values.port ?? 5060);
    if (!Number.isInteger(port) || port < 1 || port > 65534) {
      process.stderr.write('palisade start --demo: --port takes a port number from 1 to 65534\n');
      return 2;
    }
    const httpPort = Number(values['http-port'] ?? 8088);
    if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65535) {
      process.stderr.write('palisade start --demo: --http-port takes a port number from 1 to 65535\n');
      return 2;
    }
    cfgPath = await prepareDemo(values.dir ?? 'var/demo', port, httpPort);
  }
  if (!cfgPath) {
    process.stderr.write(USAGE);
    return 2;
  }
  let cfg: LoadedConfig;
  try {
    const host = createHost();
    cfg = loadServerConfig(cfgPath, host);
    // dialplan errors (and contexts missing from it) stop the start, with file:line
    await checkDialplan(cfg, host)?.close();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 1;
    }
    throw err;
  }
  if (cfg.sip.workers > 1 && cluster.isPrimary) {
    // several workers (docs/operations.md, "One machine, every core"): this process forks and watches them
    const udp = cfg.sip.listen.filter((p) => p.transport === 'udp');
    return await runPrimary(cfg.sip.workers, new LogRoot(cfg.log.level, cfg.log.levels).get('workers'), udp);
  }
  let app: Awaited<ReturnType<typeof startPalisade>>;
  try {
    app = await startPalisade(cfg);
  } catch (err) {
    // a worker that cannot start (a port taken) ends at once: its IPC channel and link socket would keep it up, and the primary stops the rest
    if (cluster.isWorker) {
      process.stderr.write(`palisade worker: ${(err as Error).message}\n`);
      process.exit(1);
    }
    throw err;
  }
  return await new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app
        .stop(signal)
        .then(() => resolveExit(0))
        .catch((err: Error) => {
          process.stderr.write(`palisade: shutdown failed: ${err.message}\n`);
          resolveExit(1);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
