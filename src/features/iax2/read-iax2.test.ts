// The iax2: section's hold options: defaults, values, and file:line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/config-error.js';
import { parseConfig } from '../../security/config/load-config.js';
import { ModuleHost } from '../../host/module-host.js';
import { iax2Module } from './iax2-module.js';
import type { Iax2Config } from './read-iax2.js';

const BASE = 'sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\n';
const sections = new ModuleHost([iax2Module()]).sections;
const iax2 = (text: string) => parseConfig(text, 'palisade.yaml', { sections }).sections.iax2 as Iax2Config;

test('iax2 hold: Palisade plays the default class itself unless told passthrough; mohsuggest names a class or none', () => {
  assert.deepEqual(iax2(`${BASE}iax2:\n  listen: ["udp:127.0.0.1:4569"]\n`).hold, { mohinterpret: 'default', mohsuggest: '' });
  assert.deepEqual(iax2(`${BASE}iax2:\n  mohinterpret: passthrough\n  mohsuggest: jazz\n`).hold, { mohinterpret: 'passthrough', mohsuggest: 'jazz' });
  assert.deepEqual(iax2(`${BASE}iax2:\n  mohinterpret: office-tunes\n`).hold, { mohinterpret: 'office-tunes', mohsuggest: '' });
});

test('iax2 hold: a value that is no class name is refused with file:line and what is expected', () => {
  try {
    iax2(`${BASE}iax2:\n  mohinterpret: "../../etc"\n  mohsuggest: "a b"\n`);
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = (err as Error).message;
    assert.match(text, /palisade\.yaml:5:\d+.*mohinterpret.*expected passthrough/);
    assert.match(text, /palisade\.yaml:6:\d+.*mohsuggest.*expected a music-on-hold class name/);
  }
});
