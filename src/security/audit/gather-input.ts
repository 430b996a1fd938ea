// Reads what the audit judges: the YAML as data, the loader's verdict, the
// files whose permissions matter, voicemail.conf PINs, the certificate, and
// (through a callback, so this layer needs no socket code) the live server.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseConfig, type LoadOptions } from '../config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import type { AuditInput, AuditedFile } from './audit-types.js';
import { gatherHostFacts } from './gather-host.js';
import type { HostReaders } from './host-types.js';
import { at, obj, str } from './raw-config.js';

export interface GatherOptions {
  /** asks the running server (control socket path) for status and registrations; rejects when it is not running */
  fetchLive?: (socketPath: string) => Promise<AuditInput['live']>;
  now?: number;
  /** reads the host the audit runs on through these (systemHostReaders() for the real one); without it the host checks are skipped */
  host?: HostReaders;
  /** the modules' configuration sections (the host's), so their keys are not reported as unknown */
  sections?: LoadOptions['sections'];
}

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

/** voicemail.conf mailbox lines "NUMBER => PIN,Name,..." (Asterisk form) */
function readMailboxes(path: string): AuditInput['mailboxes'] {
  const out: AuditInput['mailboxes'] = [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  text.split('\n').forEach((line, i) => {
    const m = /^\s*([0-9]{1,15})\s*=>?\s*([^,;]*)/.exec(line.replace(/;.*$/, ''));
    if (m) out.push({ number: m[1]!, pin: m[2]!.trim().replace(/^-/, ''), where: `${path}:${i + 1}` });
  });
  return out;
}

export async function gatherAuditInput(configPath: string, opts: GatherOptions = {}): Promise<AuditInput> {
  const text = readFileSync(configPath, 'utf8'); // the caller reports a missing file
  const baseDir = dirname(resolve(configPath));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  let raw: Record<string, unknown> = {};
  const configIssues: string[] = [];
  try {
    raw = obj(parse(text)) ?? {};
  } catch (err) {
    configIssues.push(`${configPath}:1:1: YAML syntax: ${(err as Error).message.split('\n')[0]}`);
  }
  if (configIssues.length === 0) {
    try {
      parseConfig(text, configPath, { sections: opts.sections });
    } catch (err) {
      if (err instanceof ConfigError) configIssues.push(...err.message.split('\n').filter((l) => l.trim() !== ''));
      else configIssues.push(`${configPath}:1:1: ${(err as Error).message}`);
    }
  }

  const files: AuditedFile[] = [{ path: resolve(configPath), what: 'configuration', mode: modeOf(configPath), secret: true }];
  const driver = str(at(raw, 'storage', 'driver')) ?? 'sqlite';
  const dbPath = str(at(raw, 'storage', 'path')) ?? 'var/palisade.db';
  if (driver === 'sqlite' && dbPath !== ':memory:') {
    const p = abs(dbPath);
    if (existsSync(p)) files.push({ path: p, what: 'database', mode: modeOf(p), secret: true });
  }
  const key = str(at(raw, 'tls', 'key'));
  if (key) files.push({ path: abs(key), what: 'TLS private key', mode: modeOf(abs(key)), secret: true });
  const vmFile = str(at(raw, 'voicemail', 'file'));
  if (vmFile) files.push({ path: abs(vmFile), what: 'voicemail.conf (PINs)', mode: modeOf(abs(vmFile)), secret: true });

  const socket = abs(str(at(raw, 'control', 'socket')) ?? 'var/palisade.sock');
  if (existsSync(socket)) files.push({ path: socket, what: 'control socket', mode: modeOf(socket), secret: false });

  // the chat server's authentication link (xmpp module): Prosody's config, and the socket it asks
  let prosody: AuditInput['prosody'];
  const xmpp = obj(at(raw, 'xmpp'));
  if (xmpp) {
    const authSocket = str(xmpp.auth_socket) ? abs(str(xmpp.auth_socket)!) : null;
    if (authSocket && existsSync(authSocket)) files.push({ path: authSocket, what: 'XMPP authentication socket', mode: modeOf(authSocket), secret: true });
    const pc = str(xmpp.prosody_config);
    let ptext: string | null = null;
    if (pc) {
      try {
        ptext = readFileSync(abs(pc), 'utf8');
      } catch {
        ptext = null;
      }
    }
    prosody = { path: pc ? abs(pc) : '', text: ptext, authSocket };
  }

  let tlsCertPem: string | null = null;
  const cert = str(at(raw, 'tls', 'cert'));
  if (cert) {
    try {
      tlsCertPem = readFileSync(abs(cert), 'utf8');
    } catch {
      tlsCertPem = null;
    }
  }

  let live: AuditInput['live'] = null;
  if (opts.fetchLive) {
    try {
      live = await opts.fetchLive(abs(str(at(raw, 'control', 'socket')) ?? 'var/palisade.sock'));
    } catch {
      live = null; // not running: the configuration alone is judged
    }
  }
  const host = opts.host ? await gatherHostFacts(raw, baseDir, opts.host) : undefined;
  return {
    ...(host ? { host } : {}),
    ...(prosody ? { prosody } : {}),
    configPath,
    raw,
    configIssues,
    files,
    mailboxes: vmFile ? readMailboxes(abs(vmFile)) : [],
    tlsCertPem,
    live,
    now: opts.now ?? Date.now(),
  };
}
