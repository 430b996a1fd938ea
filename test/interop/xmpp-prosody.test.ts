// XMPP users through a real Prosody (issue 12 proof, the authentication
// link): Prosody (Debian's package, its own config on loopback) checks chat
// logins against Palisade over mod_auth_dovecot and Palisade's Unix socket,
// so an extension's SIP secret is its chat password. An XMPP client
// (@xmpp/client) logs in with an extension's credentials over STARTTLS
// (SASL PLAIN, which Prosody offers only on TLS); a wrong password and an
// unknown account are refused alike; Palisade logs each login. The bridge
// (an XEP-0114 component of that Prosody): the chat client and a baresip
// phone write to each other, the client sees the phone's presence turn dnd
// "On the phone" during a call, and its own "away" reaches SIP presence.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, xml, type XmppClient, type XmppElement } from '@xmpp/client';
import { Baresip } from '../helpers/baresip.js';

import { pcmToWav, tone } from '../../src/features/voicemail/wav-info.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startProsody, type ProsodyProcess } from '../helpers/prosody.js';
import { freeLocalPorts, repoRoot, runSipp, startSipp } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';

const users = makeUsers(4, { first: 3001 });
// alice: logins and the lock-out; bob: the baresip phone; carol: the callee; dave: the chat user of the bridge
const [alice, bob, carol, dave] = users as [TestUser, TestUser, TestUser, TestUser];
const COMPONENT = 'sip.localhost';
const SECRET = 'component-secret-0123456789';
const DOMAIN = 'localhost';
const dir = mkdtempSync(join(tmpdir(), 'palisade-xmpp-'));
const authSocket = join(dir, 'xmpp-auth.sock');
let pal: PalisadeProcess;
let prosody: ProsodyProcess;
let c2sPort = 0;

