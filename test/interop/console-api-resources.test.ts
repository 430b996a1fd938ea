// The API resources of the feature modules against a running `palisade
// start` (issue 10): trunks, outbound and inbound routes and time conditions
// (trunks module), queues and agents (queues module), voicemail boxes
// (voicemail module), fraud numbers and IVR prompts (console module over the
// security module's list and prompts.custom_dir). For each: every role's
// allowed and refused operations (a refusal answered by the server, the
// object read back unchanged), a validation error, the change-log entry,
// and the change taking effect without a restart: a route edited through
// the API changes the number a SIPp caller's call reaches the SIPp trunk
// with; an inbound route's time condition edited through the API changes
// where the trunk's next call goes; a fraud prefix added through the API
// stops the next call at the call gate. A restart finds what the API made.
// The TOTP second factor: login refused without a code and with a wrong
// one, accepted with the code of RFC 6238 computed here by node:crypto.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { apiCall, type ApiCall } from '../helpers/http-api.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { pcmToWav } from '../../src/features/voicemail/wav-info.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-api-res-'));
const customDir = join(dir, 'sounds');
const runDir = join(dir, 'run');
let palOptions: Parameters<typeof startPalisade>[0];
let pal: PalisadeProcess;
let provider: SippProcess;
let provPort: number;
let base: string;
let root: string;
let operator: string;
let auditor: string;
const caller = makeUsers(1, { first: 1001 })[0]!;

const bin = () => join(repoRoot(), 'bin', 'palisade.js');
const cli = (args: string[]) => spawnSync(process.execPath, [bin(), ...args, '--config', pal.configPath], { cwd: pal.dir, encoding: 'utf8', timeout: 60_000 });
const api = (c: ApiCall) => apiCall(base, c);
const as = (token: string, method: string, path: string, body?: unknown) => api({ method, path: `/api/v1${path}`, token, body });
const ask = (cmd: string, args: Record<string, unknown> = {}) => controlRequest(join(pal.dir, 'control.sock'), cmd, args);

/** the newest change-log entry of an action */
async function lastChange(action: string): Promise<{ actor: string; role: string; action: string; target: string; before: unknown; after: unknown; remote: string }> {
  const r = await as(root, 'GET', `/changes?action=${encodeURIComponent(action)}&limit=1`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.rows.length > 0, `a change-log entry for ${action}`);
  return r.json.rows[0];
}

/** the first log event from line `from` on that matches */
async function eventAfter(from: number, pred: (e: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    for (const l of pal.lines.slice(from)) {
      try {
        const e = JSON.parse(l) as Record<string, unknown>;
        if (pred(e)) return e;
      } catch {
        // not a JSON line
      }
    }
    if (Date.now() > end) throw new Error(`no matching event after line ${from}; tail:\n${pal.lines.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** a call from 1001 (SIPp, digest auth) to `number`; the trunk answers 503, so it ends there */
async function callOut(number: string) {
  const csv = join(dir, `call-${number}-${Date.now()}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [number] }));
  return runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [csv], calls: 1, timeoutS: 20, dir });
}

before(async () => {
  const [httpPort, pp] = await freeLocalPorts(2);
  provPort = pp!;
  base = `http://127.0.0.1:${httpPort}`;
  mkdirSync(customDir);
  writeFileSync(
    join(dir, 'extensions.conf'),
    ['[default]', 'exten => 600,1,Answer()', ' same => n,Wait(0.3)', ' same => n,Hangup()', 'exten => 601,1,Answer()', ' same => n,Wait(0.3)', ' same => n,Hangup()', ''].join(
      '\n',
    ),
  );
  writeFileSync(join(dir, 'queues.conf'), '[general]\npersistentmembers = no\n\n[support]\nstrategy = ringall\ntimeout = 5\nmember => PJSIP/1001\n');
  provider = await startSipp({ scenario: 'provider-503-uas', target: '127.0.0.1', port: provPort, traceMsg: true, timeoutS: 300, dir });
  mkdirSync(runDir);
  palOptions = {
    dir: runDir,
    transports: ['udp'],
    users: [caller],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.1/32] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
      'queues:',
      `  file: ${join(dir, 'queues.conf')}`,
      `  log_file: ${join(dir, 'queue_log')}`,
      'prompts:',
      `  custom_dir: ${customDir}`,
      'trunks:',
      '  - name: prov',
      '    host: 127.0.0.1',
      `    port: ${provPort}`,
      'routes:',
      '  time_conditions:',
      '    - name: always',
      '      times: ["*,*,*,*"]',
    ].join('\n'),
  };
  pal = await startPalisade(palOptions);
  const tokenOf = (name: string, role: string) => {
    const add = cli(['admin', 'add', name, '--role', role]);
    assert.equal(add.status, 0, add.stderr);
    const tok = cli(['admin', 'token', name]);
    assert.equal(tok.status, 0, tok.stderr);
    return tok.stdout.trim().split('\n').at(-1)!;
  };
  root = tokenOf('root', 'admin');
  operator = tokenOf('olga', 'operator');
  auditor = tokenOf('audrey', 'auditor');
});

