// The prompts: section (see docs/configuration.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './index.js';
import { parseConfig } from '../security/config/load-config.js';

const BASE = `sip:
  listen: [udp:127.0.0.1:5060]
  domain: pbx.example.org
`;

test('prompts: defaults (generated set under the install dir, no custom folder, generate on)', () => {
  const cfg = parseConfig(BASE, '/etc/palisade/palisade.yaml');
  assert.deepEqual(cfg.prompts, { dir: null, customDir: null, generate: true });
});

test('prompts: folders resolve against the config file; generate can be turned off', () => {
  const cfg = parseConfig(BASE + 'prompts:\n  dir: cache/en\n  custom_dir: /srv/sounds\n  generate: false\n', '/etc/palisade/palisade.yaml');
  assert.deepEqual(cfg.prompts, { dir: '/etc/palisade/cache/en', customDir: '/srv/sounds', generate: false });
});

test('prompts: an unknown key and a wrong type name file:line:col', () => {
  try {
    parseConfig(BASE + 'prompts:\n  custom: /srv\n  generate: maybe\n', 'palisade.yaml');
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /palisade\.yaml:5:\d+/);
    assert.match(e.message, /custom/);
    assert.match(e.message, /palisade\.yaml:6:\d+/);
  }
});
