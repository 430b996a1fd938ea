import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryChannel } from '../../../test/support/memory-channel.js';
import { parseConfig } from '../../security/config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import { parseExtensionsConfText } from '../../dialplan/parse-extensions-conf.js';
import { DialplanEngine } from '../../dialplan/engine.js';
import { LogRoot } from '../../observability/logger.js';
import { ModuleHost } from '../../host/module-host.js';
import { skeletonModule, type SkeletonServices } from './skeleton-module.js';

const BASE = 'sip: { domain: a.org, listen: [udp:127.0.0.1:5060] }\nstorage: { path: ":memory:" }\n';

function host(): ModuleHost<SkeletonServices> {
  return new ModuleHost([skeletonModule()]);
}

test('one folder: the section, the application, the function and the command reach the host', async () => {
  const h = host();
  const cfg = parseConfig(`${BASE}skeleton:\n  greeting: welcome\n`, 'palisade.yaml', { sections: h.sections });
  assert.deepEqual(cfg.sections.skeleton, { greeting: 'welcome' });
  await h.start({ cfg, logs: new LogRoot('error') });

  const registry = h.registry;
  const dp = parseExtensionsConfText('[c]\nexten => s,1,Skeleton(G)\n same => n,Set(F=${SKELETON()})\n', 'extensions.conf', { registry });
  const ch = new MemoryChannel({ context: 'c' });
  await new DialplanEngine(dp, { registry }).run(ch, ch.media);
  assert.equal(ch.vars.get('G'), 'welcome');
  assert.equal(ch.vars.get('F'), 'welcome');
  assert.deepEqual(h.commands.run('skeleton', {}), { greeting: 'welcome', runs: 1 });
  await h.stop();
  assert.deepEqual(h.commands.run('skeleton', {}), { greeting: 'welcome', runs: 0 });
});

test("the module's section is read with file:line errors, and a typo's hint knows it", () => {
  const h = host();
  const bad = (text: string) => {
    try {
      parseConfig(text, 'palisade.yaml', { sections: h.sections });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail('expected a ConfigError');
  };
  assert.match(bad(`${BASE}skeleton:\n  greeting: Hello World\n`), /^palisade\.yaml:4:13: skeleton\.greeting "Hello World" is not valid; expected a prompt name such as hello$/);
  assert.match(bad(`${BASE}skeleton:\n  greting: hi\n`), /^palisade\.yaml:4:3: unknown key skeleton\.greting; did you mean greeting\?/);
  assert.match(bad(`${BASE}skeletn:\n  greeting: hi\n`), /^palisade\.yaml:3:1: unknown key skeletn; did you mean skeleton\? top-level sections: .*prompts, skeleton$/);
  // without the module, the section is unknown like any other key
  assert.throws(() => parseConfig(`${BASE}skeleton: {}\n`, 'palisade.yaml'), /unknown key skeleton; top-level sections/);
});

test('the parser refuses the application where the module is not loaded', () => {
  assert.throws(() => parseExtensionsConfText('[c]\nexten => s,1,Skeleton(G)\n', 'extensions.conf'), /unknown application "Skeleton"/);
  assert.ok(host().registry.findApp('skeleton'), 'names are case-insensitive');
});
