import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from '../cli/cmd-check.js';
import { ConfigError } from './index.js';
import { parseConfig } from '../security/config/load-config.js';

const BASE = `sip:
  listen: [udp:127.0.0.1:5060]
  domain: pbx.example.org
`;

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, 'palisade.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('dialplan section: defaults, relative paths, data sources and named queries with their placeholder count', () => {
  const none = parseConfig(BASE, '/etc/palisade/palisade.yaml');
  assert.equal(none.dialplan.file, null);
  assert.equal(none.dialplan.maxSteps, 10000);
  assert.equal(none.dialplan.recordings, '/etc/palisade/var/recordings');
  const c = parseConfig(
    BASE +
      `dialplan:
  file: extensions.conf
  max_steps: 500
  digit_timeout: 4
  datasources:
    attendance: { driver: sqlite, path: db/attendance.db }
    hr: { driver: postgres, url: "postgres://reader@127.0.0.1:5432/hr" }
  queries:
    figure:
      datasource: attendance
      sql: "SELECT percent FROM attendance WHERE student_id = ? AND pin = ? -- is this '?' counted? no"
`,
    '/etc/palisade/palisade.yaml',
  );
  assert.equal(c.dialplan.file, '/etc/palisade/extensions.conf');
  assert.equal(c.dialplan.maxSteps, 500);
  assert.equal(c.dialplan.digitTimeout, 4);
  assert.deepEqual(c.dialplan.datasources.attendance, { driver: 'sqlite', path: '/etc/palisade/db/attendance.db', at: { file: '/etc/palisade/palisade.yaml', line: 9, col: 5 } });
  assert.equal(c.dialplan.datasources.hr?.driver, 'postgres');
  assert.equal(c.dialplan.queries.figure?.params, 2);
});

test('dialplan section errors name the line and what is expected', () => {
  const errs = errorsOf(
    BASE +
      `dialplan:
  fil: extensions.conf
  datasources:
    Bad-Name: { driver: sqlite, path: x.db }
    pg: { driver: postgres, url: "http://nope" }
  queries:
    wrong_ds: { datasource: nowhere, sql: "SELECT 1" }
    writes: { datasource: pg, sql: "DELETE FROM students WHERE id = ?" }
    two: { datasource: pg, sql: "SELECT 1; DROP TABLE students" }
`,
  );
  assert.deepEqual(errs, [
    '5:3: unknown key dialplan.fil; did you mean file? keys allowed in dialplan: file, max_steps, recordings, digit_timeout, lookup_timeout, datasources, queries',
    '7:5: dialplan.datasources key "Bad-Name" is not valid; expected a lower-case name of letters, digits and _ such as attendance',
    '8:34: dialplan.datasources.pg.url is not a postgres URL with host and database; expected a URL such as postgres://reader@127.0.0.1:5432/school',
    '10:29: dialplan.queries.wrong_ds.datasource "nowhere" is not defined; expected one of: Bad-Name, pg',
    '11:36: dialplan.queries.writes.sql must be a read-only SELECT (or WITH ... SELECT); DBLookup never writes',
    '12:33: dialplan.queries.two.sql holds more than one statement; expected a single SELECT',
  ]);
});

test('palisade check reports an extension whose context the dialplan lacks, at the YAML line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-dpcfg-'));
  try {
    writeFileSync(join(dir, 'extensions.conf'), '[internal]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
    const yaml =
      BASE +
      `dialplan:
  file: extensions.conf
extensions:
  - number: "1001"
    secret: "xk4Lm9Qz2Wp8"
    context: internal
  - number: "1002"
    secret: "Vb7nQ2xLp9Kw"
    context: internl
`;
    writeFileSync(join(dir, 'palisade.yaml'), yaml);
    let out = '';
    let err = '';
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
    assert.equal(await runCheck(['--config', join(dir, 'palisade.yaml')], io), 1);
    assert.equal(
      err.split('\n')[0],
      `${join(dir, 'palisade.yaml')}:12:14: extension 1002 uses context "internl", which the dialplan (${join(dir, 'extensions.conf')}) does not define; expected one of: internal; did you mean internal?`,
    );
    writeFileSync(join(dir, 'palisade.yaml'), yaml.replace('internl', 'internal'));
    assert.equal(await runCheck(['--config', join(dir, 'palisade.yaml')], io), 0);
    assert.match(out, /dialplan 1 contexts/);
    writeFileSync(join(dir, 'extensions.conf'), '[internal]\nexten => _1XXX,1,Dail(SIP/${EXTEN},20)\n');
    err = '';
    assert.equal(await runCheck(['--config', join(dir, 'palisade.yaml')], io), 1);
    assert.match(err, new RegExp(`^${join(dir, 'extensions.conf').replace(/[.]/g, '\\.')}:2:18: unknown application "Dail"; did you mean Dial\\?`));
    assert.match(err, new RegExp(`\\n1 error in ${join(dir, 'extensions.conf').replace(/[.]/g, '\\.')}\\n$`));
    // a dialplan file that is not there is reported at dialplan.file in the YAML
    writeFileSync(join(dir, 'palisade.yaml'), yaml.replace('internl', 'internal').replace('file: extensions.conf', 'file: missing.conf'));
    err = '';
    assert.equal(await runCheck(['--config', join(dir, 'palisade.yaml')], io), 1);
    assert.equal(
      err.split('\n')[0],
      `${join(dir, 'palisade.yaml')}:5:9: dialplan.file ${join(dir, 'missing.conf')} does not exist; expected an extensions.conf (relative paths are relative to this file)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
