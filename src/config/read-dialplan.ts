// The `dialplan:` section: where extensions.conf is, and the data sources and
// named queries DBLookup() may use. Queries are read-only SELECTs written
// here by the administrator; the dialplan only names them and passes
// arguments, which are bound to the '?' placeholders — never pasted into SQL.
import { isAbsolute, resolve } from 'node:path';
import type { DialplanConfig, DialplanDatasourceConfig, DialplanQueryConfig } from './config-types.js';
import type { MapReader } from './yaml-reader.js';

const NAME_RE = /^[a-z][a-z0-9_]{0,39}$/;
const NAME_EXPECT = 'expected a lower-case name of letters, digits and _ such as attendance';

/** '?' outside quoted literals and -- comments: the parameters a query takes. */
export function countSqlPlaceholders(sql: string): number {
  let n = 0;
  let q: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (q) {
      if (c === q) q = null;
    } else if (c === "'" || c === '"' || c === '`') q = c;
    else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (c === '?') n++;
  }
  return n;
}

/** A ';' outside quotes that is followed by more than whitespace: a second statement. */
function hasSecondStatement(sql: string): boolean {
  let q: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (q) {
      if (c === q) q = null;
    } else if (c === "'" || c === '"' || c === '`') q = c;
    else if (c === ';' && sql.slice(i + 1).trim() !== '') return true;
  }
  return false;
}

export function readDialplan(m: MapReader, baseDir: string): DialplanConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const file = m.optionalString('file', { expect: 'expected a file path such as extensions.conf' });
  const fileAt = m.issues.pos(m.has('file') ? m.valueOffset('file') : m.offset);
  const maxSteps = m.int('max_steps', 10000, 10, 1_000_000, 'applications per call');
  const recordings = abs(m.string('recordings', 'var/recordings', { expect: 'expected a directory such as var/recordings' }));
  const digitTimeout = m.int('digit_timeout', 3, 1, 60, 'seconds');
  const lookupTimeout = m.int('lookup_timeout', 3, 1, 60, 'seconds');

  const datasources: Record<string, DialplanDatasourceConfig> = {};
  const dm = m.child('datasources');
  for (const name of dm.keys()) {
    if (!NAME_RE.test(name)) {
      dm.issues.add(dm.keyOffset(name), `dialplan.datasources key "${name}" is not valid; ${NAME_EXPECT}`);
      dm.node(name);
      continue;
    }
    const s = dm.child(name);
    const at = s.issues.pos(dm.keyOffset(name));
    const driver = s.oneOf('driver', 'sqlite', ['sqlite', 'postgres', 'mysql'] as const);
    if (driver === 'sqlite') {
      const path = s.string('path', '', { required: true, expect: 'expected the SQLite file such as attendance.db (opened read-only)' });
      if (s.has('url')) s.error('url', `dialplan.datasources.${name}.url is only used with driver postgres or mysql; use path for sqlite`);
      const createFrom = s.optionalString('create_from', { expect: 'expected an SQL script such as attendance.sql' });
      if (path) datasources[name] = { driver, path: abs(path), at, ...(createFrom ? { createFrom: abs(createFrom) } : {}) };
    } else {
      const example = driver === 'postgres' ? 'postgres://reader@127.0.0.1:5432/school' : 'mysql://reader@127.0.0.1:3306/school';
      const url = s.string('url', '', { required: true, expect: `expected a URL such as ${example}` });
      if (s.has('path')) s.error('path', `dialplan.datasources.${name}.path is only used with driver sqlite; give url for ${driver}`);
      if (s.has('create_from')) s.error('create_from', `dialplan.datasources.${name}.create_from is only used with driver sqlite`);
      let ok = false;
      try {
        const u = new URL(url);
        ok = (driver === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:']).includes(u.protocol) && u.hostname !== '' && u.pathname.length > 1;
      } catch {
        ok = false;
      }
      if (url && !ok) s.error('url', `dialplan.datasources.${name}.url is not a ${driver} URL with host and database; expected a URL such as ${example}`);
      else if (url) datasources[name] = { driver, url, at };
    }
    s.done();
  }
  dm.done();

  const queries: Record<string, DialplanQueryConfig> = {};
  const qm = m.child('queries');
  for (const name of qm.keys()) {
    if (!NAME_RE.test(name)) {
      qm.issues.add(qm.keyOffset(name), `dialplan.queries key "${name}" is not valid; ${NAME_EXPECT}`);
      qm.node(name);
      continue;
    }
    const s = qm.child(name);
    const at = s.issues.pos(qm.keyOffset(name));
    const ds = s.string('datasource', '', { required: true, expect: 'expected the name of an entry in dialplan.datasources' });
    const sql = s.string('sql', '', { required: true, expect: 'expected a SELECT with ? placeholders, such as SELECT percent FROM attendance WHERE student_id = ?' }).trim();
    if (ds && !dm.keys().includes(ds)) {
      s.error('datasource', `dialplan.queries.${name}.datasource "${ds}" is not defined; expected one of: ${dm.keys().join(', ') || '(none — add dialplan.datasources)'}`);
    }
    if (sql && !/^(select|with)\b/i.test(sql)) {
      s.error('sql', `dialplan.queries.${name}.sql must be a read-only SELECT (or WITH ... SELECT); DBLookup never writes`);
    } else if (sql && hasSecondStatement(sql)) {
      s.error('sql', `dialplan.queries.${name}.sql holds more than one statement; expected a single SELECT`);
    }
    s.done();
    if (ds && sql) queries[name] = { datasource: ds, sql: sql.replace(/;\s*$/, ''), params: countSqlPlaceholders(sql), at };
  }
  qm.done();
  m.done();
  return { file: file === null ? null : abs(file), fileAt, maxSteps, recordings, digitTimeout, lookupTimeout, datasources, queries };
}