after(async () => {
  await provider?.stop().catch(() => undefined);
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the OpenAPI document lists the new resources with their schemas', async () => {
  const doc = (await api({ path: '/api/v1/openapi.json' })).json;
  for (const p of [
    '/api/v1/trunks',
    '/api/v1/routes/outbound',
    '/api/v1/routes/outbound/{name}',
    '/api/v1/routes/inbound/{name}',
    '/api/v1/time-conditions/{name}',
    '/api/v1/queues',
    '/api/v1/queues/{queue}/members/{interface}/pause',
    '/api/v1/voicemail/boxes',
    '/api/v1/voicemail/boxes/{mailbox}/pin',
    '/api/v1/voicemail/boxes/{mailbox}/messages/{id}',
    '/api/v1/fraud-numbers',
    '/api/v1/fraud-numbers/{prefix}',
    '/api/v1/prompts/{name}',
  ]) {
    assert.ok(doc.paths[p], `${p} is documented`);
  }
  const create = doc.paths['/api/v1/routes/outbound'].post;
  const schema = create.requestBody.content['application/json'].schema;
  assert.deepEqual(schema.required.sort(), ['match', 'name', 'trunks']);
  assert.equal(schema.additionalProperties, false);
  assert.match(create.description, /Roles: admin$/);
});

