// Test users: the same extensions and strong secrets written both as the CSV
// that `palisade users import` reads and as SIPp's injection file.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSecret } from '../../src/security/passwords/check-secret.js';

export interface TestUser {
  number: string;
  secret: string;
  name: string;
}

/**
 * A random secret that Palisade's password policy accepts: 20 characters of
 * base64url (no CSV or SIPp keyword delimiters), checked by the server's own
 * policy for the number and the test name `Test NUMBER` (a random one can hold
 * "test" in leet spelling: a full run's import refused one for the name).
 */
export function strongSecret(number: string, name = `Test ${number}`): string {
  for (;;) {
    const s = 'Pt-' + randomBytes(13).toString('base64url').slice(0, 17);
    if (!s.includes(number) && checkSecret(s, { kind: 'sip', extension: number, name }).ok) return s;
  }
}

const DIGIT_TO_LETTER = 'ghijklmnop';

/**
 * The bench's deterministic secret, identical to bench/lib/users.mjs and to
 * what bench/kamailio/kamailio.cfg derives: "Bk-" + md5hex(number) with the
 * digits mapped to g..p (35 characters, no digit, so never the number).
 */
export function benchSecret(number: string): string {
  const hex = createHash('md5').update(number).digest('hex');
  let out = 'Bk-';
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    out += c >= 48 && c <= 57 ? DIGIT_TO_LETTER[c - 48] : hex[i];
  }
  return out;
}

export interface MakeUsersOptions {
  first?: number;
  /** 'random' (default) or 'bench' (the Kamailio-compatible scheme) */
  secrets?: 'random' | 'bench';
}

/** count users numbered first, first+1, ... */
export function makeUsers(count: number, opts: MakeUsersOptions = {}): TestUser[] {
  const first = opts.first ?? 1000;
  const out: TestUser[] = [];
  for (let i = 0; i < count; i++) {
    const number = String(first + i);
    const secret = opts.secrets === 'bench' ? benchSecret(number) : strongSecret(number);
    out.push({ number, secret, name: `Test ${number}` });
  }
  return out;
}

/** `number,secret,name` lines for `palisade users import`. */
export function palisadeCsv(users: readonly TestUser[]): string {
  return users.map((u) => `${u.number},${u.secret},${u.name}`).join('\n') + '\n';
}

export interface SippCsvOptions {
  /** third field: the callee of the call-*-uac scenarios, taken round-robin */
  peers?: readonly string[];
  /** put a wrong password in the auth field (register-wrong-password.xml) */
  wrongPassword?: boolean;
}

/**
 * SIPp injection file: `user;[authentication username=U password=P][;peer]`
 * ([field0], [field1], [field2] in test/sipp/*.xml).
 */
export function sippCsv(users: readonly TestUser[], opts: SippCsvOptions = {}): string {
  const lines = ['SEQUENTIAL'];
  users.forEach((u, i) => {
    const pw = opts.wrongPassword ? `Wrong-${u.secret.slice(3)}x` : u.secret;
    let line = `${u.number};[authentication username=${u.number} password=${pw}]`;
    if (opts.peers && opts.peers.length > 0) line += `;${opts.peers[i % opts.peers.length]}`;
    lines.push(line);
  });
  return lines.join('\n') + '\n';
}

export interface UserFiles {
  palisadeCsv: string;
  sippCsv: string;
  sippWrongCsv: string;
}

/** Writes users.csv (Palisade), sipp-users.csv and sipp-wrong.csv into dir. */
export function writeUserFiles(dir: string, users: readonly TestUser[], opts: SippCsvOptions = {}): UserFiles {
  const files: UserFiles = {
    palisadeCsv: join(dir, 'users.csv'),
    sippCsv: join(dir, 'sipp-users.csv'),
    sippWrongCsv: join(dir, 'sipp-wrong.csv'),
  };
  writeFileSync(files.palisadeCsv, palisadeCsv(users));
  writeFileSync(files.sippCsv, sippCsv(users, { peers: opts.peers }));
  writeFileSync(files.sippWrongCsv, sippCsv(users, { peers: opts.peers, wrongPassword: true }));
  return files;
}
