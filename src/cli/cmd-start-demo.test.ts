// The demo site listens on TLS with a self-signed certificate made once; its key is 0600.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDemo } from './cmd-start.js';
import { checkDialplan, createHost, loadServerConfig } from '../host/index.js';

// the demo's config has the console module's http: section: loaded as the server loads it
const loadConfig = (path: string) => loadServerConfig(path, createHost());
import { checkPin } from '../security/passwords/index.js';

// as the command line does before it loads a dialplan (src/cli/main.ts)

test('palisade start --demo: tls:127.0.0.1:5061 with a self-signed certificate, key 0600, made once', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'pal-demo-')), 'demo');
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write; // the banner prints secrets
  try {
    const cfgPath = await prepareDemo(dir);
    const cfg = loadConfig(cfgPath);
    assert.ok(cfg.sip.listen.some((p) => p.transport === 'tls' && p.port === 5061));
    assert.equal(cfg.tls?.minVersion, 'TLSv1.2');
    assert.equal(statSync(join(dir, 'tls-key.pem')).mode & 0o777, 0o600);
    const cert = readFileSync(join(dir, 'tls-cert.pem'), 'utf8');
    assert.equal(await prepareDemo(dir), cfgPath);
    assert.equal(readFileSync(join(dir, 'tls-cert.pem'), 'utf8'), cert, 'not regenerated');
  } finally {
    process.stderr.write = write;
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('palisade start --demo ties the attendance IVR and voicemail together: dialplan loads, every extension has a mailbox with a policy-proof PIN, files private', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'pal-demo-')), 'demo');
  const write = process.stderr.write.bind(process.stderr);
  let banner = '';
  process.stderr.write = ((s: string) => ((banner += s), true)) as typeof process.stderr.write;
  try {
    const cfgPath = await prepareDemo(dir);
    const cfg = loadConfig(cfgPath);
    assert.equal(cfg.dialplan.file, join(dir, 'extensions.conf'));
    assert.ok(cfg.dialplan.queries.attendance_figure, 'the example query');
    assert.deepEqual(
      cfg.voicemail.mailboxes.map((b) => b.number),
      ['1001', '1002', '1003', '1004', '1005'],
    );
    assert.ok(cfg.extensions.every((e) => e.voicemail && e.context === 'internal'));
    for (const b of cfg.voicemail.mailboxes) {
      assert.equal(checkPin(b.pin, { mailbox: b.number, minLength: 6 }).ok, true);
      assert.ok(banner.includes(`voicemail PIN: ${b.pin}`), 'each PIN is shown once on the terminal');
    }
    const dp = checkDialplan(cfg);
    assert.ok(dp);
    assert.equal(dp.engine.has('internal', '800', '1001'), true, 'the attendance line');
    assert.equal(dp.engine.has('internal', '*97', '1001'), true, 'voicemail access');
    assert.equal(dp.engine.has('internal', '1002', '1001'), true, 'internal dialling');
    await dp.close();
    for (const f of ['palisade.yaml', 'voicemail.conf', 'extensions.conf', 'attendance.sql']) {
      assert.equal(statSync(join(dir, f)).mode & 0o077, 0, `${f} is private`);
    }
  } finally {
    process.stderr.write = write;
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