test('routes: admin creates and edits an outbound route, a SIPp call follows each edit at once; operator and auditor are refused; validation; change log', async () => {
  // the file's trunk and time condition are listed, read-only
  const trunks = await as(root, 'GET', '/trunks');
  assert.equal(trunks.status, 200, trunks.text);
  assert.deepEqual(
    trunks.json.map((t: { name: string }) => t.name),
    ['prov'],
  );
  const tcs = await as(root, 'GET', '/time-conditions');
  assert.deepEqual(tcs.json, [{ name: 'always', times: ['*,*,*,*'], holidays: [], source: 'config' }]);
  assert.equal((await as(root, 'PATCH', '/time-conditions/always', { times: ['09:00-17:00,mon-fri,*,*'] })).status, 409, 'a file time condition is edited in the file');

  // validation: the schema's and the server's own checks, field by field
  const badPattern = await as(root, 'POST', '/routes/outbound', { name: 'national', match: ['0abc'], trunks: ['prov'] });
  assert.equal(badPattern.status, 400);
  assert.equal(badPattern.json.error, 'validation');
  assert.equal(badPattern.json.errors[0].field, 'match.0');
  const badTrunk = await as(root, 'POST', '/routes/outbound', { name: 'national', match: ['_0X.'], trunks: ['porv'] });
  assert.equal(badTrunk.status, 400);
  assert.match(badTrunk.json.message, /trunks: "porv" is not a trunk \(trunks: prov\)/);
  const extra = await as(root, 'POST', '/routes/outbound', { name: 'national', match: ['_0X.'], trunks: ['prov'], pin: '1234' });
  assert.equal(extra.status, 400, 'no unknown fields (a PIN is written in the file only)');
  assert.equal((await as(root, 'GET', '/routes/outbound')).json.length, 0, 'nothing was created by the refused requests');

  // operator and auditor: refused, answered by the server, nothing created
  for (const t of [operator, auditor]) {
    for (const [m, p, b] of [
      ['GET', '/trunks', undefined],
      ['GET', '/routes/outbound', undefined],
      ['POST', '/routes/outbound', { name: 'sneaky', match: ['_9.'], trunks: ['prov'] }],
      ['POST', '/time-conditions', { name: 'sneaky', times: ['*,*,*,*'] }],
      ['GET', '/routes/inbound', undefined],
    ] as const) {
      const r = await as(t, m, p, b);
      assert.equal(r.status, 403, `${m} ${p} refused (${r.text})`);
      assert.equal(r.json.error, 'forbidden');
    }
  }

  const created = await as(root, 'POST', '/routes/outbound', { name: 'national', match: ['_0X.'], trunks: ['prov'], strip: 1, prepend: '49' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.source, 'database');
  const c1 = await lastChange('route.outbound.create');
  assert.deepEqual([c1.actor, c1.role, c1.target, c1.remote], ['root/token', 'admin', 'national', '127.0.0.1']);
  assert.equal((c1.after as { prepend: string }).prepend, '49');

  // a call: 030555 leaves as 4930555 — the route took effect without a restart
  await callOut('030555');
  await pal.waitForEvent((e) => e.event === 'route-attempt' && e.route === 'national' && e.trunk === 'prov', 10_000);

  // the operator may not edit it; read back unchanged
  assert.equal((await as(operator, 'PATCH', '/routes/outbound/national', { prepend: '99' })).status, 403);
  assert.equal((await as(root, 'GET', '/routes/outbound')).json[0].prepend, '49');
  // the edit: strip nothing, prepend nothing
  const bad = await as(root, 'PATCH', '/routes/outbound/national', { strip: 99 });
  assert.equal(bad.status, 400, 'strip is 0-32');
  const edited = await as(root, 'PATCH', '/routes/outbound/national', { strip: 0, prepend: '' });
  assert.equal(edited.status, 200, edited.text);
  const c2 = await lastChange('route.outbound.update');
  assert.deepEqual([(c2.before as { prepend: string }).prepend, (c2.after as { prepend: string }).prepend, (c2.after as { strip: number }).strip], ['49', '', 0]);
  const n = pal.lines.length;
  await callOut('030556');
  await eventAfter(n, (e) => e.event === 'route-attempt' && e.route === 'national', 10_000);

  // a time condition and an inbound route that uses it; the condition cannot be deleted while used
  assert.equal((await as(root, 'POST', '/time-conditions', { name: 'office', times: ['25:00-17:00,mon-fri,*,*'] })).status, 400, 'a time spec that does not parse');
  const tc = await as(root, 'POST', '/time-conditions', { name: 'office', times: ['09:00-17:00,mon-fri,*,*'], holidays: ['2026-12-25'] });
  assert.equal(tc.status, 201, tc.text);
  const inb = await as(root, 'POST', '/routes/inbound', { name: 'main-did', did: '4930123456', to: '600', time_condition: 'office', else: 'voicemail:2001' });
  assert.equal(inb.status, 201, inb.text);
  assert.equal((await as(root, 'POST', '/routes/inbound', { name: 'x', to: '600', time_condition: 'nope' })).status, 400);
  const del = await as(root, 'DELETE', '/time-conditions/office');
  assert.equal(del.status, 409);
  assert.match(del.json.message, /used by inbound route\(s\) main-did/);
  assert.equal((await as(root, 'DELETE', '/routes/inbound/main-did')).status, 200);
  assert.equal((await as(root, 'DELETE', '/time-conditions/office')).status, 200);
  assert.equal((await lastChange('time_condition.delete')).target, 'office');

  assert.equal((await as(root, 'GET', '/routes/outbound')).json[0].prepend, '');
});

test('fraud numbers: operator adds and removes a prefix, the call gate refuses the next call at once and lets it through after; auditor reads only', async () => {
  const before = (await ask('guard')) as { fraud_numbers: number };
  assert.equal((await as(auditor, 'POST', '/fraud-numbers', { prefix: '+4930' })).status, 403);
  assert.equal((await as(operator, 'POST', '/fraud-numbers', { prefix: '49x30' })).status, 400, 'a prefix is digits');
  const add = await as(operator, 'POST', '/fraud-numbers', { prefix: '+4930' });
  assert.equal(add.status, 201, add.text);
  assert.equal(((await ask('guard')) as { fraud_numbers: number }).fraud_numbers, before.fraud_numbers + 1, 'the running call gate has it');
  assert.equal((await as(operator, 'POST', '/fraud-numbers', { prefix: '4930' })).status, 409, 'listed already');
  const list = await as(auditor, 'GET', '/fraud-numbers');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.map((r: { prefix: string; source: string; added_by: string }) => [r.prefix, r.source, r.added_by]),
    [['4930', 'database', 'api:olga/token']],
  );
  const c = await lastChange('fraud.add');
  assert.deepEqual([c.actor, c.role, c.target], ['olga/token', 'operator', '4930']);

  // a call to a number in the range (030557 leaves by route "national" as 4930557): the call gate refuses it
  await as(root, 'PATCH', '/routes/outbound/national', { strip: 1, prepend: '49' });
  const n = pal.lines.length;
  await callOut('030557');
  const hit = await eventAfter(n, (e) => JSON.stringify(e).includes('fraud-list:4930'), 10_000);
  assert.ok(hit, 'refused by the fraud list');
  assert.equal((await as(auditor, 'DELETE', '/fraud-numbers/4930')).status, 403);
  const rm = await as(operator, 'DELETE', '/fraud-numbers/4930');
  assert.equal(rm.status, 200, rm.text);
  assert.equal(((await ask('guard')) as { fraud_numbers: number }).fraud_numbers, before.fraud_numbers, 'the running call gate dropped it');
  assert.equal((await as(operator, 'DELETE', '/fraud-numbers/4930')).status, 404);
  assert.equal((await lastChange('fraud.remove')).target, '4930');
  const m = pal.lines.length;
  await callOut('030558');
  await eventAfter(m, (e) => e.event === 'route-attempt' && e.route === 'national' && e.status === 'CONGESTION', 10_000);
  assert.ok(!pal.lines.slice(m).some((l) => l.includes('fraud-list:4930')), 'not refused any more');

  // what the trunk received: the rewritten number, the number as dialled after the edit, nothing of the
  // refused call, and the call after the prefix was removed
  const p = await provider.stop();
  const invites = [...p.messages.matchAll(/^INVITE sip:(\d+)@/gm)].map((x) => x[1]);
  assert.deepEqual(invites, ['4930555', '030556', '4930558'], p.messages.slice(0, 2000));
});

