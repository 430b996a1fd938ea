// The REST API against a running `palisade start` (issue 10): accounts made
// with `palisade admin add/token`, the OpenAPI document, extensions created
// through the API registering from SIPp at once, sessions with CSRF and
// cross-origin refusals, every role's allowed and refused operations (the
// auditor refused on every state-changing route of the OpenAPI document),
// an expired token, the change log, login guessing banned like SIP
// guessing (and read by fail2ban's filter), admin.acl at the connection,
// /metrics, a live call hung up through the API, CDR search and CSV, and
// the dialplan editor's validate/replace/reload.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { sippCsv } from '../helpers/users.js';
import { apiCall, sessionCookie, type ApiCall } from '../helpers/http-api.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { pollUntil } from '../helpers/wait.js';

const THRESHOLD = 3;
const dir = mkdtempSync(join(tmpdir(), 'palisade-console-api-'));
let pal: PalisadeProcess;
let base: string;
let rootPassword: string;
let rootToken: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bin = () => join(repoRoot(), 'bin', 'palisade.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin(), ...args, '--config', pal.configPath], { cwd: pal.dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const api = (c: ApiCall) => apiCall(base, c);
const asRoot = (c: Omit<ApiCall, 'token'>) => api({ ...c, token: rootToken });

async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

before(async () => {
  const [httpPort] = await freeLocalPorts(1);
  base = `http://127.0.0.1:${httpPort}`;
  writeFileSync(join(dir, 'extensions.conf'), ['[default]', 'exten => 600,1,Answer()', ' same => n,Wait(60)', ' same => n,Hangup()', ''].join('\n'));
  pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.0/29] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'security:',
      '  ids:',
      `    auth_failures: { threshold: ${THRESHOLD}, window: 120 }`,
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
    ].join('\n'),
  });
  const add = cli(['admin', 'add', 'root', '--role', 'admin']);
  assert.equal(add.status, 0, add.stderr);
  rootPassword = add.stdout.trim().split('\n').at(-1)!;
  const tok = cli(['admin', 'token', 'root']);
  assert.equal(tok.status, 0, tok.stderr);
  rootToken = tok.stdout.trim().split('\n').at(-1)!;
});

