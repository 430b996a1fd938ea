import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../security/config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import { ModuleHost } from '../../host/module-host.js';
import { officeModule } from './office-module.js';
import type { FollowMeConfig, RingGroupConfig } from './office-config.js';

const BASE = 'sip: { domain: a.org, listen: [udp:127.0.0.1:5060] }\nstorage: { path: ":memory:" }\n';
const sections = () => new ModuleHost([officeModule()]).sections;
const read = (yaml: string) => parseConfig(BASE + yaml, 'palisade.yaml', { sections: sections() }).sections;

function bad(yaml: string): string {
  try {
    read(yaml);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

test('ring_groups and follow_me are read as written, with the defaults', () => {
  const s = read(
    [
      'ring_groups:',
      '  - number: "600"',
      '    strategy: hunt',
      '    ring_time: 15',
      '    members: ["1001", { extension: "1002", ring_time: 5 }]',
      '    destination: "voicemail:1001"',
      '  - number: "601"',
      '    members: [1001, 1003]',
      '    destination: "support,s,1"',
      'follow_me:',
      '  - extension: "1001"',
      '    steps:',
      '      - { number: "1001", ring_time: 10 }',
      '      - { number: "+447700900123" }',
      '    destination: "1004"',
    ].join('\n'),
  );
  const groups = s.ring_groups as RingGroupConfig[];
  assert.deepEqual(groups[0], {
    number: '600',
    name: '600',
    strategy: 'hunt',
    ringTime: 15,
    members: [
      { extension: '1001', ringTime: 0 },
      { extension: '1002', ringTime: 5 },
    ],
    destination: { kind: 'voicemail', mailbox: '1001' },
  });
  assert.equal(groups[1]!.strategy, 'ringall');
  assert.equal(groups[1]!.ringTime, 20);
  assert.deepEqual(groups[1]!.destination, { kind: 'dialplan', context: 'support', exten: 's', priority: '1' });
  const fm = s.follow_me as FollowMeConfig[];
  assert.deepEqual(fm, [
    {
      extension: '1001',
      steps: [
        { number: '1001', ringTime: 10 },
        { number: '+447700900123', ringTime: 20 },
      ],
      confirm: false,
      destination: { kind: 'extension', number: '1004' },
    },
  ]);
});

test('bad ring groups and follow-me lists are refused with file:line and the fix', () => {
  assert.match(bad('ring_groups:\n  - number: "600"\n    strategy: random\n    members: ["1001"]\n'), /palisade\.yaml:5:.*strategy.*expected one of ringall, hunt/s);
  assert.match(bad('ring_groups:\n  - number: "600"\n'), /ring_groups\[0\]\.members is required/);
  assert.match(bad('ring_groups:\n  - number: "600"\n    members: ["10a1"]\n'), /members\[0\] "10a1" is not an extension/);
  assert.match(bad('ring_groups:\n  - number: "600"\n    members: ["1001"]\n  - number: "600"\n    members: ["1002"]\n'), /"600" is used by another ring group/);
  assert.match(bad('ring_groups:\n  - number: "600"\n    members: [{ extension: "1001", ring_time: 5 }]\n'), /only counts with strategy: hunt/);
  assert.match(
    bad('ring_groups:\n  - number: "600"\n    members: ["1001"]\n    destination: "mailbox 1001"\n'),
    /destination "mailbox 1001" is not valid; expected an extension number, voicemail:NUMBER/,
  );
  assert.match(bad('ring_groups:\n  - number: "600"\n    members: ["1001"]\n    ring_time: 0\n'), /ring_time 0 is out of range; expected 1\.\.300 seconds/);
  assert.match(bad('ring_groups:\n  - number: "600"\n    members: ["1001"]\n    grptime: 5\n'), /unknown key ring_groups\[0\]\.grptime/);
  assert.match(bad('ring_groups:\n  number: "600"\n'), /ring_groups must be a list/);
  assert.match(bad('follow_me:\n  - extension: "1001"\n'), /follow_me\[0\]\.steps is required/);
  assert.match(bad('follow_me:\n  - extension: "1001"\n    steps: [{ number: "07x" }]\n'), /number "07x" is not valid; expected an extension or an outside number/);
  assert.match(bad('follow_me:\n  - extension: "1001"\n    steps: [{ number: "1001" }]\n  - extension: "1001"\n    steps: [{ number: "1001" }]\n'), /has another follow_me entry/);
});