test('inbound route and time condition through the API: a call in from the trunk goes where the time condition says now, and follows its edit at once', async () => {
  /** a call in from the trunk's address and port (the SIPp provider has stopped; its port is free) */
  const callIn = (did: string) =>
    runSipp({ scenario: 'provider-call-in-uac', target: pal.target, port: provPort, service: did, set: { cid: '015112345' }, calls: 1, traceLogs: true, timeoutS: 20, dir });
  // no inbound route yet: the trunk's call finds none (the attempt reached the server)
  const none = await callIn('4930123456');
  assert.match(none.logs, /call-in-result: 404/);
  // closed today: a holiday today (the server's local date)
  const d = new Date();
  const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  assert.equal((await as(root, 'POST', '/time-conditions', { name: 'open', times: ['*,*,*,*'], holidays: [today] })).status, 201);
  const r = await as(root, 'POST', '/routes/inbound', { name: 'main', did: '4930123456', trunk: 'prov', to: 'default,600,1', time_condition: 'open', else: 'default,601,1' });
  assert.equal(r.status, 201, r.text);
  const n = pal.lines.length;
  const closed = await callIn('4930123456');
  assert.match(closed.logs, /call-in-result: 200/, closed.errors);
  const e1 = await eventAfter(n, (e) => e.event === 'inbound-route' && e.did === '4930123456', 10_000);
  assert.equal(e1.to, 'default,601,1', 'outside the time condition (a holiday): the else destination');
  // the holiday removed: inside the time condition, the route's own destination
  const edit = await as(root, 'PATCH', '/time-conditions/open', { holidays: [] });
  assert.equal(edit.status, 200, edit.text);
  const c = await lastChange('time_condition.update');
  assert.deepEqual([(c.before as { holidays: string[] }).holidays, (c.after as { holidays: string[] }).holidays], [[today], []]);
  const m = pal.lines.length;
  const open = await callIn('4930123456');
  assert.match(open.logs, /call-in-result: 200/, open.errors);
  const e2 = await eventAfter(m, (e) => e.event === 'inbound-route' && e.did === '4930123456', 10_000);
  assert.equal(e2.to, 'default,600,1');
  assert.equal((await as(operator, 'PATCH', '/routes/inbound/main', { to: '601' })).status, 403, 'an operator has no routes');
  assert.equal((await as(root, 'GET', '/routes/inbound')).json.find((x: { name: string }) => x.name === 'main').to, 'default,600,1');
});

