import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../security/config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import { ModuleHost } from '../../host/module-host.js';
import { trunksModule } from './trunks-module.js';
import type { TrunkConfig } from './trunk-config.js';
import type { RoutesConfig } from './route-config.js';

const BASE = 'sip: { domain: a.org, listen: [udp:127.0.0.1:5060] }\nstorage: { path: ":memory:" }\n';
const SECRET = 'Vq7-kLp2-Zx9r-Tn4w';
const sections = () => new ModuleHost([trunksModule()]).sections;

function bad(yaml: string): string {
  try {
    parseConfig(BASE + yaml, 'palisade.yaml', { sections: sections() });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

test("the issue's configuration contract, verbatim, is read as written", () => {
  const contract = [
    'trunks:',
    '  - name: office-b',
    '    type: sip            # or iax2',
    '    host: 127.0.0.1',
    '    port: 5099',
    '    username: "9000"',
    `    secret: "${SECRET}"`,
    '    register: true       # register to the far end as username',
    'routes:',
    '  outbound:',
    '    - name: to-office-b',
    '      match: ["_2XXX"]',
    '      trunks: [office-b]',
    '      strip: 0',
    '      prepend: ""',
    '  inbound:',
    '    - did: "_2XXX"',
    '      to: "${EXTEN}"     # or "context,exten,priority"',
    '',
  ].join('\n');
  const cfg = parseConfig(BASE + contract, 'palisade.yaml', { sections: sections() });
  const [t] = cfg.sections.trunks as TrunkConfig[];
  assert.deepEqual(
    { name: t!.name, type: t!.type, host: t!.host, port: t!.port, username: t!.username, secret: t!.secret, register: t!.register, context: t!.context },
    { name: 'office-b', type: 'sip', host: '127.0.0.1', port: 5099, username: '9000', secret: SECRET, register: true, context: 'from-trunk' },
  );
  const r = cfg.sections.routes as RoutesConfig;
  assert.deepEqual(
    r.outbound.map((o) => ({ name: o.name, match: o.match, trunks: o.trunks, strip: o.strip, prepend: o.prepend })),
    [{ name: 'to-office-b', match: ['_2XXX'], trunks: ['office-b'], strip: 0, prepend: '' }],
  );
  assert.deepEqual(
    r.inbound.map((i) => ({ did: i.did, to: i.to })),
    [{ did: '_2XXX', to: '${EXTEN}' }],
  );
  // an IAX2 trunk is read here too (the IAX2 module takes it from cfg.sections.trunks)
  const iax = parseConfig(`${BASE}trunks:\n  - { name: hq, type: iax2, host: 192.0.2.7, username: branch, secret: "${SECRET}", register: true }\n`, 'p.yaml', {
    sections: sections(),
  });
  assert.deepEqual(
    (iax.sections.trunks as TrunkConfig[]).map((x) => [x.type, x.port]),
    [['iax2', 4569]],
  );
});

test('problems carry file:line:col with the fix: weak secret, typos, unknown trunk, bad pattern, missing credentials', () => {
  assert.match(
    bad(`trunks:\n  - { name: p, host: sip.example.net, username: "9000", secret: "password123", register: true }\n`),
    /^palisade\.yaml:4:\d+: trunks\[0\]\.secret is too weak \(.*\); use a generated one such as /,
  );
  assert.match(bad(`trunks:\n  - name: p\n    host: sip.example.net\n    regster: true\n`), /^palisade\.yaml:6:5: unknown key trunks\[0\]\.regster; did you mean register\?/);
  assert.match(
    bad(`trunks:\n  - name: p\n    host: sip.example.net\n    register: true\n`),
    /^palisade\.yaml:\d+:\d+: trunks\[0\] has register: true but no username; give username and secret/,
  );
  assert.match(bad(`trunks:\n  - { name: p, host: dynamic, username: "9000", secret: "${SECRET}", register: true }\n`), /register is true but host is dynamic/);
  assert.match(
    bad(`trunks:\n  - { name: p, host: 192.0.2.1, allow_from: [10.0.0.0/33] }\n`),
    /^palisade\.yaml:4:\d+: trunks\[0\]\.allow_from "10\.0\.0\.0\/33" has a prefix length above 32/,
  );
  assert.match(bad(`trunks:\n  - { name: p, host: 192.0.2.1 }\n  - { name: p, host: 192.0.2.2 }\n`), /trunks\[1\]\.name "p" is used by another trunk/);
  assert.match(
    bad(`trunks:\n  - { name: office-b, host: 192.0.2.1 }\nroutes:\n  outbound:\n    - { name: r, match: ["_2XXX"], trunks: [ofice-b] }\n`),
    /^palisade\.yaml:7:\d+: routes\.outbound\[0\]\.trunks names "ofice-b", which is not a trunk; did you mean office-b\?/,
  );
  assert.match(
    bad(`trunks:\n  - { name: t, host: 192.0.2.1 }\nroutes:\n  outbound:\n    - { name: r, match: ["_2[X"], trunks: [t] }\n`),
    /routes\.outbound\[0\]\.match "_2\[X": unclosed '\['/,
  );
  assert.match(
    bad(`routes:\n  inbound:\n    - { did: "_2XXX", to: "nowhere at all" }\n`),
    /^palisade\.yaml:5:\d+: routes\.inbound\[0\]\.to "nowhere at all" is not valid; expected \$\{EXTEN\}/,
  );
  assert.match(bad(`routes:\n  inbound:\n    - { did: "_2XXX", to: "2001", time_condition: office }\n`), /time_condition "office" is not defined/);
  assert.match(
    bad(`routes:\n  time_conditions:\n    - { name: office, times: ["09:00-17:00,mon-fry,*,*"] }\n`),
    /times "09:00-17:00,mon-fry,\*,\*": weekdays "mon-fry" is not valid/,
  );
  assert.match(bad(`routes:\n  outbound:\n    - { name: r, match: ["_0."], trunks: [], pin: "1234" }\n`), /routes\.outbound\[0\]\.pin is too weak/);
  assert.match(bad(`trunks:\n  name: p\n`), /trunks must be a list of trunks/);
  assert.match(bad(`trunkz: []\n`), /unknown key trunkz; did you mean trunks\?/);
});
