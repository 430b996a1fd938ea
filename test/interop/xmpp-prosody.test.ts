// XMPP users through a real Prosody (issue 12 proof, the authentication
// link): Prosody (Debian's package, its own config on loopback) checks chat
// logins against Palisade over mod_auth_dovecot and Palisade's Unix socket,
// so an extension's SIP secret is its chat password. An XMPP client
// (@xmpp/client) logs in with an extension's credentials over STARTTLS
// (SASL PLAIN, which Prosody offers only on TLS); a wrong password and an
// unknown account are refused alike; Palisade logs each login.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from '@xmpp/client';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startProsody, type ProsodyProcess } from '../helpers/prosody.js';
import { freeLocalPorts, repoRoot } from '../helpers/sipp.js';
import { makeUsers, type TestUser } from '../helpers/users.js';

const users = makeUsers(2, { first: 3001 });
const [alice] = users as [TestUser, TestUser];
const DOMAIN = 'localhost';
const dir = mkdtempSync(join(tmpdir(), 'palisade-xmpp-'));
const authSocket = join(dir, 'xmpp-auth.sock');
let pal: PalisadeProcess;
let prosody: ProsodyProcess;
let c2sPort = 0;

/** logs in; resolves with the bound JID, or rejects with the SASL condition */
async function login(username: string, password: string): Promise<{ jid: string; stop: () => Promise<void> }> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${c2sPort}`, domain: DOMAIN, username, password, resource: 'test' });
  xmpp.on('error', () => undefined);
  // the certificate is a throwaway self-signed one made for this test: what is proven is that TLS is used
  // (Prosody refuses PLAIN without it), not certificate validation, which @xmpp/starttls gives no CA option for
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    const address = await xmpp.start();
    return { jid: address.toString(), stop: () => xmpp.stop().then(() => undefined) };
  } catch (err) {
    await xmpp.stop().catch(() => undefined);
    throw err;
  } finally {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  }
}

before(async () => {
  [c2sPort] = (await freeLocalPorts(1)) as [number];
  const pdir = join(dir, 'prosody');
  mkdirSync(pdir, { recursive: true });
  pal = await startPalisade({ users, extraYaml: ['xmpp:', `  auth_socket: ${authSocket}`, `  prosody_config: ${join(pdir, 'prosody.cfg.lua')}`, '  max_failures: 3'].join('\n') });
  await pal.waitForEvent((e) => e.event === 'xmpp-auth-listening', 5000);
  prosody = await startProsody({ dir: pdir, domain: DOMAIN, c2sPort, authSocket });
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
});