test('queues: operator pauses, unpauses, adds and removes an agent in the running queue; auditor refused; validation; change log', async () => {
  const q = await as(operator, 'GET', '/queues');
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(
    q.json.map((x: { queue: string }) => x.queue),
    ['support'],
  );
  assert.equal((await as(auditor, 'GET', '/queues')).status, 403);
  const iface = encodeURIComponent('PJSIP/1001');
  assert.equal((await as(auditor, 'POST', `/queues/support/members/${iface}/pause`, {})).status, 403);
  const p = await as(operator, 'POST', `/queues/support/members/${iface}/pause`, { reason: 'lunch' });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.paused, true);
  // the running queue has it (the control socket reads the same service)
  const shown = (await ask('queue-show', { queue: 'support' })) as Array<{ members: Array<{ interface: string; paused: boolean }> }>;
  assert.equal(shown[0]!.members.find((x) => x.interface === 'PJSIP/1001')!.paused, true);
  const c = await lastChange('queue.pause');
  assert.deepEqual([c.actor, c.target, (c.before as { paused: boolean }).paused, (c.after as { paused: boolean }).paused], ['olga/token', 'support/PJSIP/1001', false, true]);
  assert.equal((await as(operator, 'POST', `/queues/support/members/${iface}/unpause`, {})).status, 200);
  assert.equal((await as(operator, 'POST', '/queues/support/members', { interface: 'not an interface' })).status, 400);
  assert.equal((await as(operator, 'POST', '/queues/nosuch/members', { interface: 'PJSIP/1002' })).status, 404);
  const add = await as(operator, 'POST', '/queues/support/members', { interface: 'PJSIP/1002', penalty: 2, name: 'Bob' });
  assert.equal(add.status, 201, add.text);
  assert.equal((await as(operator, 'POST', '/queues/support/members', { interface: 'PJSIP/1002' })).status, 409, 'a member already');
  assert.equal((await as(operator, 'DELETE', `/queues/support/members/${iface}`)).status, 409, 'a static member is removed in queues.conf');
  assert.equal((await as(operator, 'DELETE', `/queues/support/members/${encodeURIComponent('PJSIP/1002')}`)).status, 200);
  assert.equal((await lastChange('queue.member.remove')).target, 'support/PJSIP/1002');
});

