// Checks on credentials: extension secrets (also the HA1 values a config
// holds instead: a guessable secret shows through its hash), voicemail PINs,
// admin passwords, and whether the configuration loads at all.
import { createHash } from 'node:crypto';
import { checkAdminPassword, checkPin, checkSecret } from '../passwords/index.js';
import { COMMON_PASSWORDS } from '../passwords/common-passwords.js';
import type { AuditCheck, Finding } from './audit-types.js';
import { arr, at, extensions, listOf, obj, str, type Raw } from './raw-config.js';

/** guesses an attacker with a captured digest tries first, for one extension */
function guessesFor(number: string, name: string | undefined): string[] {
  const g = new Set<string>(COMMON_PASSWORDS);
  const rev = [...number].reverse().join('');
  for (const s of [
    number,
    number + number,
    rev,
    `${number}${number}${number}`,
    `pass${number}`,
    `password${number}`,
    `${number}pass`,
    `secret${number}`,
    `sip${number}`,
    `${number}123`,
    `${number}1234`,
    '1234',
    '12345',
    '123456',
    '1234567890',
    '0000',
    '',
  ])
    g.add(s);
  for (const w of (name ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((x) => x.length > 1)) {
    g.add(w);
    g.add(w + number);
    g.add(w + '123');
  }
  return [...g];
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

export const weakSecrets: AuditCheck = {
  id: 'weak-secret',
  title: 'extension secrets: policy and guessable HA1 values',
  run(input) {
    const raw = input.raw;
    const realm = str(at(raw, 'sip', 'realm')) ?? str(at(raw, 'sip', 'domain')) ?? '';
    const weak: string[] = [];
    const guessed: string[] = [];
    for (const e of extensions(raw)) {
      const name = str(e.raw.name);
      const secret = str(e.raw.secret);
      if (secret !== undefined) {
        const v = checkSecret(secret, { kind: 'sip', extension: e.number, name });
        if (!v.ok) weak.push(`${e.number} (${v.reasons[0]})`);
        continue;
      }
      const ha1 = str(e.raw.ha1_md5)?.toLowerCase();
      if (ha1 && /^[0-9a-f]{32}$/.test(ha1)) {
        for (const guess of guessesFor(e.number, name)) {
          if (md5(`${e.number}:${realm}:${guess}`) === ha1) {
            guessed.push(e.number);
            break;
          }
        }
      }
    }
    const out: Finding[] = [];
    if (weak.length > 0) {
      out.push({
        id: 'weak-secret',
        severity: 'critical',
        what: `weak SIP secrets on ${weak.length} extension(s): ${listOf(weak, 4)}; Palisade refuses to load such a configuration`,
        fix: 'give each extension a generated secret (`palisade secret generate`), or store only its ha1_md5/ha1_sha256',
      });
    }
    if (guessed.length > 0) {
      out.push({
        id: 'weak-secret',
        severity: 'critical',
        what: `the HA1 of ${guessed.length} extension(s) (${listOf(guessed)}) matches a common or derived password: the secret is guessable offline from one captured digest`,
        fix: 'set a new generated secret on these extensions (`palisade secret generate`) and re-provision the phones',
      });
    }
    return out;
  },
};

export const plaintextSecrets: AuditCheck = {
  id: 'plaintext-secret',
  title: 'secrets written in clear text in the configuration',
  run(input) {
    const clear = extensions(input.raw)
      .filter((e) => str(e.raw.secret) !== undefined)
      .map((e) => e.number);
    if (clear.length === 0) return [];
    return [
      {
        id: 'plaintext-secret',
        severity: 'low',
        what: `${clear.length} extension secret(s) are stored in clear text in the configuration (${listOf(clear)})`,
        fix: 'replace secret: with ha1_md5/ha1_sha256 (the demo site shows the form), or keep the file readable by the service user only',
      },
    ];
  },
};

export const weakPins: AuditCheck = {
  id: 'weak-pin',
  title: 'voicemail PINs: length, runs, common PINs, the mailbox number',
  run(input) {
    const minRaw = at(input.raw, 'voicemail', 'pin_min_length');
    const minLength = typeof minRaw === 'number' ? minRaw : 4;
    const pins: Array<{ mailbox: string; pin: string; where: string }> = [...input.mailboxes.map((m) => ({ mailbox: m.number, pin: m.pin, where: m.where }))];
    for (const e of extensions(input.raw)) {
      for (const key of ['pin', 'voicemail_pin']) {
        const p = str(e.raw[key]);
        if (p !== undefined) pins.push({ mailbox: e.number, pin: p, where: `extensions ${e.number}.${key}` });
      }
    }
    const weak: string[] = [];
    const none: string[] = [];
    for (const p of pins) {
      if (p.pin === '') {
        none.push(p.mailbox);
        continue;
      }
      const v = checkPin(p.pin, { mailbox: p.mailbox, minLength });
      if (!v.ok) weak.push(`${p.mailbox} (${v.reason})`);
    }
    const out: Finding[] = [];
    if (weak.length > 0) {
      out.push({
        id: 'weak-pin',
        severity: 'high',
        what: `weak voicemail PINs on ${weak.length} mailbox(es): ${listOf(weak, 4)}`,
        fix: 'set generated PINs (`palisade pin generate --length 6 --mailbox N`); voicemail.pin_min_length: 6',
      });
    }
    if (none.length > 0) {
      out.push({ id: 'weak-pin', severity: 'medium', what: `mailboxes without a PIN: ${listOf(none)}`, fix: 'give every mailbox a generated PIN (`palisade pin generate`)' });
    }
    return out;
  },
};

export const weakAdminPasswords: AuditCheck = {
  id: 'weak-admin-password',
  title: 'administrator passwords',
  run(input) {
    const admin = obj(input.raw.admin);
    if (!admin) return [];
    const found: Array<{ user: string; password: string }> = [];
    const pw = str(admin.password);
    if (pw !== undefined) found.push({ user: str(admin.user) ?? 'admin', password: pw });
    for (const u of arr(admin.users)) {
      const o = obj(u);
      const p = str(o?.password);
      if (o && p !== undefined) found.push({ user: str(o.name) ?? str(o.user) ?? '?', password: p });
    }
    const weak = found.filter((f) => !checkAdminPassword(f.password, { username: f.user }).ok);
    if (weak.length === 0) return [];
    return [
      {
        id: 'weak-admin-password',
        severity: 'critical',
        what: `weak or default administrator password for ${listOf(weak.map((w) => w.user))}`,
        fix: 'set a generated password (`palisade secret generate`) for every administrator',
      },
    ];
  },
};

export const configLoads: AuditCheck = {
  id: 'config-invalid',
  title: 'the configuration loads',
  run(input) {
    const rest = input.configIssues.filter((i) => {
      const msg = i.replace(/^.*?:\d+:\d+: /, '');
      // weak secrets and PINs have findings of their own
      return !/\.secret.* is too weak/.test(msg) && !/^mailbox \S+ has (a weak PIN|no PIN)/.test(msg);
    });
    if (rest.length === 0) return [];
    return [
      {
        id: 'config-invalid',
        severity: 'high',
        what: `the configuration does not load (${rest.length} problem(s)); first: ${rest[0]}`,
        fix: 'run `palisade check --config FILE` and fix each error it names',
      },
    ];
  },
};

export type { Raw };
