// The dialer with a fake clock and a fake originate (the SIPp test drives
// the real one): pacing, retries with back-off, calling windows per time
// zone, the do-not-call list, the gate's refusal, forms; and the tables on
// SQLite, PostgreSQL and MariaDB: a restart finds every contact's state.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { LogRoot } from '../../observability/logger.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { OriginateRequest, OriginateResult } from '../../channel/originate.js';
import type { Channel } from '../../channel/channel.js';
import { CAMPAIGN_MIGRATIONS, CampaignService } from './campaign-service.js';
import { inWindow, parseCampaignDef, parseContactsCsv, parseRoutes, CampaignInputError } from './campaign-def.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

test('CSV contacts: quoted fields, extra columns kept, each bad line named', () => {
  const r = parseContactsCsv(
    'Number,Name,TimeZone,Plan\n0201 555 001,"Smith, Ann",Europe/Paris,gold\n12,x,,\n0201555001,dup,,\n+44 20 7946 0000,Bob,,silver\n0201555002,Z,Moon/Base,\n',
    'UTC',
  );
  assert.deepEqual(
    r.imported.map((c) => [c.line, c.number, c.name, c.timezone, c.fields.plan]),
    [
      [2, '0201555001', 'Smith, Ann', 'Europe/Paris', 'gold'],
      [5, '+442079460000', 'Bob', 'UTC', 'silver'],
    ],
  );
  assert.deepEqual(
    r.bad.map((b) => b.line),
    [3, 4, 6],
  );
  assert.match(r.bad[0]!.error, /not a phone number/);
  assert.match(r.bad[1]!.error, /appears twice/);
  assert.match(r.bad[2]!.error, /timezone "Moon\/Base" unknown/);
  assert.throws(() => parseContactsCsv('phone\n123456\n', 'UTC'), /must name a "number" column/);
});

test('definitions: checked field by field with the fix in the message', () => {
  assert.throws(() => parseCampaignDef({ name: 'x' }), /exten is required/);
  assert.throws(() => parseCampaignDef({ name: 'a b', exten: 's' }), /name: letters/);
  assert.throws(() => parseCampaignDef({ name: 'x', exten: 's', cps: '0' }), /cps must be a number from 0.01 to 100/);
  assert.throws(() => parseCampaignDef({ name: 'x', exten: 's', permissions: 'national,intl' }), /unknown class "intl"/);
  assert.throws(() => parseCampaignDef({ name: 'x', exten: 's', timezone: 'Europe/Lodnon' }), /unknown time zone/);
  assert.throws(() => parseCampaignDef({ name: 'x', exten: 's', window: '9-17' }), /expected HH:MM-HH:MM/);
  assert.throws(() => parseCampaignDef({ name: 'x', exten: 's', form: 'rating:choice' }), /a choice needs its values/);
  assert.throws(() => parseRoutes('0201=127.0.0.1'), /expected PREFIX=HOST:PORT/);
  assert.deepEqual(
    parseRoutes('*=10.0.0.1:5060,0201=127.0.0.1:5070').map((r) => r.prefix),
    ['0201', ''],
    'longest prefix first',
  );
  const d = parseCampaignDef({ name: 'x', exten: 's' });
  assert.deepEqual([d.maxConcurrent, d.cps, d.retries, d.retryDelay, d.windowFrom, d.windowTo, d.permissions], [2, 1, 2, 300, 540, 1200, ['local', 'national', 'mobile']]);
});

test('calling windows are read in the contact time zone; one across midnight wraps', () => {
  const day = { windowFrom: 9 * 60, windowTo: 20 * 60 };
  const at = Date.UTC(2026, 0, 15, 8, 30); // 08:30 in London, 09:30 in Paris, 03:30 in New York
  assert.equal(inWindow(day, 'Europe/London', at), false);
  assert.equal(inWindow(day, 'Europe/Paris', at), true);
  assert.equal(inWindow(day, 'America/New_York', at), false);
  const night = { windowFrom: 22 * 60, windowTo: 6 * 60 };
  assert.equal(inWindow(night, 'America/New_York', at), true);
  assert.equal(inWindow(night, 'Europe/Paris', at), false);
});

const BACKENDS = storageBackends('c');

/** a channel that ends when the test says so */
function fakeChannel(): Channel & { end(): void } {
  let end!: () => void;
  const ended = new Promise<'normal'>((r) => (end = () => r('normal')));
  return { name: 'SIP/x-o1', ended, end } as unknown as Channel & { end(): void };
}

const refuseIntl: CallGateApi = {
  check: (a) =>
    a.dialled.startsWith('00') && !a.campaign?.permissions.includes('international')
      ? { ok: false, status: 403, reason: 'Forbidden', verdict: `refused:class-not-permitted:international@campaign:${a.campaign?.name}` }
      : { ok: true, verdict: 'pass:national', ticket: { answered: () => {}, ended: () => {} } },
};