after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('palisade admin add prints a password once, held to the policy; a weak one is refused; admin token works as Bearer', async () => {
  assert.match(rootPassword, /^\S{20}$/);
  assert.match(rootToken, /^pal_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
  // neither is stored in clear
  const db = new BetterSqlite3(join(pal.dir, 'palisade.db'), { readonly: true });
  const dump = JSON.stringify([db.prepare('SELECT * FROM console_accounts').all(), db.prepare('SELECT * FROM console_tokens').all()]);
  db.close();
  assert.ok(dump.includes('scrypt$'), 'the password is an scrypt hash');
  assert.ok(!dump.includes(rootPassword) && !dump.includes(rootToken.slice(17)), 'neither the password nor the token secret is in the database');
  assert.equal(cli(['admin', 'add', 'root', '--role', 'admin']).status, 1, 'a second account of the same name is refused');
  const bad = cli(['admin', 'add', 'bob', '--role', 'superuser']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--role "superuser" is not one of admin, operator, auditor/);
  const me = await asRoot({ path: '/api/v1/session' });
  assert.equal(me.status, 200);
  assert.deepEqual([me.json.account, me.json.role, me.json.via], ['root/token', 'admin', 'token']);
  assert.equal((await api({ path: '/api/v1/status' })).status, 401, 'no credentials: 401');
  assert.equal((await api({ path: '/api/v1/status', token: `${rootToken.slice(0, -1)}x` })).status, 401, 'a token one character off: 401');
});

test('the OpenAPI 3.1 document lists every resource; the reference page is served; security headers are set', async () => {
  const doc = await api({ path: '/api/v1/openapi.json' });
  assert.equal(doc.status, 200);
  assert.equal(doc.json.openapi, '3.1.0');
  for (const p of [
    '/api/v1/extensions',
    '/api/v1/cdr',
    '/api/v1/cdr.csv',
    '/api/v1/calls/{id}',
    '/api/v1/bans/{address}',
    '/api/v1/changes',
    '/api/v1/dialplan/files/{name}',
    '/api/v1/events',
  ]) {
    assert.ok(doc.json.paths[p], `${p} is documented`);
  }
  assert.equal(doc.json.paths['/api/v1/extensions'].post.requestBody.content['application/json'].schema.properties.number.pattern, '^[0-9]{1,15}$');
  const ui = await api({ path: '/api/v1/docs/' });
  assert.equal(ui.status, 200);
  assert.match(ui.text, /swagger/i);
  const h = (await asRoot({ path: '/api/v1/status' })).headers;
  assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
});

let created: { number: string; secret: string };

test('an extension created through the API has a generated secret shown once and registers from SIPp at once; disabled it cannot; enabled it can again', async () => {
  const bad = await asRoot({ method: 'POST', path: '/api/v1/extensions', body: { number: '30x1', context: 'default', colour: 'red' } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json.errors.map((e: { field: string }) => e.field).sort(), ['colour', 'number']);
  const noCtx = await asRoot({ method: 'POST', path: '/api/v1/extensions', body: { number: '3001', context: 'nosuch' } });
  assert.equal(noCtx.status, 400);
  assert.match(noCtx.json.message, /"nosuch" is not in the dialplan/);

  const r = await asRoot({ method: 'POST', path: '/api/v1/extensions', body: { number: '3001', name: 'Desk 3001', context: 'default' } });
  assert.equal(r.status, 201, r.text);
  created = { number: '3001', secret: r.json.secret };
  assert.match(created.secret, /^\S{20}$/);
  const list = await asRoot({ path: '/api/v1/extensions' });
  const row = list.json.find((e: { number: string }) => e.number === '3001');
  assert.equal(row.source, 'database');
  assert.equal(row.secret, undefined, 'the secret is never shown again');
  assert.ok(!list.text.includes(created.secret));
  assert.equal((await asRoot({ method: 'POST', path: '/api/v1/extensions', body: { number: '3001' } })).status, 409);

  const csv = join(dir, 'sipp-3001.csv');
  writeFileSync(csv, sippCsv([{ number: '3001', secret: created.secret, name: 'Desk' }]));
  const reg = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, dir });
  assert.equal(reg.stats?.successful, 1, `REGISTER with the API's secret succeeds:\n${reg.errors.slice(0, 1500)}`);
  const regs = await asRoot({ path: '/api/v1/registrations' });
  assert.ok(
    regs.json.some((b: { aor: string }) => b.aor === '3001'),
    'listed among registrations',
  );

  const dis = await asRoot({ method: 'PATCH', path: '/api/v1/extensions/3001', body: { disabled: true } });
  assert.equal(dis.status, 200, dis.text);
  assert.equal(dis.json.disabled, true);
  const refused = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, dir });
  assert.equal(refused.stats?.successful ?? 0, 0, 'a disabled extension cannot register');
  // the attempt reached the server: the digest was refused as for an unknown account
  await waitFor('InvalidAccountID for 3001', async () => {
    const f = join(pal.dir, 'var', 'security.log');
    return (
      existsSync(f) &&
      readFileSync(f, 'utf8')
        .split('\n')
        .some((l) => l.includes('SecurityEvent="InvalidAccountID"') && l.includes('AccountID="3001"'))
    );
  });
  const en = await asRoot({ method: 'PATCH', path: '/api/v1/extensions/3001', body: { disabled: false, name: 'Desk three' } });
  assert.equal(en.status, 200);
  const again = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, dir });
  assert.equal(again.stats?.successful, 1, 'enabled again, with its secret unchanged');
});

