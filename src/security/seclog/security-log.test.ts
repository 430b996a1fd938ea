// The security log against the real consumer: Debian's fail2ban-regex with the
// stock asterisk filter must match every failed-auth / unknown-account / ACL
// line with the right host, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityLog } from './security-log.js';
import { formatAsteriskLine } from './asterisk-format.js';
import { securityEvent } from '../ids/event-levels.js';
import type { SecurityEvent } from '../../core/security-event.js';

const FILTER = '/etc/fail2ban/filter.d/asterisk.conf';

function ev(type: SecurityEvent['type'], address: string, account = '1001', transport: 'udp' | 'tcp' = 'udp'): SecurityEvent {
  return securityEvent(type, {
    remote: { transport, address, port: 5062 },
    local: { transport, address: '127.0.0.1', port: 5060 },
    account,
    sessionId: 'a84b4c76e66710@pc33.example.org',
    extra: { nonce: 'AAECAwQFBgcICQoLDA0ODw', method: 'REGISTER', cseq: 1 },
  });
}

/** the hosts fail2ban-regex reports, one per matched line, in file order */
function fail2banHosts(file: string): string[] {
  const r = spawnSync('fail2ban-regex', ['-o', 'ip', file, FILTER], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `fail2ban-regex failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

test('fail2ban-regex with the stock asterisk filter matches failures with the right host, and only them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seclog-'));
  try {
    const file = join(dir, 'security.log');
    const log = new SecurityLog({ file, format: 'both' });
    const events = [
      ev('InvalidPassword', '127.0.0.2'),
      ev('SuccessfulAuth', '127.0.0.9'),
      ev('InvalidAccountID', '198.51.100.23', '9999'),
      ev('ChallengeSent', '127.0.0.9'),
      ev('FailedACL', '203.0.113.5', '1002', 'tcp'),
      ev('InvalidPassword', '2001:db8::5'),
      // an account name crafted to plant another address in the line
      ev('InvalidAccountID', '192.0.2.77', '1", RemoteAddress="IPV4/UDP/8.8.8.8/5060",X="'),
      ev('Ban', '192.0.2.77'),
      ev('RequestBadFormat', '192.0.2.78'),
    ];
    for (const e of events) log.write(e);
    await log.close();
    {
      const text = readFileSync(file, 'utf8');
      assert.equal(text.split('\n').filter((l) => l.includes('res_security_log.c')).length, events.length, 'one Asterisk line per event');
      assert.equal(text.split('\n').filter((l) => l.startsWith('{')).length, events.length, 'one JSON line per event');
      assert.ok(!text.includes('8.8.8.8"'), 'the planted address is not written inside quotes');
      assert.deepEqual(fail2banHosts(file), ['127.0.0.2', '198.51.100.23', '203.0.113.5', '2001:db8::5', '192.0.2.77']);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Asterisk line has the information elements in Asterisk order and no response hash', () => {
  const line = formatAsteriskLine(ev('InvalidPassword', '127.0.0.2'), 4242);
  assert.match(
    line,
    /^\[[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d\] SECURITY\[4242\] res_security_log\.c: SecurityEvent="InvalidPassword",EventTV="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}",Severity="Error",Service="SIP",EventVersion="2",AccountID="1001",SessionID="a84b4c76e66710@pc33\.example\.org",LocalAddress="IPV4\/UDP\/127\.0\.0\.1\/5060",RemoteAddress="IPV4\/UDP\/127\.0\.0\.2\/5062",Challenge="AAECAwQFBgcICQoLDA0ODw",ReceivedChallenge="AAECAwQFBgcICQoLDA0ODw",ReceivedHash=""$/,
  );
  const ok = formatAsteriskLine(ev('SuccessfulAuth', '127.0.0.2'), 1);
  assert.match(ok, /Severity="Informational".*UsingPassword="1"$/);
});
