import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './index.js';
import { loadConfig } from '../security/config/load-config.js';
import { parseVoicemailConf } from './voicemail-conf.js';
import { weakPin } from '../security/config/load-config.js';

const OPTS = { pinMinLength: 4, weakPin };

test('voicemail.conf: mailboxes per context with name, e-mail, pager and options', () => {
  const r = parseVoicemailConf(
    [
      '; demo mailboxes',
      '[default]',
      '756 => 3829,Jane Doe,jane@example.org',
      '757 => 582914,John Roe,john@example.org,john-pager@example.org,attach=no',
      '',
      '[sales]  ; another context',
      '756 => 9173,Sales Desk,,,attach=yes|delete=no',
    ].join('\n'),
    'voicemail.conf',
    OPTS,
  );
  assert.deepEqual(r.issues, []);
  assert.deepEqual(
    r.mailboxes.map((b) => [b.number, b.context, b.name, b.email, b.pager, b.attach, b.deleteAfterEmail, b.at.line]),
    [
      ['756', 'default', 'Jane Doe', 'jane@example.org', null, true, false, 3],
      ['757', 'default', 'John Roe', 'john@example.org', 'john-pager@example.org', false, false, 4],
      ['756', 'sales', 'Sales Desk', null, null, true, false, 7],
    ],
  );
});

test('voicemail.conf: every problem with its line and column, weak PINs refused without echoing them', () => {
  const text = [
    '700 => 9173,Early',
    '[general]',
    'format=wav',
    '[default]',
    '756 => 3456,Runs',
    '757 => 757,Own Number',
    '758 => 0758,Contains It',
    '759 => 2580,Common',
    '760 => 9173,Bad Mail,not-an-address',
    '761 => 9173,Bad Option,a@example.org,,attach=maybe',
    '762 => 9173,Lose It,,,delete=yes',
    '76x => 9173,Not Digits',
    '763 => ,No Pin',
    '  just text',
    '764 => 9173,Twice',
    '764 => 9174,Twice Again',
    '[bad context!]',
  ].join('\n');
  const r = parseVoicemailConf(text, '/etc/palisade/voicemail.conf', OPTS);
  const lines = r.issues.map((i) => `${i.line}:${i.col}`);
  assert.deepEqual(lines, ['1:1', '2:1', '5:7', '6:7', '7:7', '8:7', '9:7', '10:7', '11:7', '12:1', '13:7', '14:3', '16:1', '17:1']);
  const m = r.issues.map((i) => i.message);
  assert.match(m[0]!, /mailbox line outside a context/);
  assert.match(m[1]!, /\[general\] is not read by Palisade; set voicemail options .* in palisade.yaml/);
  assert.match(m[2]!, /756@default has a weak PIN \(is a sequence or repetition/);
  assert.match(m[3]!, /757@default has a weak PIN \(must be at least 4 digits\)/);
  assert.match(m[4]!, /758@default has a weak PIN \(contains the mailbox number\)/);
  assert.match(m[5]!, /759@default has a weak PIN \(is a commonly used PIN\)/);
  assert.match(m[6]!, /e-mail "not-an-address" is not an address/);
  assert.match(m[7]!, /option "attach=maybe" is unknown/);
  assert.match(m[8]!, /delete=yes without attach=yes and an e-mail address; the message would be lost/);
  assert.match(m[9]!, /mailbox "76x" must be 1 to 15 digits/);
  assert.match(m[10]!, /763@default has no PIN/);
  assert.match(m[11]!, /is not a mailbox line/);
  assert.match(m[12]!, /764@default is already defined on line 15/);
  assert.match(m[13]!, /context name "bad context!" is invalid/);
  for (const pin of ['3456', '2580', '0758']) assert.ok(!m.some((x) => x.includes(pin)), `PIN ${pin} is not echoed`);
  assert.deepEqual(
    r.mailboxes.map((b) => b.number),
    ['764'],
  );
});

test('voicemail.pin_min_length raises the minimum to 6', () => {
  const r = parseVoicemailConf('[default]\n756 => 3829,Jane\n757 => 582914,John\n', 'vm.conf', { pinMinLength: 6, weakPin });
  assert.equal(r.issues.length, 1);
  assert.match(r.issues[0]!.message, /756@default has a weak PIN \(must be at least 6 digits\)/);
});

test('palisade.yaml voicemail: section, file relative to the config, extension voicemail: true ties to its mailbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-vmconf-'));
  try {
    writeFileSync(join(dir, 'voicemail.conf'), '[default]\n1001 => 3829,Alice Box,alice-vm@example.org\n');
    const yaml = (extra: string) => `sip:
  listen: [udp:127.0.0.1:5060]
  domain: pbx.example.org
extensions:
  - { number: "1001", secret: "xk4Lm9Qz2Wp8", voicemail: true }
  - { number: "1002", secret: "Qp7vNw3Lr8Zt", voicemail: true, email: bob@example.org, name: Bob }
voicemail:
  file: voicemail.conf
  spool_dir: spool
  max_message_seconds: 120
${extra}`;
    writeFileSync(join(dir, 'palisade.yaml'), yaml('  pin_min_length: 4\n'));
    const c = loadConfig(join(dir, 'palisade.yaml'));
    assert.equal(c.voicemail.file, join(dir, 'voicemail.conf'));
    assert.equal(c.voicemail.spoolDir, join(dir, 'spool'));
    assert.equal(c.voicemail.maxMessageSeconds, 120);
    assert.equal(c.voicemail.maxMessages, 100);
    assert.equal(c.voicemail.emailFrom, null, 'mail.from unless set');
    assert.equal(c.voicemail.mwiUnsolicited, true);
    assert.deepEqual(
      c.voicemail.mailboxes.map((b) => [b.number, b.name, b.email, b.pin === '' ? 'no PIN' : 'PIN']),
      [
        ['1001', 'Alice Box', 'alice-vm@example.org', 'PIN'],
        // no line in voicemail.conf: takes messages and e-mails them, but nobody can log in
        ['1002', 'Bob', 'bob@example.org', 'no PIN'],
      ],
    );

    writeFileSync(join(dir, 'palisade.yaml'), yaml('  pin_min_length: 9\n  attach_format: mp3\n  max_mesages: 5\n'));
    writeFileSync(join(dir, 'voicemail.conf'), '[default]\n1001 => 1111,Alice\n');
    const err = (() => {
      try {
        loadConfig(join(dir, 'palisade.yaml'));
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof ConfigError);
    const text = err.message;
    assert.match(text, /palisade.yaml:11:\d+: voicemail.pin_min_length 9 is out of range; expected 4..6 digits/);
    assert.match(text, /palisade.yaml:12:\d+: voicemail.attach_format is "mp3"; expected one of wav/);
    assert.match(text, /palisade.yaml:13:\d+: unknown key voicemail.max_mesages; did you mean max_messages\?/);
    assert.match(text, /voicemail.conf:2:8: mailbox 1001@default has a weak PIN/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