test('sessions: HttpOnly SameSite=Strict cookie; state changes need the CSRF token; a cross-origin request is refused', async () => {
  const login = await api({ method: 'POST', path: '/api/v1/session', body: { name: 'root', password: rootPassword } });
  assert.equal(login.status, 200, login.text);
  const set = String(login.headers['set-cookie']);
  assert.match(set, /HttpOnly/i);
  assert.match(set, /SameSite=Strict/i);
  const cookie = sessionCookie(login);
  const csrf = login.json.csrf as string;
  assert.ok(csrf.length >= 24);
  assert.equal((await api({ path: '/api/v1/status', cookie })).status, 200, 'reading needs no token');

  const body = { number: '3002', context: 'default' };
  const noCsrf = await api({ method: 'POST', path: '/api/v1/extensions', cookie, body });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.json.error, 'csrf');
  const wrong = await api({ method: 'POST', path: '/api/v1/extensions', cookie, csrf: `${csrf.slice(0, -2)}xx`, body });
  assert.equal(wrong.status, 403);
  const cross = await api({ method: 'POST', path: '/api/v1/extensions', cookie, csrf, body, headers: { origin: 'http://evil.example' } });
  assert.equal(cross.status, 403);
  assert.equal(cross.json.error, 'cross-origin');
  const crossRead = await api({ path: '/api/v1/extensions', cookie, headers: { origin: 'http://evil.example' } });
  assert.equal(crossRead.status, 403, 'a cross-origin read is refused too');
  const crossLogin = await api({ method: 'POST', path: '/api/v1/session', body: { name: 'root', password: rootPassword }, headers: { origin: 'http://evil.example' } });
  assert.equal(crossLogin.status, 403);
  assert.equal(
    (await asRoot({ path: '/api/v1/extensions' })).json.some((e: { number: string }) => e.number === '3002'),
    false,
    'none of them created anything',
  );

  const ok = await api({ method: 'POST', path: '/api/v1/extensions', cookie, csrf, body, headers: { origin: base } });
  assert.equal(ok.status, 201, ok.text);
  const out = await api({ method: 'DELETE', path: '/api/v1/session', cookie, csrf });
  assert.equal(out.status, 200);
  assert.equal((await api({ path: '/api/v1/status', cookie })).status, 401, 'the session ends at logout');
});

let operatorToken: string;
let auditorToken: string;

test('roles: the auditor is refused on every state-changing route; operator and auditor get what their role allows and nothing more', async () => {
  for (const [name, role] of [
    ['olga', 'operator'],
    ['audrey', 'auditor'],
  ]) {
    const a = await asRoot({ method: 'POST', path: '/api/v1/accounts', body: { name, role } });
    assert.equal(a.status, 201, a.text);
    assert.match(a.json.password, /^\S{20}$/);
    const t = await asRoot({ method: 'POST', path: '/api/v1/tokens', body: { account: name, days: 1 } });
    assert.equal(t.status, 201, t.text);
    if (role === 'operator') operatorToken = t.json.token;
    else auditorToken = t.json.token;
  }
  const changesBefore = (await asRoot({ path: '/api/v1/changes' })).json.total as number;

  // every state-changing operation the API documents, with a plausible body
  const doc = (await api({ path: '/api/v1/openapi.json' })).json;
  const samples: Record<string, string> = { number: '3001', id: 'AAAAAAAAAAAA', address: '192.0.2.1', subject: '3001', name: 'extensions.conf' };
  let tried = 0;
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) {
      if (method === 'get' || path === '/api/v1/session') continue;
      const url = path.replace(/\{(\w+)\}/g, (_, k: string) => samples[k] ?? 'x');
      const r = await api({ method: method.toUpperCase(), path: url, token: auditorToken, body: {} });
      assert.equal(r.status, 403, `${method.toUpperCase()} ${url} refused to the auditor (got ${r.status} ${r.text})`);
      assert.equal(r.json.error, 'forbidden');
      tried++;
    }
  }
  assert.ok(tried >= 15, `every state-changing route was tried (${tried})`);
  for (const p of ['/api/v1/cdr', '/api/v1/changes', '/api/v1/audit', '/api/v1/security/events', '/api/v1/bans', '/api/v1/status']) {
    assert.equal((await api({ path: p, token: auditorToken })).status, 200, `auditor reads ${p}`);
  }
  for (const p of ['/api/v1/extensions', '/api/v1/accounts', '/api/v1/tokens', '/api/v1/dialplan/files', '/api/v1/calls']) {
    assert.equal((await api({ path: p, token: auditorToken })).status, 403, `auditor may not read ${p}`);
  }

  // operator: live calls and bans, not accounts, extensions or the dialplan
  const ban = await api({ method: 'POST', path: '/api/v1/bans', token: operatorToken, body: { address: '192.0.2.77', for: '1h', reason: 'test' } });
  assert.equal(ban.status, 201, ban.text);
  assert.ok((await api({ path: '/api/v1/bans', token: operatorToken })).json.some((b: { address: string }) => b.address === '192.0.2.77'));
  assert.equal((await api({ method: 'DELETE', path: '/api/v1/bans/192.0.2.77', token: operatorToken })).status, 200);
  assert.equal((await api({ method: 'DELETE', path: '/api/v1/bans/192.0.2.77', token: operatorToken })).status, 404, 'not banned any more');
  assert.equal((await api({ path: '/api/v1/calls', token: operatorToken })).status, 200);
  for (const [method, path, body] of [
    ['POST', '/api/v1/extensions', { number: '3009' }],
    ['POST', '/api/v1/accounts', { name: 'mallory', role: 'admin' }],
    ['POST', '/api/v1/tokens', { account: 'olga', role: 'admin' }],
    ['PUT', '/api/v1/dialplan/files/extensions.conf', { content: '' }],
    ['GET', '/api/v1/accounts', undefined],
    ['GET', '/api/v1/changes', undefined],
  ] as const) {
    const r = await api({ method, path, token: operatorToken, body });
    assert.equal(r.status, 403, `operator refused ${method} ${path}`);
  }
  const changes = await asRoot({ path: '/api/v1/changes?limit=1000' });
  assert.equal(changes.json.total, changesBefore + 2, "only the operator's ban and unban were logged");
  assert.ok(
    changes.json.rows.every((r: { actor: string }) => !r.actor.startsWith('audrey')),
    'the auditor changed nothing',
  );
});

