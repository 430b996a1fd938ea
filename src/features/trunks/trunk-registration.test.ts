// A SIP trunk's registration state as `palisade show trunks` and the API
// show it, through first attempts, refreshes and retries: the far end here
// is a fake host that answers each REGISTER with the status the test picks,
// on a fake clock (the real exchange is in console-trunks.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipMessage } from '../../sip-message/sip-message.js';
import type { ClientTxHandlers } from '../../sip/b2bua/types.js';
import { LogRoot } from '../../observability/logger.js';
import { TrunkRegistration, type RegistrationHost } from './trunk-registration.js';
import type { TrunkConfig } from './trunk-config.js';

const trunk = {
  name: 'provider',
  type: 'sip',
  host: '127.0.0.1',
  port: 5080,
  portGiven: true,
  transport: 'udp',
  username: 'acct',
  secret: null,
  register: true,
  expiry: 60,
  retryInterval: 10,
} as unknown as TrunkConfig;

/** a far end answering each REGISTER with the next status of `answers` (and 200 once they run out); each answer waits for step() */
function farEnd(answers: number[]) {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; gone: boolean }> = [];
  const pending: Array<{ req: SipMessage; h: ClientTxHandlers }> = [];
  const states: string[] = [];
  let reg: TrunkRegistration | null = null;
  const host: RegistrationHost = {
    sendRequest(req, _remote, h) {
      states.push(reg!.status.state);
      pending.push({ req, h });
      return { cancel: () => undefined };
    },
    localFor: () => ({ transport: 'udp', address: '127.0.0.1', port: 5060 }) as ReturnType<RegistrationHost['localFor']>,
    userAgent: 'palisade-test',
    resolve: async () => [{ transport: 'udp', address: '127.0.0.1', port: 5080 }] as Awaited<ReturnType<RegistrationHost['resolve']>>,
    log: new LogRoot('error', {}, { write: () => undefined }).get('trunks'),
    setTimer(ms, fn) {
      const t = { at: now + ms, fn, gone: false };
      timers.push(t);
      return { cancel: () => void (t.gone = true) };
    },
    now: () => now,
  };
  return {
    host,
    states,
    bind(r: TrunkRegistration) {
      reg = r;
    },
    /** answer the REGISTER that is out */
    answer() {
      const p = pending.shift();
      assert.ok(p, 'a REGISTER is out');
      const res = new SipMessage();
      res.status = answers.shift() ?? 200;
      res.reason = res.status === 200 ? 'OK' : 'Forbidden';
      res.headers.push({ name: 'expires', value: '60' });
      p.h.onResponse(res);
    },
    /** run the next timer (a refresh or a retry) */
    async tick() {
      const next = timers.filter((t) => !t.gone).sort((a, b) => a.at - b.at)[0];
      assert.ok(next, 'a timer is set');
      next.gone = true;
      now = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    },
  };
}

test('a SIP trunk: only the first attempt shows registering; a refresh stays registered and a retry after a failure stays failed until answered', async () => {
  const far = farEnd([200, 200, 403, 403, 200]);
  const reg = new TrunkRegistration(trunk, far.host);
  far.bind(reg);
  reg.start();
  await new Promise((r) => setImmediate(r));
  far.answer(); // 200
  assert.equal(reg.status.state, 'registered');
  await far.tick(); // the refresh
  assert.equal(reg.status.state, 'registered', 'a refresh in flight stays registered');
  far.answer(); // 200
  await far.tick(); // the next refresh, refused
  far.answer(); // 403
  assert.equal(reg.status.state, 'failed');
  assert.equal(reg.status.lastError, '403 Forbidden');
  await far.tick(); // the retry
  assert.equal(reg.status.state, 'failed', 'a retry in flight stays failed');
  far.answer(); // 403
  await far.tick(); // the next retry, accepted
  far.answer(); // 200
  assert.equal(reg.status.state, 'registered');
  assert.deepEqual(far.states, ['registering', 'registered', 'registered', 'failed', 'failed']);
  assert.deepEqual([reg.status.registrations, reg.status.failures], [3, 2]);
  reg.stop(false);
});