/** logs in; resolves with the bound JID, or rejects with the SASL condition */
async function login(username: string, password: string): Promise<{ jid: string; stop: () => Promise<void>; xmpp: XmppClient }> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${c2sPort}`, domain: DOMAIN, username, password, resource: 'test' });
  xmpp.on('error', () => undefined);
  // the certificate is a throwaway self-signed one made for this test: what is proven is that TLS is used
  // (Prosody refuses PLAIN without it), not certificate validation, which @xmpp/starttls gives no CA option for
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    const address = await xmpp.start();
    return { jid: address.toString(), stop: () => xmpp.stop().then(() => undefined), xmpp };
  } catch (err) {
    await xmpp.stop().catch(() => undefined);
    throw err;
  } finally {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  }
}

before(async () => {
  let componentPort: number;
  [c2sPort, componentPort] = (await freeLocalPorts(2)) as [number, number];
  const pdir = join(dir, 'prosody');
  mkdirSync(pdir, { recursive: true });
  pal = await startPalisade({
    users,
    extraYaml: [
      'xmpp:',
      `  auth_socket: ${authSocket}`,
      `  prosody_config: ${join(pdir, 'prosody.cfg.lua')}`,
      '  max_failures: 3',
      '  domain: localhost',
      '  component:',
      `    domain: ${COMPONENT}`,
      `    port: ${componentPort}`,
      `    secret: ${SECRET}`,
    ].join('\n'),
  });
  await pal.waitForEvent((e) => e.event === 'xmpp-auth-listening', 5000);
  writeFileSync(join(dir, 'carol.csv'), sippCsv([carol]));
  prosody = await startProsody({ dir: pdir, domain: DOMAIN, c2sPort, authSocket, component: { domain: COMPONENT, secret: SECRET, port: componentPort } });
  await pal.waitForEvent((e) => e.event === 'xmpp-bridge-online', 15_000);
});
after(async () => {
  await prosody?.stop();
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Prosody authenticates Palisade users', () => {
  test('an extension logs in to Prosody with its SIP secret, over TLS', { timeout: 60_000 }, async () => {
    const s = await login(alice.number, alice.secret);
    assert.match(s.jid, new RegExp(`^${alice.number}@${DOMAIN}/`));
    await s.stop();
    await pal.waitForEvent((e) => e.event === 'xmpp-login' && e.user === alice.number, 5000);
    assert.match(prosody.log(), /(Secure|TLS|encrypted)/i);
  });

  test('a wrong password and an unknown account are refused alike; repeated guesses lock the account for a while', { timeout: 60_000 }, async () => {
    const why = async (u: string, p: string) => {
      try {
        await login(u, p);
      } catch (err) {
        return (err as { condition?: string; name?: string }).condition ?? (err as Error).name;
      }
      assert.fail(`${u} logged in with a wrong password`);
    };
    const wrong = await why(alice.number, `${alice.secret}x`);
    const unknown = await why('3999', alice.secret);
    assert.equal(wrong, 'not-authorized');
    assert.equal(unknown, wrong);
    await pal.waitForEvent((e) => e.event === 'xmpp-login-failed' && e.user === alice.number && e.reason === 'password', 5000);
    await pal.waitForEvent((e) => e.event === 'xmpp-login-failed' && e.user === '3999' && e.reason === 'unknown', 5000);
    // max_failures 3: two more wrong guesses, then even the right password is refused for the minute
    await why(alice.number, 'guess-2');
    await why(alice.number, 'guess-3');
    const locked = await why(alice.number, alice.secret);
    assert.equal(locked, 'temporary-auth-failure');
    await pal.waitForEvent((e) => e.event === 'xmpp-login-failed' && e.user === alice.number && e.reason === 'locked', 5000);
  });

  test('palisade audit reads the Prosody config: the test config passes, plaintext auth is critical', { timeout: 60_000 }, () => {
    type Rep = { findings: Array<{ id: string; severity: string }>; passed: string[] };
    const audit = (): Rep => {
      const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'audit', '--config', pal.configPath, '--no-host', '--json'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      return JSON.parse(r.stdout) as Rep;
    };
    assert.ok(audit().passed.includes('xmpp-auth-link'));
    const original = readFileSync(prosody.configPath, 'utf8');
    try {
      appendFileSync(prosody.configPath, 'allow_unencrypted_plain_auth = true\n');
      assert.deepEqual(
        audit()
          .findings.filter((f) => f.id === 'xmpp-auth-link')
          .map((f) => f.severity),
        ['critical'],
      );
    } finally {
      writeFileSync(prosody.configPath, original);
    }
  });

  test('the bridge: chat and a baresip phone write to each other; the phone on a call shows dnd in chat; away in chat reaches SIP presence', { timeout: 90_000 }, async () => {
    writeFileSync(join(dir, 'mic.wav'), pcmToWav(tone(440, 30_000)));
    const [sp, cp, uasPort] = (await freeLocalPorts(3, 3)) as [number, number, number];
    const [rtp] = (await freeLocalPorts(1, 20)) as [number];
    const phone = new Baresip({
      name: 'p3002',
      sipPort: sp,
      ctrlPort: cp,
      user: bob.number,
      domain: pal.target,
      password: bob.secret,
      regint: 600,
      audioSource: join(dir, 'mic.wav'),
      rtpPorts: [rtp, rtp + 19],
      appModules: ['contact'],
      baseDir: dir,
      sipTrace: true,
      maxLifetimeSec: 90,
    });
    mkdirSync(phone.dir, { recursive: true });
    writeFileSync(join(phone.dir, 'contacts'), `"Dave" <sip:${dave.number}@${pal.target}>\n`);
    await phone.start();
    const chat = await login(dave.number, dave.secret);
    const stanzas: XmppElement[] = [];
    chat.xmpp.on('stanza', (st: XmppElement) => stanzas.push(st));
    const waitStanza = async (pred: (st: XmppElement) => boolean, what: string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const st = stanzas.find(pred);
        if (st) return st;
        assert.ok(Date.now() < deadline, `no ${what} within 15 s; got:\n${stanzas.map((x) => x.toString()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const fromPhone = (st: XmppElement) => (st.attrs.from ?? '').startsWith(`${bob.number}@${COMPONENT}`);
    try {
      await phone.waitRegistered(10_000);
      // available (RFC 6121 §4.2: initial presence), so Prosody routes presence and messages to this session
      await chat.xmpp.send(xml('presence'));
      // the chat user asks for the phone's presence (directed presence to its component JID)
      await chat.xmpp.send(xml('presence', { to: `${bob.number}@${COMPONENT}` }));
      await waitStanza((st) => st.is('presence') && fromPhone(st) && st.getChildText('status') === 'Available', 'presence Available');

      // chat → phone: a SIP MESSAGE from 3001 reaches baresip
      await chat.xmpp.send(xml('message', { to: `${bob.number}@${COMPONENT}`, type: 'chat' }, xml('body', {}, 'hello phone, from chat')));
      await pal.waitForEvent((e) => e.event === 'xmpp-to-sip' && e.from === dave.number && e.to === bob.number, 10_000);
      const deadline = Date.now() + 10_000;
      while (!readFileSync(phone.logFile, 'utf8').includes('hello phone, from chat')) {
        assert.ok(Date.now() < deadline, 'the phone did not get the chat message');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(readFileSync(phone.logFile, 'utf8'), new RegExp(`^From: "[^"]*" <sip:${dave.number}@`, 'm'));

      // phone → chat
      await phone.mustCommand('message', 'hello chat, from the phone');
      const m = await waitStanza((st) => st.is('message') && fromPhone(st), 'a message from the phone');
      assert.equal(m.getChildText('body'), 'hello chat, from the phone');

      // the phone on a call: dnd "On the phone" in chat
      const reg = await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        inf: [join(dir, 'carol.csv')],
        set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
        calls: 1,
        timeoutS: 20,
        dir,
      });
      assert.equal(reg.stats?.successful, 1, reg.stdout.slice(-800));
      const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, timeoutS: 60, dir });
      try {
        await phone.dial(`sip:${carol.number}@${pal.target}`);
        await phone.waitEvent('CALL_ESTABLISHED', 15_000);
        const busy = await waitStanza((st) => st.is('presence') && fromPhone(st) && st.getChildText('show') === 'dnd', 'presence dnd');
        assert.equal(busy.getChildText('status'), 'On the phone');
        await phone.hangup();
      } finally {
        await uas.stop();
      }

      // away in chat → SIP presence of 3004 (what its SIP watchers get in PIDF)
      await chat.xmpp.send(xml('presence', { to: `${bob.number}@${COMPONENT}` }, xml('show', {}, 'away'), xml('status', {}, 'at lunch')));
      const ctl = (cmd: string, args: Record<string, unknown>) => controlRequest(join(pal.dir, 'control.sock'), cmd, args);
      const until = Date.now() + 10_000;
      for (;;) {
        const p = (await ctl('presence', { extension: dave.number })) as { activities: string[]; note: string };
        if (p.activities.includes('away')) {
          assert.equal(p.note, 'at lunch');
          break;
        }
        assert.ok(Date.now() < until, `3004 not away: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await chat.stop();
      await phone.stop();
    }
  });
});
