// Loads palisade.yaml into a fully defaulted PalisadeConfig. Every problem is
// collected with its file:line:col and thrown together as one ConfigError;
// unknown keys are errors so that a typo never silently falls back to a
// default. docs/configuration.md documents each option.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import { isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import type { DigestAlgorithm } from '../core/auth.js';
import { ConfigError } from './config-error.js';
import type {
  AuthConfig,
  CallsConfig,
  PromptsConfig,
  ExtensionConfig,
  LogConfig,
  LogLevel,
  MailConfig,
  PalisadeConfig,
  RegistrarConfig,
  RtpConfig,
  SipConfig,
  StorageConfig,
  StorageDriver,
  TlsConfig,
  VoicemailConfig,
} from './config-types.js';
import { extensionMailbox, parseVoicemailConf } from './voicemail-conf.js';
import { formatListen, parseListen } from './listen-point.js';
import { readDialplan } from './read-dialplan.js';
import { IssueList, MapReader } from './yaml-reader.js';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const DRIVERS: readonly StorageDriver[] = ['sqlite', 'postgres', 'mysql'];
const ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];
// RFC 1035 host names (labels of letters, digits, hyphens) or an IP literal.
const DOMAIN_RE = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH = 107;

/**
 * What a higher layer reads during the parse. config/ is rank 3 and imports
 * nothing above it (docs/architecture.md, Layers), so the security module
 * (security/config/load-config.ts, the one entry point that loads the whole
 * configuration) hands in its own readers and checks: they run at the point
 * where their keys sit, before unknown keys are reported, and their problems
 * join the same ConfigError with file:line:col.
 */
export interface ConfigHooks {
  /** reads the top-level sections the module owns (security, admin, numbering, rates, fraud) */
  readSections(root: MapReader, baseDir: string): void;
  /** reads the keys the module owns in extensions[index]'s map */
  readExtension(m: MapReader, index: number): void;
  /**
   * grades an extension's secret (reporting at m's `secret` key) and returns
   * its HA1 values; null when there is no number to hash with
   */
  extensionSecret(m: MapReader, e: { path: string; number: string; name: string | undefined; realm: string; secret: string }): { ha1Md5: string; ha1Sha256: string } | null;
  /** a generated secret to offer in an error, one that passes the policy for this extension */
  suggestSecret(number?: string, name?: string): string;
  /** a voicemail.conf PIN: why it is weak, or null when it passes */
  weakPin(pin: string, mailbox: string, minLength: number): string | null;
  /** the modules' own top-level sections by key (the module host collects them); results in cfg.sections */
  sections?: ReadonlyMap<string, SectionReader>;
}

/**
 * A module's reader for its own top-level section (src/core/module.ts,
 * configSection): it reads `section` like the core readers do, so its
 * problems carry file:line:col, and sees the core sections already read.
 */
export type SectionReader = (section: MapReader, config: PalisadeConfig) => unknown;

export function readConfigFile(path: string, hooks: ConfigHooks): PalisadeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw ConfigError.at(path, 1, 1, `configuration file ${reason}; pass an existing YAML file with --config FILE`);
  }
  return readConfigText(text, path, hooks);
}