test('a token past its expiry is refused', async () => {
  const t = await asRoot({ method: 'POST', path: '/api/v1/tokens', body: { account: 'audrey', days: 1, label: 'short' } });
  assert.equal(t.status, 201);
  assert.equal((await api({ path: '/api/v1/cdr', token: t.json.token })).status, 200, 'valid before its expiry');
  // its expiry passes (written as the store keeps it), and the server re-reads its tokens
  const db = new BetterSqlite3(join(pal.dir, 'palisade.db'));
  db.prepare('UPDATE console_tokens SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, t.json.id);
  db.close();
  await controlRequest(join(pal.dir, 'control.sock'), 'console-reload', {});
  const r = await api({ path: '/api/v1/cdr', token: t.json.token });
  assert.equal(r.status, 401);
  const listed = (await asRoot({ path: '/api/v1/tokens' })).json.find((x: { id: string }) => x.id === t.json.id);
  assert.equal(listed.expired, true);
  assert.equal((await api({ path: '/api/v1/cdr', token: auditorToken })).status, 200, 'the other token of the account still works');
});

test('the change log: who, role, how, from where, what, before and after; no route edits it', async () => {
  const r = await asRoot({ path: '/api/v1/changes?target=3001&limit=100' });
  const actions = r.json.rows.map((x: { action: string }) => x.action).reverse();
  assert.deepEqual(actions.slice(0, 3), ['extension.create', 'extension.disable', 'extension.enable']);
  const en = r.json.rows.find((x: { action: string }) => x.action === 'extension.enable');
  assert.equal(en.actor, 'root/token');
  assert.equal(en.role, 'admin');
  assert.equal(en.via, 'token');
  assert.equal(en.remote, '127.0.0.1');
  assert.equal(en.before.name, 'Desk 3001');
  assert.equal(en.after.name, 'Desk three');
  assert.ok(!JSON.stringify(r.json).includes(created.secret), 'no secret in the change log');
  const session = r.json.rows.length;
  assert.ok(session >= 3);
  for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
    const x = await asRoot({ method, path: '/api/v1/changes', body: {} });
    assert.equal(x.status, 404, `${method} /changes does not exist`);
    const y = await asRoot({ method, path: `/api/v1/changes/${en.id}`, body: {} });
    assert.equal(y.status, 404);
  }
});