for (const b of BACKENDS) {
  describe(`the dialer and its tables on ${b.name}`, { skip: b.skip }, () => {
    test('pacing, retries with back-off, windows, do-not-call, refusals; a restart finds it all', async () => {
      const db = await b.open();
      try {
        assert.equal(await db.migrateModule('campaigns', CAMPAIGN_MIGRATIONS), 1);
        // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
        const k = db.kysely as unknown as Kysely<any>;
        let now = Date.UTC(2026, 0, 15, 10, 0); // 10:00 London, 05:00 New York
        const calls: Array<{ r: OriginateRequest; at: number; resolve: (o: OriginateResult) => void }> = [];
        const originate = (r: OriginateRequest) => new Promise<OriginateResult>((resolve) => calls.push({ r, at: now, resolve }));
        const make = () =>
          new CampaignService({ db: k, originate, gate: refuseIntl, isExtension: () => false, logger: new LogRoot('error').get('campaigns'), now: () => now, tickMs: 1e9 });
        const svc = make();
        svc.create(parseCampaignDef({ name: 'c1', exten: 'sales', max_concurrent: 2, cps: 2, retries: 2, retry_delay: 10, routes: '*=127.0.0.1:5070', form: 'rating:number' }));
        const imp = svc.importCsv(
          'c1',
          'number,timezone\n0201000001,Europe/London\n0201000002,Europe/London\n0201000003,America/New_York\n0201000004,Europe/London\n0044207946000,Europe/London\n',
        );
        assert.equal(imp.imported.length, 5);
        svc.addDnc(['0201000004']);
        svc.setState('c1', 'running');
        const step = (ms: number) => {
          now += ms;
          svc.tick();
        };
        step(0);
        assert.equal(calls.length, 1, 'one start');
        step(100);
        assert.equal(calls.length, 1, 'cps 2: the next start 500 ms later');
        step(400);
        assert.equal(calls.length, 2);
        assert.deepEqual(
          calls.map((c) => c.r.number),
          ['0201000001', '0201000002'],
          'New York is outside its window (05:00); 0201000004 is on the do-not-call list',
        );
        step(500);
        assert.equal(calls.length, 2, 'max_concurrent 2');
        const ch = fakeChannel();
        calls[0]!.resolve({ status: 'ANSWER', channel: ch, callIds: [] });
        calls[1]!.resolve({ status: 'BUSY', callIds: [] });
        await new Promise((r) => setImmediate(r));
        step(500);
        assert.equal(calls.length, 2, 'the answered call holds its slot; the busy one waits 10 s; the international one is refused');
        const st = svc.status('c1')[0]!;
        assert.deepEqual([st.answered, st.pending, st.dnc, st.refused, st.active], [1, 2, 1, 1, 1]);
        step(10_000);
        assert.equal(calls.length, 3, 'retry after the back-off');
        assert.equal(calls[2]!.r.number, '0201000002');
        calls[2]!.resolve({ status: 'NOANSWER', callIds: [] });
        await new Promise((r) => setImmediate(r));
        step(19_000);
        assert.equal(calls.length, 3, 'the second retry waits twice as long (20 s)');
        ch.end();
        svc.setDisposition('c1', '0201000001', 'sale', { rating: '4' }, 'PJSIP/1001');
        assert.throws(() => svc.setDisposition('c1', '0201000001', 'sale', { rating: 'four' }, ''), CampaignInputError);
        await svc.stop();

        // a restart: every contact's state from the tables
        const again = make();
        await again.load();
        const c = again.get('c1');
        assert.equal(c.state, 'running');
        assert.deepEqual(
          c.contacts.map((x) => [x.number, x.status, x.attempts, x.lastResult]),
          [
            ['0201000001', 'answered', 1, 'answer'],
            ['0201000002', 'pending', 2, 'noanswer'],
            ['0201000003', 'pending', 0, ''],
            ['0201000004', 'dnc', 0, 'dnc'],
            ['0044207946000', 'refused', 1, 'refused:class-not-permitted:international@campaign:c1'],
          ],
        );
        assert.deepEqual([c.contacts[0]!.disposition, c.contacts[0]!.form, c.contacts[0]!.agent], ['sale', { rating: '4' }, 'PJSIP/1001']);
        assert.ok(again.dnc.has('0201000004'));
        const csv = again.resultsCsv('c1').split('\n');
        assert.equal(csv[0], 'number,name,timezone,status,attempts,last_result,last_call_at,disposition,agent,form_rating');
        assert.match(csv[1]!, /^0201000001,,Europe\/London,answered,1,answer,2026-01-15T10:00:00.000Z,sale,PJSIP\/1001,4$/);
        await again.stop();
      } finally {
        // the shared PostgreSQL and MariaDB keep what a test leaves: its tables go with it
        await db.dropTables();
        await db.close();
      }
    });
  });
}