test('voicemail boxes: operator lists, resets a PIN (shown once, stored hashed) and deletes a message; auditor refused; change log', async () => {
  const ext = await as(root, 'POST', '/extensions', { number: '2001', name: 'Vera' });
  assert.equal(ext.status, 201, ext.text);
  // the operator creates the extension's mailbox; the voicemail module has it at once
  assert.equal((await as(auditor, 'POST', '/voicemail/boxes', { number: '2001' })).status, 403);
  const badMail = await as(operator, 'POST', '/voicemail/boxes', { number: '2001', email: 'not-an-address' });
  assert.equal(badMail.status, 400);
  assert.equal(badMail.json.errors[0].field, 'email');
  assert.equal((await as(operator, 'POST', '/voicemail/boxes', { number: '2999' })).status, 404, 'no such extension');
  const listed = (await as(operator, 'GET', '/voicemail/boxes')).json.map((b: { mailbox: string }) => b.mailbox);
  assert.ok(!listed.includes('2001@default') && !listed.includes('2999@default'), `nothing made by the refused requests (${listed})`);
  const made = await as(operator, 'POST', '/voicemail/boxes', { number: '2001', email: 'vera@example.org' });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual([made.json.mailbox, made.json.email, made.json.name], ['2001@default', 'vera@example.org', 'Vera']);
  const cb = await lastChange('voicemail.box.create');
  assert.deepEqual([cb.actor, (cb.before as { voicemail: boolean }).voicemail, (cb.after as { voicemail: boolean }).voicemail], ['olga/token', false, true]);
  assert.equal((await as(operator, 'POST', '/voicemail/boxes', { number: '2001' })).status, 409, 'has a mailbox already');
  const renamed = await as(operator, 'PATCH', '/voicemail/boxes/2001', { name: 'Vera V.' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal((await as(root, 'GET', '/extensions')).json.find((e: { number: string }) => e.number === '2001').name, 'Vera V.', 'the extension has it too');
  assert.equal((await lastChange('voicemail.box.update')).target, '2001@default');
  // a message, left through the control socket
  const wav = join(dir, 'msg.wav');
  writeFileSync(
    wav,
    pcmToWav(
      new Int16Array(8000).map((_, i) => Math.round(8000 * Math.sin(i / 3))),
      8000,
    ),
  );
  await ask('voicemail-deposit', { mailbox: '2001', wav, from: '1001' });
  const boxes = await as(operator, 'GET', '/voicemail/boxes');
  assert.equal(boxes.status, 200, boxes.text);
  const box = boxes.json.find((b: { mailbox: string }) => b.mailbox === '2001@default');
  assert.deepEqual([box.new, box.pin_set, box.name], [1, false, 'Vera V.']);
  assert.equal((await as(auditor, 'GET', '/voicemail/boxes')).status, 403);
  assert.equal((await as(auditor, 'POST', '/voicemail/boxes/2001/pin')).status, 403);

  const pin = await as(operator, 'POST', '/voicemail/boxes/2001/pin');
  assert.equal(pin.status, 200, pin.text);
  assert.match(pin.json.pin, /^\d{6}$/);
  const c = await lastChange('voicemail.pin-reset');
  assert.equal(c.target, '2001@default');
  assert.ok(!JSON.stringify(c).includes(pin.json.pin), 'the PIN is not in the change log');
  const pinFile = join(pal.dir, 'var', 'voicemail', 'default', '2001', 'pin.json');
  assert.ok(existsSync(pinFile), pinFile);
  assert.ok(!readFileSync(pinFile, 'utf8').includes(pin.json.pin), 'stored as a hash');
  assert.equal((await as(operator, 'GET', '/voicemail/boxes')).json.find((b: { mailbox: string }) => b.mailbox === '2001@default').pin_set, true);
  assert.notEqual((await as(operator, 'POST', '/voicemail/boxes/2001/pin')).json.pin, pin.json.pin, 'a new PIN each time');

  const msgs = await as(operator, 'GET', '/voicemail/boxes/2001/messages');
  assert.equal(msgs.json.length, 1);
  const id = msgs.json[0].id as string;
  const dl = await fetch(`${base}/api/v1/voicemail/boxes/2001/messages/${id}`, { headers: { authorization: `Bearer ${operator}` } });
  assert.equal(dl.status, 200);
  assert.equal(dl.headers.get('content-type'), 'audio/wav');
  assert.equal(Buffer.from(await dl.arrayBuffer()).toString('latin1', 0, 4), 'RIFF');
  assert.equal((await as(auditor, 'DELETE', `/voicemail/boxes/2001/messages/${id}`)).status, 403);
  assert.equal((await as(operator, 'DELETE', `/voicemail/boxes/2001/messages/${id}`)).status, 200);
  assert.equal((await as(operator, 'DELETE', `/voicemail/boxes/2001/messages/${id}`)).status, 404);
  assert.equal((await as(operator, 'GET', '/voicemail/boxes/2001/messages')).json.length, 0);
  assert.equal((await lastChange('voicemail.message.delete')).target, `2001@default/${id}`);
  assert.equal((await as(operator, 'GET', '/voicemail/boxes/9999/messages')).status, 404);
});

test('IVR prompts: admin uploads (checked as 8 kHz mono), lists and downloads; operator reads but cannot upload; change log', async () => {
  const good = pcmToWav(new Int16Array(4000), 8000);
  const bad = pcmToWav(new Int16Array(4000), 44100);
  const r400 = await as(root, 'PUT', '/prompts/ivr-welcome', { wav_base64: bad.toString('base64') });
  assert.equal(r400.status, 400);
  assert.match(r400.json.message, /need 8000 Hz mono, got 44100 Hz/);
  assert.equal((await as(operator, 'PUT', '/prompts/ivr-welcome', { wav_base64: good.toString('base64') })).status, 403);
  assert.ok(!existsSync(join(customDir, 'ivr-welcome.wav')), 'nothing written by the refused uploads');
  const up = await as(root, 'PUT', '/prompts/ivr-welcome', { wav_base64: good.toString('base64') });
  assert.equal(up.status, 201, up.text);
  assert.deepEqual(readFileSync(join(customDir, 'ivr-welcome.wav')), good);
  assert.equal((await as(root, 'PUT', '/prompts/..%2Fevil', { wav_base64: good.toString('base64') })).status, 400, 'a name, not a path');
  const list = await as(operator, 'GET', '/prompts');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.filter((p: { source: string }) => p.source === 'custom').map((p: { name: string }) => p.name),
    ['ivr-welcome'],
  );
  assert.equal((await as(auditor, 'GET', '/prompts')).status, 403);
  const dl = await fetch(`${base}/api/v1/prompts/ivr-welcome`, { headers: { authorization: `Bearer ${operator}` } });
  assert.deepEqual(Buffer.from(await dl.arrayBuffer()), good);
  const c = await lastChange('prompt.upload');
  assert.deepEqual([c.target, (c.after as { seconds: number }).seconds], ['ivr-welcome', 0.5]);
  assert.equal((await as(root, 'DELETE', '/prompts/ivr-welcome')).status, 200);
  assert.ok(!existsSync(join(customDir, 'ivr-welcome.wav')));
});

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret */
function totp(secretB32: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretB32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1]! & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('TOTP second factor: after enabling it, login is refused without a code and with a wrong one, accepted with the right one', async () => {
  const add = await as(root, 'POST', '/accounts', { name: 'tess', role: 'operator' });
  assert.equal(add.status, 201, add.text);
  const password = add.json.password as string;
  const login = (totpCode?: string) => api({ method: 'POST', path: '/api/v1/session', body: { name: 'tess', password, ...(totpCode !== undefined ? { totp: totpCode } : {}) } });
  assert.equal((await login()).status, 200, 'no second factor yet: the password is enough');
  const on = await as(root, 'POST', '/accounts/tess/totp');
  assert.equal(on.status, 200, on.text);
  const secret = new URL(on.json.uri).searchParams.get('secret')!;
  assert.equal(secret, on.json.secret);
  assert.equal((await lastChange('account.totp')).target, 'tess');

  const none = await login();
  assert.equal(none.status, 401);
  assert.equal(none.json.error, 'totp-required');
  const right = totp(secret);
  const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
  const w = await login(wrong);
  assert.equal(w.status, 401);
  assert.equal(w.json.error, 'totp-required');
  assert.equal(w.headers['set-cookie'], undefined, 'no session for a wrong code');
  // the right code, computed here (the same 30 s step as the server's clock)
  const ok = await login(totp(secret));
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.account, 'tess');
  assert.match(String(ok.headers['set-cookie']), /palisade_session=/);
});

test('a restart keeps what the API made: routes and time conditions come back from the database', async () => {
  assert.equal((await as(root, 'POST', '/time-conditions', { name: 'night', times: ['18:00-23:59,*,*,*'] })).status, 201);
  await pal.stop();
  pal = await startPalisade(palOptions);
  const started = await pal.waitForEvent((e) => e.event === 'trunks-started', 5000);
  assert.equal(started.outbound_routes, 1, 'the stored route is in the running table');
  const routes = await as(root, 'GET', '/routes/outbound');
  assert.equal(routes.status, 200, routes.text);
  assert.deepEqual(
    routes.json.map((r: { name: string; strip: number; prepend: string; source: string }) => [r.name, r.strip, r.prepend, r.source]),
    [['national', 1, '49', 'database']],
  );
  assert.deepEqual(
    (await as(root, 'GET', '/time-conditions')).json.map((t: { name: string; source: string }) => [t.name, t.source]),
    [
      ['always', 'config'],
      ['night', 'database'],
      ['open', 'database'],
    ],
  );
  assert.deepEqual(
    (await as(root, 'GET', '/routes/inbound')).json.map((r: { name: string; time_condition: string }) => [r.name, r.time_condition]),
    [['main', 'open']],
  );
});