test('a live call is listed and hung up through the API; its CDR is found by search and in the CSV export', async () => {
  const csv = join(dir, 'sipp-call.csv');
  writeFileSync(csv, sippCsv([{ number: '3001', secret: created.secret, name: 'Desk' }]));
  const sipp = await startSipp({ scenario: 'call-callee-bye-uac', target: pal.target, inf: [csv], service: '600', calls: 1, rate: 1, timeoutS: 60, dir });
  const call = await waitFor('the call in /calls', async () => {
    const r = await api({ path: '/api/v1/calls', token: operatorToken });
    return (r.json as Array<{ id: string; from: string; to: string; state: string }>).find((c) => c.from === '3001' && c.to === '600' && c.state === 'answered');
  });
  const h = await api({ method: 'DELETE', path: `/api/v1/calls/${encodeURIComponent(call.id)}`, token: operatorToken });
  assert.equal(h.status, 200, h.text);
  const done = await sipp.done;
  assert.equal(done.stats?.successful, 1, `the caller got the BYE:\n${done.errors.slice(0, 1500)}`);
  assert.equal((await api({ method: 'DELETE', path: `/api/v1/calls/${encodeURIComponent(call.id)}`, token: operatorToken })).status, 404);

  const found = await waitFor('the CDR', async () => {
    const r = await api({ path: '/api/v1/cdr?number=3001&limit=10', token: auditorToken });
    return r.json.total >= 1 ? r.json : null;
  });
  assert.equal(found.rows[0].src, '3001');
  assert.equal(found.rows[0].dst, '600');
  assert.equal(found.rows[0].disposition, 'ANSWERED');
  assert.equal((await api({ path: '/api/v1/cdr?number=9999', token: auditorToken })).json.total, 0, 'the filter filters');
  assert.equal((await api({ path: '/api/v1/cdr?limit=0', token: auditorToken })).status, 400);
  const page = await api({ path: '/api/v1/cdr?number=3001&limit=1&offset=1', token: auditorToken });
  assert.equal(page.json.rows.length, Math.min(1, found.total - 1));
  const csvr = await api({ path: '/api/v1/cdr.csv?number=3001', token: auditorToken });
  assert.equal(csvr.status, 200);
  assert.match(String(csvr.headers['content-type']), /^text\/csv/);
  const lines = csvr.text.trim().split('\r\n');
  assert.equal(lines[0]!.split(',')[0], 'start');
  assert.ok(
    lines.slice(1).some((l) => l.includes(',3001,600,') && l.includes('ANSWERED')),
    csvr.text,
  );
  const changes = await asRoot({ path: '/api/v1/changes?action=call.hangup' });
  assert.equal(changes.json.rows[0].actor, 'olga/token');
});

