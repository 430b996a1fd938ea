// A real Prosody (Debian's `prosody`, with `prosody-modules`) for interop
// tests: its own config, data dir, pid file and log in a temp dir, c2s (and
// optionally an XEP-0114 component port) on 127.0.0.1 free ports, TLS with a
// throwaway self-signed certificate, users authenticated by Palisade through
// mod_auth_dovecot on Palisade's Unix socket. Run in the foreground (-F) and
// stopped by PID: SIGTERM, then SIGKILL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { reapOnExit } from './reap.js';

export interface ProsodyOptions {
  dir: string;
  /** the XMPP domain (VirtualHost), also the certificate's name */
  domain: string;
  c2sPort: number;
  /** Palisade's authentication socket (xmpp.auth_socket) */
  authSocket: string;
  /** an external component (XEP-0114): its domain, secret and port */
  component?: { domain: string; secret: string; port: number };
}

export interface ProsodyProcess {
  pid: number;
  configPath: string;
  logFile: string;
  log(): string;
  stop(): Promise<void>;
}

export function prosodyConfig(o: ProsodyOptions): string {
  const d = o.dir;
  return [
    `pidfile = "${join(d, 'prosody.pid')}"`,
    `data_path = "${join(d, 'data')}"`,
    'daemonize = false',
    `interfaces = { "127.0.0.1" }`,
    `c2s_ports = { ${o.c2sPort} }`,
    'c2s_direct_tls_ports = { }',
    's2s_ports = { }',
    'http_ports = { }',
    'https_ports = { }',
    o.component ? `component_ports = { ${o.component.port} }\ncomponent_interfaces = { "127.0.0.1" }` : 'component_ports = { }',
    `log = { { levels = { min = "debug" }, to = "file", filename = "${join(d, 'prosody.log')}" } }`,
    'modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "presence", "message", "offline" }',
    'modules_disabled = { "s2s", "posix" }',
    'c2s_require_encryption = true',
    'allow_unencrypted_plain_auth = false',
    'authentication = "dovecot"',
    `dovecot_auth_socket = "${o.authSocket}"`,
    'auth_append_host = false',
    `VirtualHost "${o.domain}"`,
    `  ssl = { certificate = "${join(d, 'cert.pem')}"; key = "${join(d, 'key.pem')}"; }`,
    o.component ? `Component "${o.component.domain}"\n  component_secret = "${o.component.secret}"` : '',
    '',
  ].join('\n');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

export async function startProsody(o: ProsodyOptions): Promise<ProsodyProcess> {
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const cert = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${o.domain}`,
      '-addext',
      `subjectAltName=DNS:${o.domain}`,
      '-keyout',
      join(o.dir, 'key.pem'),
      '-out',
      join(o.dir, 'cert.pem'),
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (cert.status !== 0) throw new Error(`openssl: ${cert.stderr}`);
  const configPath = join(o.dir, 'prosody.cfg.lua');
  writeFileSync(configPath, prosodyConfig(o));
  const logFile = join(o.dir, 'prosody.log');
  const child: ChildProcess = reapOnExit(spawn('prosody', ['--config', configPath, '-F'], { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  child.stderr?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const read = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prosody exited (${child.exitCode}): ${out}\n${read().slice(-3000)}`);
    if ((await portOpen(o.c2sPort)) && (!o.component || (await portOpen(o.component.port)))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prosody did not listen within 15 s: ${out}\n${read().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    configPath,
    logFile,
    log: read,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
