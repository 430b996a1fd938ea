// The demo site listens on TLS with a self-signed certificate made once; its key is 0600.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDemo } from './cmd-start.js';
import { loadConfig } from '../config/load-config.js';

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