test('the dialplan: validate shows file:line errors, a broken replacement is refused and changes nothing, a good one is reloaded', async () => {
  const files = await asRoot({ path: '/api/v1/dialplan/files' });
  assert.deepEqual(files.json, [{ name: 'extensions.conf', main: true }]);
  const cur = await asRoot({ path: '/api/v1/dialplan/files/extensions.conf' });
  const broken = `${cur.json.content}exten => 601,1,Playbak(hello)\n`;
  const v = await asRoot({ method: 'POST', path: '/api/v1/dialplan/files/extensions.conf/validate', body: { content: broken } });
  assert.equal(v.json.ok, false);
  assert.equal(v.json.errors[0].file, 'extensions.conf');
  assert.equal(v.json.errors[0].line, 5);
  assert.match(v.json.errors[0].message, /Playback/);
  const put = await asRoot({ method: 'PUT', path: '/api/v1/dialplan/files/extensions.conf', body: { content: broken } });
  assert.equal(put.status, 400);
  assert.equal(readFileSync(join(dir, 'extensions.conf'), 'utf8'), cur.json.content, 'the file is unchanged');
  const good = `${cur.json.content}[lobby]\nexten => 700,1,Answer()\n`;
  const ok = await asRoot({ method: 'PUT', path: '/api/v1/dialplan/files/extensions.conf', body: { content: good } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.reloaded.contexts, 2);
  assert.equal(readFileSync(join(dir, 'extensions.conf'), 'utf8'), good);
  const rules = await asRoot({ path: '/api/v1/extensions/rules' });
  assert.deepEqual(rules.json.contexts.sort(), ['default', 'lobby'], 'the reloaded dialplan is in use');
  assert.equal((await asRoot({ path: '/api/v1/dialplan/files/..%2Fpalisade.yaml' })).status, 400, 'no path outside the dialplan folder');
});

test('GET /metrics: transactions by method and status, calls, registrations, auth failures; event-loop delay', async () => {
  const m = await api({ path: '/metrics' });
  assert.equal(m.status, 200);
  assert.match(m.text, /^palisade_sip_transactions_total\{method="REGISTER",status="200"\} [1-9]/m);
  assert.match(m.text, /^palisade_sip_transactions_total\{method="INVITE",status="200"\} [1-9]/m);
  assert.match(m.text, /^palisade_calls_total\{outcome="answered"\} [1-9]/m);
  assert.match(m.text, /^palisade_registrations [1-9]/m);
  assert.match(m.text, /^palisade_auth_failures_total [1-9]/m);
  assert.match(m.text, /^palisade_nodejs_eventloop_lag_p99_seconds /m);
  // the quality module's per-call histograms are served beside them (observed as each call record is written)
  for (const h of ['palisade_call_rtp_loss_percent', 'palisade_call_rtp_jitter_ms', 'palisade_call_mos']) assert.match(m.text, new RegExp(`^# TYPE ${h} histogram$`, 'm'));
});

test('login guessing is banned like SIP guessing: security log lines fail2ban reads, then the address gets no answer', async () => {
  const guesser = '127.0.0.5';
  assert.equal((await api({ path: '/api/v1/status', localAddress: guesser })).status, 401, 'served before it guesses');
  const t0 = Date.now();
  const wrong = await api({ method: 'POST', path: '/api/v1/session', body: { name: 'root', password: 'Wr0ng-but-long-enough' }, localAddress: guesser });
  const tWrong = Date.now() - t0;
  const t1 = Date.now();
  const unknown = await api({ method: 'POST', path: '/api/v1/session', body: { name: 'nobody', password: 'Wr0ng-but-long-enough' }, localAddress: guesser });
  const tUnknown = Date.now() - t1;
  assert.deepEqual([wrong.status, wrong.text], [unknown.status, unknown.text], 'an unknown account and a wrong password get the same answer');
  assert.ok(Math.abs(tWrong - tUnknown) < 250, `both take the scrypt time (${tWrong} vs ${tUnknown} ms)`);
  for (let i = 2; i < THRESHOLD; i++) await api({ method: 'POST', path: '/api/v1/session', body: { name: 'root', password: `guess-${i}-Xy7pQ` }, localAddress: guesser });
  await waitFor('the ban', async () => ((await asRoot({ path: '/api/v1/bans' })).json as Array<{ address: string }>).some((b) => b.address === guesser));
  const after = await api({ path: '/api/v1/status', localAddress: guesser });
  assert.equal(after.status, 0, 'banned: the connection is closed without an answer');
  assert.ok(after.error, 'a connection error, not an HTTP answer');
  // the log: one Asterisk-format line per failure, service HTTP, naming the guesser; fail2ban's stock filter reads them
  // (the log stream writes asynchronously: wait up to 10 s for the last failure's line)
  const file = join(pal.dir, 'var', 'security.log');
  const guesserLines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('res_security_log.c') && l.includes('Service="HTTP"') && l.includes(`RemoteAddress="IPV4/TCP/${guesser}/`));
  const failureLines = (ls: string[]) => ls.filter((l) => /SecurityEvent="(InvalidPassword|InvalidAccountID)"/.test(l));
  await pollUntil(() => existsSync(file) && failureLines(guesserLines()).length >= THRESHOLD);
  const lines = guesserLines();
  assert.equal(failureLines(lines).length, THRESHOLD);
  assert.ok(lines.some((l) => l.includes('SecurityEvent="InvalidAccountID"') && l.includes('AccountID="nobody"')));
  assert.ok(!readFileSync(file, 'utf8').includes('Wr0ng-but-long-enough'), 'no password in the log');
  const f2b = spawnSync('fail2ban-regex', ['-o', 'ip', file, '/etc/fail2ban/filter.d/asterisk.conf'], { encoding: 'utf8', timeout: 60_000 });
  const hosts = f2b.stdout.split('\n').filter((l) => l.trim() === guesser);
  assert.ok(hosts.length >= THRESHOLD, `fail2ban matched the HTTP failures:\n${f2b.stdout.slice(0, 500)}${f2b.stderr.slice(0, 500)}`);
  // the ban is lifted through the API and the address is served again
  assert.equal((await asRoot({ method: 'DELETE', path: `/api/v1/bans/${guesser}` })).status, 200);
  assert.equal((await api({ path: '/api/v1/status', localAddress: guesser })).status, 401);
});

test('admin.acl: an address outside it gets nothing, /metrics included; the refusal is logged and counted', async () => {
  const outsider = '127.0.0.9';
  for (const path of ['/metrics', '/api/v1/openapi.json', '/']) {
    const r = await api({ path, localAddress: outsider });
    assert.equal(r.status, 0, `${path}: no answer`);
  }
  await waitFor('the refusal in the log', async () => pal.events().some((e) => e.event === 'http-refused' && e.remote === outsider && e.reason === 'admin.acl'));
  const m = await api({ path: '/metrics' });
  assert.match(m.text, /^palisade_http_refused_total\{reason="acl"\} [3-9]/m);
});
