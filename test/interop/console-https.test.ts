// The API over HTTPS (issue 10): an http.listen point `tls:ADDRESS:PORT`
// served with the tls: section's certificate; HSTS is sent over HTTPS only,
// and the session cookie is Secure there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { ensureSelfSignedCert } from '../../src/transport/self-signed-cert.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-https-'));
let pal: PalisadeProcess;
let port: number;
let password: string;

function post(path: string, body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

before(async () => {
  [port] = await freeLocalPorts(1);
  const certs = await ensureSelfSignedCert(dir, ['127.0.0.1', 'localhost']);
  pal = await startPalisade({
    transports: ['udp'],
    extraYaml: ['tls:', `  cert: ${certs.cert}`, `  key: ${certs.key}`, 'admin:', '  acl: { permit: [127.0.0.1/32] }', 'http:', `  listen: ["tls:127.0.0.1:${port}"]`].join('\n'),
  });
  const add = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'admin', 'add', 'root', '--role', 'admin', '--config', pal.configPath], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(add.status, 0, add.stderr);
  password = add.stdout.trim().split('\n').at(-1)!;
});

after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('HTTPS with the tls: certificate: HSTS, and a Secure HttpOnly SameSite=Strict session cookie', async () => {
  const r = await post('/api/v1/session', { name: 'root', password });
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['strict-transport-security']), /max-age=31536000/);
  const cookie = String(r.headers['set-cookie']);
  assert.match(cookie, /; Secure/i);
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Strict/i);
  // plain HTTP on the same port gets no API
  const plain = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/api/v1/openapi.json`], { encoding: 'utf8', timeout: 10_000 });
  assert.notEqual(plain.stdout, '200');
});