/** Parses config text; `fileName` names the file in errors and anchors relative paths. */
export function readConfigText(text: string, fileName: string, hooks: ConfigHooks): PalisadeConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const issues = new IssueList(fileName, lines);
  for (const e of doc.errors) {
    // The yaml package appends a source excerpt after the first line; the position is ours to print.
    issues.add(e.pos[0], `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  if (issues.list.length > 0) throw new ConfigError(issues.list);

  const baseDir = dirname(resolve(fileName));
  const root = new MapReader(issues, text, '', doc.contents as Node | null, 0);
  if (doc.contents === null) issues.add(0, 'the configuration is empty; at least sip.domain and sip.listen are required');

  const sip = readSip(root.child('sip'));
  const rtp = readRtp(root.child('rtp'), sip);
  const storage = readStorage(root.child('storage'), baseDir);
  const control = readControl(root.child('control'), baseDir);
  const log = readLog(root.child('log'));
  const registrar = readRegistrar(root.child('registrar'));
  const auth = readAuth(root.child('auth'));
  const calls = readCalls(root.child('calls'));
  const mail = readMail(root, baseDir);
  const extensions = readExtensions(root, sip, registrar, auth, hooks);
  const voicemail = readVoicemail(root.child('voicemail'), baseDir, extensions, hooks);
  const dialplan = readDialplan(root.child('dialplan'), baseDir);
  const tls = root.has('tls') ? readTls(root.child('tls'), baseDir) : null;
  if (tls === null && sip.listen.some((p) => p.transport === 'tls')) {
    issues.add(root.keyOffset('sip'), 'sip.listen has a tls: listen point but there is no tls section; give tls.cert and tls.key (PEM files)');
  }
  hooks.readSections(root, baseDir);
  const prompts = readPrompts(root.child('prompts'), baseDir);
  const sections: Record<string, unknown> = {};
  const cfg: PalisadeConfig = {
    configFile: fileName,
    baseDir,
    sip,
    rtp,
    storage,
    control,
    log,
    registrar,
    auth,
    calls,
    extensions,
    dialplan,
    mail,
    tls,
    prompts,
    voicemail,
    sections,
  };
  for (const [key, read] of hooks.sections ?? []) sections[key] = read(root.section(key), cfg);
  // after the modules' readers: a typo's hint knows their sections too
  root.done();

  if (issues.list.length > 0) throw new ConfigError(issues.list);
  return cfg;
}

function readSip(m: MapReader): SipConfig {
  const listen = [];
  const items = m.list('listen');
  if (items === undefined && !m.has('listen')) {
    m.issues.add(m.keyOffset('listen'), 'sip.listen is required; expected a list such as [udp:127.0.0.1:5060, tcp:127.0.0.1:5060]');
  }
  const seen = new Set<string>();
  for (const [i, item] of (items ?? []).entries()) {
    if (item.text === null) {
      m.issues.add(item.offset, `sip.listen[${i}] must be a string; expected TRANSPORT:ADDRESS:PORT such as udp:127.0.0.1:5060`);
      continue;
    }
    const p = parseListen(item.text);
    if (typeof p === 'string') {
      m.issues.add(item.offset, `sip.listen[${i}] "${item.text}" ${p}`);
      continue;
    }
    const key = formatListen(p);
    if (seen.has(key)) m.issues.add(item.offset, `sip.listen[${i}] "${item.text}" is listed twice; remove one`);
    seen.add(key);
    listen.push(p);
  }
  if (items !== undefined && items.length === 0) m.error('listen', 'sip.listen is empty; give at least one TRANSPORT:ADDRESS:PORT');

  const domainExpect = 'expected the SIP domain users register to, such as pbx.example.org';
  const domain = m.string('domain', '', { required: true, pattern: DOMAIN_RE, expect: domainExpect });
  const realm = m.string('realm', domain, {
    pattern: /^[\x21-\x7e]+$/,
    expect: 'expected printable characters without spaces or quotes, usually the domain',
  });
  if (realm.includes('"') || realm.includes('\\')) m.error('realm', 'sip.realm must not contain " or \\; it is sent as a quoted string (RFC 3261 §25.1)');
  const userAgent = m.string('user_agent', 'Palisade', {
    pattern: /^[\x21-\x7e][\x20-\x7e]*$/,
    expect: 'expected printable ASCII such as Palisade',
  });
  // several SIP/media worker processes (docs/operations.md, "One machine, every core"); auto: one per core
  const w = m.node('workers');
  const workers = isScalar(w) && w.value === 'auto' ? Math.min(64, availableParallelism()) : m.int('workers', 1, 1, 64, 'processes (or auto: one per core)');
  const udpRecvBuffer = m.int('udp_recv_buffer', 8388608, 65536, 1 << 30, 'bytes');
  m.done();
  return { listen, domain, realm, userAgent, workers, udpRecvBuffer };
}

function readRtp(m: MapReader, sip: SipConfig): RtpConfig {
  let portMin = 10000;
  let portMax = 20000;
  const ports = m.string('ports', '10000-20000', { expect: 'expected FIRST-LAST such as 10000-20000' });
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(ports);
  if (!match) {
    m.error('ports', `rtp.ports "${ports}" is not a range; expected FIRST-LAST such as 10000-20000`);
  } else {
    const a = Number(match[1]);
    const b = Number(match[2]);
    if (a < 1024 || b > 65535 || a > b) m.error('ports', `rtp.ports "${ports}" must lie within 1024-65535 with FIRST <= LAST`);
    // RTP takes the even port and RTCP the odd one above it (RFC 3550 §11).
    else if (a % 2 !== 0) m.error('ports', `rtp.ports "${ports}" starts on an odd port; RTP uses even ports (RFC 3550 §11), start at ${a - 1} or ${a + 1}`);
    else if (b - a + 1 < 4) m.error('ports', `rtp.ports "${ports}" holds fewer than 4 ports; each call needs 2 (RTP + RTCP), give a larger range`);
    // each worker takes its own share of whole pairs (src/core/workers.ts portShare)
    else if (Math.floor((b - a + 1) / 2 / sip.workers) < 2)
      m.error('ports', `rtp.ports "${ports}" is too small for sip.workers ${sip.workers}; each worker needs at least 4 ports, give at least ${sip.workers * 4}`);
    else {
      portMin = a;
      portMax = b;
    }
  }
  const ipExpect = 'expected an IPv4 or IPv6 address such as 127.0.0.1 or ::1';
  const defaultAddress = sip.listen[0]?.address ?? '127.0.0.1';
  const address = m.string('address', defaultAddress, { expect: ipExpect });
  if (m.has('address') && !isIPv4(address) && !isIPv6(address)) m.error('address', `rtp.address "${address}" is not an IP address; ${ipExpect}`);
  const adv = m.optionalString('advertised_address', { expect: ipExpect });
  if (adv !== null && !isIPv4(adv) && !isIPv6(adv)) m.error('advertised_address', `rtp.advertised_address "${adv}" is not an IP address; ${ipExpect}`);
  const advertisedAddress = adv ?? address;
  if (advertisedAddress === '0.0.0.0' || advertisedAddress === '::') {
    m.issues.add(
      m.keyOffset(adv !== null ? 'advertised_address' : 'address'),
      `the media address ${advertisedAddress} (from ${adv !== null ? 'rtp.advertised_address' : m.has('address') ? 'rtp.address' : 'the first sip.listen address'}) cannot be put in SDP; set rtp.advertised_address to the address phones should send media to`,
    );
  }
  const timeout = m.int('timeout', 60, 0, 86400, 'seconds (0 = off)');
  m.done();
  return { portMin, portMax, address, advertisedAddress, timeout };
}

function readStorage(m: MapReader, baseDir: string): StorageConfig {
  const driver = m.oneOf('driver', 'sqlite', DRIVERS);
  const tablePrefix = m.string('table_prefix', '', {
    pattern: /^[a-z][a-z0-9_]{0,19}$|^$/,
    expect: 'expected up to 20 lower-case letters, digits and _ starting with a letter, such as pal_',
  });
  if (driver === 'sqlite') {
    if (m.has('url')) m.error('url', 'storage.url is only used with driver postgres or mysql; use storage.path for sqlite');
    const p = m.string('path', 'var/palisade.db', { expect: 'expected a file path such as var/palisade.db' });
    m.done();
    return { driver, path: p === ':memory:' ? p : resolvePath(baseDir, p), tablePrefix };
  }
  if (m.has('path')) m.error('path', `storage.path is only used with driver sqlite; give storage.url for ${driver}`);
  const example = driver === 'postgres' ? 'postgres://user@127.0.0.1:5432/palisade' : 'mysql://root@127.0.0.1:3306/palisade';
  const url = m.string('url', '', { required: true, expect: `expected a URL such as ${example}` });
  if (url) {
    const schemes = driver === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:'];
    let ok = false;
    try {
      const u = new URL(url);
      ok = schemes.includes(u.protocol) && u.hostname !== '' && u.pathname.length > 1;
    } catch {
      ok = false;
    }
    if (!ok) m.error('url', `storage.url is not a ${driver} URL with host and database; expected a URL such as ${example}`);
  }
  m.done();
  return { driver, url, tablePrefix };
}

function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function readControl(m: MapReader, baseDir: string): { socket: string } {
  const socket = resolvePath(baseDir, m.string('socket', 'var/palisade.sock', { expect: 'expected a file path such as var/palisade.sock' }));
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    m.issues.add(m.valueOffset('socket'), `control.socket resolves to ${socket}, longer than the ${MAX_SOCKET_PATH} bytes a unix socket path may have; use a shorter path`);
  }
  m.done();
  return { socket };
}

function readLog(m: MapReader): LogConfig {
  const level = m.oneOf('level', 'info', LOG_LEVELS);
  const levels: Record<string, LogLevel> = {};
  const lm = m.child('levels');
  for (const key of lm.keys()) {
    if (!/^[a-z][a-z0-9_.-]*$/.test(key)) {
      lm.issues.add(lm.keyOffset(key), `log.levels key "${key}" is not a subsystem name; expected lower-case names such as sip, rtp, storage`);
      lm.node(key);
      continue;
    }
    levels[key] = lm.oneOf(key, level, LOG_LEVELS);
  }
  lm.done();
  m.done();
  return { level, levels };
}

function readRegistrar(m: MapReader): RegistrarConfig {
  const minExpires = m.int('min_expires', 60, 1, 86400, 'seconds');
  const maxExpires = m.int('max_expires', 7200, 1, 604800, 'seconds');
  const defaultExpires = m.int('default_expires', 3600, 1, 604800, 'seconds');
  const maxContacts = m.int('max_contacts', 10, 1, 100);
  const qualifyInterval = m.int('qualify_interval', 30, 0, 3600, 'seconds (0 = off)');
  if (minExpires > maxExpires) {
    m.issues.add(m.keyOffset('min_expires'), `registrar.min_expires ${minExpires} is above max_expires ${maxExpires}; expected min_expires <= default_expires <= max_expires`);
  } else if (defaultExpires < minExpires || defaultExpires > maxExpires) {
    m.issues.add(
      m.keyOffset('default_expires'),
      `registrar.default_expires ${defaultExpires} is outside ${minExpires}..${maxExpires}; expected min_expires <= default_expires <= max_expires`,
    );
  }
  m.done();
  return { minExpires, maxExpires, defaultExpires, maxContacts, qualifyInterval };
}

function readAuth(m: MapReader): AuthConfig {
  const nonceLifetime = m.int('nonce_lifetime', 300, 10, 3600, 'seconds');
  const algorithms: DigestAlgorithm[] = [];
  const items = m.list('algorithms');
  for (const [i, item] of (items ?? []).entries()) {
    const a = item.text?.toUpperCase();
    if (a === undefined || !(ALGORITHMS as readonly string[]).includes(a)) {
      m.issues.add(item.offset, `auth.algorithms[${i}] "${item.text ?? ''}" is not supported; expected SHA-256 or MD5 (RFC 8760)`);
    } else if (algorithms.includes(a as DigestAlgorithm)) {
      m.issues.add(item.offset, `auth.algorithms[${i}] ${a} is listed twice; remove one`);
    } else algorithms.push(a as DigestAlgorithm);
  }
  if (items !== undefined && items.length === 0) m.error('algorithms', 'auth.algorithms is empty; expected [SHA-256, MD5] or one of them');
  m.done();
  // MD5 alone by default: common clients (baresip 1.0, SIPp, older desk phones)
  // reject a 401 as soon as any challenge names SHA-256. Strong generated
  // secrets keep MD5 digests out of reach of offline guessing.
  return { nonceLifetime, algorithms: items === undefined ? ['MD5'] : algorithms };
}

function readCalls(m: MapReader): CallsConfig {
  const ringTimeout = m.int('ring_timeout', 60, 1, 3600, 'seconds');
  const maxDuration = m.int('max_duration', 14400, 0, 604800, 'seconds (0 = unlimited)');
  m.done();
  return { ringTimeout, maxDuration };
}

function readPrompts(m: MapReader, baseDir: string): PromptsConfig {
  const dir = m.optionalString('dir', { expect: 'expected a folder path such as var/prompts/en' });
  const customDir = m.optionalString('custom_dir', { expect: 'expected a folder path such as /var/lib/palisade/sounds' });
  const generate = m.bool('generate', true);
  m.done();
  return { dir: dir === null ? null : resolvePath(baseDir, dir), customDir: customDir === null ? null : resolvePath(baseDir, customDir), generate };
}

const EMAIL_RE = /^[^\s@<>"]+@[^\s@<>"]+$/;

/** `mail:` is optional; without it nothing is e-mailed (voicemail keeps messages, alerts are logged only) */
function readMail(root: MapReader, baseDir: string): MailConfig | null {
  if (!root.has('mail')) return null;
  const m = root.child('mail');
  const from = m.string('from', '', { required: true, pattern: EMAIL_RE, expect: 'expected the sender address, such as pbx@example.org' });
  const spoolDir = resolvePath(baseDir, m.string('spool_dir', 'var/mail', { expect: 'expected a directory such as var/mail' }));
  const s = m.child('smtp');
  if (!m.has('smtp')) m.issues.add(m.keyOffset('smtp'), 'mail.smtp is required; expected at least host, such as smtp: { host: 127.0.0.1, port: 25 }');
  const host = s.string('host', '', { required: m.has('smtp'), pattern: /^[A-Za-z0-9.:-]+$/, expect: 'expected the SMTP server host name or address' });
  const secure = s.bool('secure', false);
  const port = s.int('port', secure ? 465 : 25, 1, 65535);
  const requireTls = s.bool('require_tls', false);
  const user = s.optionalString('user');
  const password = s.optionalString('password');
  if (user !== null && password === null) s.issues.add(s.keyOffset('user'), 'mail.smtp.user is set without mail.smtp.password; give both or neither');
  const verifyCertificate = s.bool('verify_certificate', true);
  s.done();
  const retrySeconds = m.int('retry_seconds', 30, 1, 3600, 'seconds (the first retry; later ones double up to an hour)');
  m.done();
  return { from, spoolDir, retrySeconds, smtp: { host, port, secure, requireTls, user, password, verifyCertificate } };
}

function readExtensions(root: MapReader, sip: SipConfig, registrar: RegistrarConfig, auth: AuthConfig, hooks: ConfigHooks): ExtensionConfig[] {
  const issues = root.issues;
  const node = root.node('extensions');
  const out: ExtensionConfig[] = [];
  if (node === undefined) return out;
  const items = root.list('extensions');
  if (items === undefined) return out;
  const seen = new Map<string, number>();
  for (const [i, item] of items.entries()) {
    const path = `extensions[${i}]`;
    const m = new MapReader(issues, root.source, path, item.node, item.offset);
    const number = m.string('number', '', { required: true, pattern: /^[0-9]{1,15}$/, expect: 'expected 1 to 15 digits, quoted such as "1001"' });
    if (number && seen.has(number)) {
      m.error('number', `${path}.number ${number} is already used by extensions[${seen.get(number)}]; extension numbers must be unique`);
    } else if (number) seen.set(number, i);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
    const name = m.string('name', number, { pattern: /^[^\x00-\x1f"\\]*$/, expect: 'expected a display name without quotes or control characters' });
    const context = m.string('context', 'default', { pattern: /^[A-Za-z0-9_-]+$/, expect: 'expected a dialplan context name such as internal' });
    const email = m.optionalString('email', { pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, expect: 'expected an address such as alice@example.org' });
    const voicemail = m.bool('voicemail', false);
    const directMedia = m.bool('direct_media', false);
    const maxContacts = m.int('max_contacts', registrar.maxContacts, 1, registrar.maxContacts, `(at most registrar.max_contacts)`);
    const encryption = m.oneOf('encryption', 'optional', ['optional', 'required'] as const);
    if (encryption === 'required' && !sip.listen.some((p) => p.transport === 'tls')) {
      m.error(
        'encryption',
        `${path}.encryption is required but sip.listen has no tls: listen point, so no call could reach or leave this extension; add one such as tls:192.0.2.10:5061`,
      );
    }
    hooks.readExtension(m, i);

    const secret = m.optionalString('secret');
    let ha1Md5 = m.optionalString('ha1_md5', { pattern: /^[0-9a-fA-F]{32}$/, expect: 'expected 32 hex digits: MD5(number:realm:secret)' });
    let ha1Sha256 = m.optionalString('ha1_sha256', { pattern: /^[0-9a-fA-F]{64}$/, expect: 'expected 64 hex digits: SHA-256(number:realm:secret)' });
    const who = number ? ` for ${number}` : '';
    if (secret !== null) {
      if (ha1Md5 !== null || ha1Sha256 !== null) {
        m.error('secret', `${path} has both secret and ha1_md5/ha1_sha256; give either the secret or its HA1 values, not both`);
      }
      // grading the secret and hashing it are the security module's (ConfigHooks)
      const ha1 = hooks.extensionSecret(m, { path, number, name: m.has('name') ? name : undefined, realm: sip.realm, secret });
      if (ha1 !== null) {
        ha1Md5 = ha1.ha1Md5;
        ha1Sha256 = ha1.ha1Sha256;
      }
    } else if (ha1Md5 === null && ha1Sha256 === null) {
      // A malformed HA1 has been reported already; only a missing credential is news.
      if (!m.has('ha1_md5') && !m.has('ha1_sha256')) {
        issues.add(
          m.offset,
          `${path}${who} has no secret; give secret (or ha1_md5 and ha1_sha256), e.g. secret: "${hooks.suggestSecret(number, m.has('name') ? name : undefined)}"`,
        );
      }
    } else {
      for (const [alg, key, have] of [
        ['MD5', 'ha1_md5', ha1Md5],
        ['SHA-256', 'ha1_sha256', ha1Sha256],
      ] as const) {
        if (have === null && auth.algorithms.includes(alg)) {
          issues.add(m.offset, `${path}${who} lacks ${key} while auth.algorithms offers ${alg}; give ${key} too, or the secret`);
        }
      }
    }
    m.done();
    out.push({
      number,
      name,
      ha1Md5: ha1Md5?.toLowerCase() ?? null,
      ha1Sha256: ha1Sha256?.toLowerCase() ?? null,
      context,
      email,
      voicemail,
      directMedia,
      maxContacts,
      encryption,
      at: issues.pos(item.offset),
      contextAt: issues.pos(m.has('context') ? m.valueOffset('context') : item.offset),
    });
  }
  return out;
}

function readVoicemail(m: MapReader, baseDir: string, extensions: ExtensionConfig[], hooks: ConfigHooks): VoicemailConfig {
  const file = m.optionalString('file', { expect: 'expected a path such as voicemail.conf' });
  const spoolDir = resolvePath(baseDir, m.string('spool_dir', 'var/voicemail', { expect: 'expected a directory such as var/voicemail' }));
  const maxMessageSeconds = m.int('max_message_seconds', 180, 5, 3600, 'seconds');
  const maxMessages = m.int('max_messages', 100, 1, 9999);
  const maxSilenceSeconds = m.int('max_silence_seconds', 5, 0, 60, 'seconds (0 = off)');
  const emailFrom = m.optionalString('email_from', { pattern: /^[^\s@,"<>]+@[^\s@,"<>]+$/, expect: 'expected an address such as voicemail@example.org' });
  const emailSubject = m.string('email_subject', 'New voicemail ${VM_MSGNUM} in mailbox ${VM_MAILBOX} from ${VM_CALLERID}', {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
    pattern: /^[^\x00-\x1f]*$/,
    expect: 'expected one line of text; ${VM_NAME} ${VM_MAILBOX} ${VM_CALLERID} ${VM_DUR} ${VM_DATE} ${VM_MSGNUM} are replaced',
  });
  const emailBody = m.string(
    'email_body',
    'Dear ${VM_NAME},\n\nYou have a new voicemail (number ${VM_MSGNUM}, ${VM_DUR} long) in mailbox ${VM_MAILBOX} from ${VM_CALLERID}, left on ${VM_DATE}.\nThe recording is attached.\n',
  );
  const attachFormat = m.oneOf('attach_format', 'wav', ['wav'] as const);
  const pinMinLength = m.int('pin_min_length', 4, 4, 6, 'digits');
  const maxLoginAttempts = m.int('max_login_attempts', 3, 1, 10);
  const mwiUnsolicited = m.bool('mwi_unsolicited', true);
  const mwiMaxExpires = m.int('mwi_max_expires', 3600, 60, 86400, 'seconds');

  let mailboxes: VoicemailConfig['mailboxes'] = [];
  let path: string | null = null;
  if (file !== null) {
    path = resolvePath(baseDir, file);
    let text: string | null = null;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      m.error(
        'file',
        `voicemail.file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a voicemail.conf with lines such as 1001 => PIN,Full Name,email`,
      );
    }
    if (text !== null) {
      const parsed = parseVoicemailConf(text, path, { pinMinLength, weakPin: hooks.weakPin });
      m.issues.list.push(...parsed.issues);
      mailboxes = parsed.mailboxes;
    }
  }
  // `voicemail: true` on an extension ties it to the mailbox of the same
  // number in [default]. Without a line in voicemail.conf the mailbox still
  // takes messages, e-mails them and lights MWI, but has no PIN, so nobody
  // can log in to it by phone until one is configured.
  const boxes = new Set(mailboxes.filter((b) => b.context === 'default').map((b) => b.number));
  for (const e of extensions) {
    if (!e.voicemail || e.number === '' || boxes.has(e.number)) continue;
    mailboxes.push(extensionMailbox(e, '', e.at));
  }
  m.done();
  return {
    file: path,
    spoolDir,
    maxMessageSeconds,
    maxMessages,
    maxSilenceSeconds,
    emailFrom,
    emailSubject,
    emailBody,
    attachFormat,
    pinMinLength,
    maxLoginAttempts,
    mwiUnsolicited,
    mwiMaxExpires,
    mailboxes,
  };
}

/** tls: { cert, key, ca?, min_version, ciphers?, verify_client } — files read and checked now, so a bad one is a file:line error */
function readTls(m: MapReader, baseDir: string): TlsConfig {
  const pem = (key: string, required: boolean): { file: string; text: string } | null => {
    const given = required
      ? m.string(key, '', { required: true, expect: 'expected the path of a PEM file' })
      : m.optionalString(key, { expect: 'expected the path of a PEM file' });
    if (!given) return null;
    const file = resolvePath(baseDir, given);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${(err as Error).message})`;
      m.issues.add(m.valueOffset(key), `tls.${key} ${file} ${why}; expected a readable PEM file`);
      return null;
    }
    if (!text.includes('-----BEGIN ')) {
      m.issues.add(m.valueOffset(key), `tls.${key} ${file} is not PEM; expected a file with -----BEGIN ...----- blocks`);
      return null;
    }
    return { file, text };
  };
  const cert = pem('cert', true);
  const key = pem('key', true);
  const ca = pem('ca', false);
  const minVersion = m.oneOf('min_version', 'TLSv1.2', ['TLSv1.2', 'TLSv1.3'] as const);
  const ciphers = m.optionalString('ciphers', { pattern: /^[A-Za-z0-9:+!@_.=-]+$/, expect: 'expected an OpenSSL cipher list such as ECDHE+AESGCM:ECDHE+CHACHA20' });
  const verifyClient = m.bool('verify_client', false);
  if (verifyClient && !m.has('ca')) m.error('verify_client', "tls.verify_client needs tls.ca, the CA that signs the phones' certificates");
  if (cert && key) {
    try {
      createSecureContext({ cert: cert.text, key: key.text, ...(ca ? { ca: ca.text } : {}), ...(ciphers ? { ciphers } : {}) });
    } catch (err) {
      const msg = (err as Error).message;
      const where = /cipher/i.test(msg) && ciphers ? 'ciphers' : /mismatch/i.test(msg) ? 'key' : 'cert';
      const why = /mismatch/i.test(msg) ? `does not belong to the certificate ${cert.file}` : `is not usable (${msg})`;
      m.issues.add(
        m.valueOffset(where),
        `tls.${where} ${where === 'ciphers' ? `"${ciphers}"` : where === 'key' ? key.file : cert.file} ${where === 'ciphers' ? `is not usable (${msg})` : why}; expected a matching PEM certificate and private key`,
      );
    }
  }
  m.done();
  return {
    certFile: cert?.file ?? '',
    keyFile: key?.file ?? '',
    caFile: ca?.file ?? null,
    certPem: cert?.text ?? '',
    keyPem: key?.text ?? '',
    caPem: ca?.text ?? null,
    minVersion,
    ciphers,
    verifyClient,
  };
}
