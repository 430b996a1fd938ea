// The object files of a site export are checked before anything is written:
// a trunk by the file's trunk reader (a weak secret, a palisade.yaml name,
// an IAX2 trunk with a transport),
// routes naming trunks and time conditions that will not exist, a time spec
// that does not parse — every problem at once, with the file and entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateSecret } from '../../security/passwords/index.js';
import type { TrunkConfig } from '../trunks/trunk-config.js';
import { readSiteObjects } from './site-objects.js';
import { SiteError } from './site-files.js';

test('every problem of the object files at once; a good set reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'site-objects-'));
  try {
    const file = { trunks: [{ name: 'filetrunk' } as TrunkConfig], routes: undefined };
    writeFileSync(
      join(dir, 'trunks.yaml'),
      stringify({
        trunks: [
          { name: 'weak', host: '127.0.0.1', username: 'a1', secret: 'password1', register: true },
          { name: 'filetrunk', host: '127.0.0.1' },
          { name: 'iax', type: 'iax2', host: '127.0.0.1', transport: 'tcp' },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'routes.yaml'),
      stringify({
        outbound: [{ name: 'out', match: ['_0X.'], trunks: ['nowhere'] }],
        inbound: [{ name: 'in', to: '600', time_condition: 'never' }],
        time_conditions: [{ name: 'bad', times: ['25:00-26:00,*,*,*'] }],
      }),
    );
    writeFileSync(join(dir, 'fraud-numbers.yaml'), stringify({ fraud_numbers: [{ prefix: '88x' }] }));
    let err: unknown;
    try {
      readSiteObjects(dir, file);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SiteError);
    const m = err.message;
    assert.match(m, /trunks\[0\] \(weak\): secret is too weak/);
    assert.ok(!m.includes('password1'), 'the refused secret is not echoed');
    assert.match(m, /trunks\[1\] \(filetrunk\) has the name of a trunk of palisade\.yaml/);
    assert.match(m, /trunks\[2\] \(iax\): transport is for SIP trunks; an IAX2 trunk always uses UDP/);
    assert.match(m, /outbound\[0\] \(out\) names trunk "nowhere"/);
    assert.match(m, /inbound\[0\] \(in\) names time condition "never"/);
    assert.match(m, /time_conditions\[0\] \(bad\)/);
    assert.match(m, /fraud_numbers\[0\]\.prefix "88x"/);

    const secret = generateSecret();
    writeFileSync(join(dir, 'trunks.yaml'), stringify({ trunks: [{ name: 'prov', host: '127.0.0.1', username: 'a1', secret, register: true }] }));
    writeFileSync(join(dir, 'routes.yaml'), stringify({ outbound: [{ name: 'out', match: ['_0X.'], trunks: ['prov', 'filetrunk'] }] }));
    writeFileSync(join(dir, 'fraud-numbers.yaml'), stringify({ fraud_numbers: [{ prefix: '88213', source: 'api:root', added_at: 5 }] }));
    const ok = readSiteObjects(dir, file);
    assert.equal(ok.trunks?.[0]?.secret, secret);
    assert.deepEqual(ok.fraud, [{ prefix: '88213', source: 'api:root', added_at: 5 }]);
    assert.equal(ok.queueMembers, null, 'a file the export lacks leaves its kind alone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
