// The troubleshoot module: its section (defaults = the old constants,
// file:line errors), its commands in the host's table, its taps installed
// in start() and removed in stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../security/config/load-config.js';
import { ConfigError } from '../../config/config-error.js';
import { ModuleHost } from '../../host/module-host.js';
import type { SipTap } from '../../transport/sip-tap.js';
import { troubleshootModule, type TroubleshootModuleServices } from './troubleshoot-module.js';
import { DEFAULT_TROUBLESHOOT } from './read-troubleshoot.js';

const BASE = 'sip: { domain: a.org, listen: [udp:127.0.0.1:5060] }\nstorage: { path: ":memory:" }\n';

test('troubleshoot: defaults; keys read in MiB', () => {
  const h = new ModuleHost<TroubleshootModuleServices>([troubleshootModule()]);
  assert.deepEqual(parseConfig(BASE, 'palisade.yaml', { sections: h.sections }).sections.troubleshoot, DEFAULT_TROUBLESHOOT);
  assert.deepEqual(DEFAULT_TROUBLESHOOT, {
    maxCalls: 200,
    maxBytes: 32 * 1024 * 1024,
    maxOpenCalls: 5000,
    maxOpenBytes: 8 * 1024 * 1024,
    ringMessages: 16384,
    maxRtpPackets: 6000,
  });
  const cfg = parseConfig(`${BASE}troubleshoot:\n  max_calls: 10\n  max_mb: 2\n  max_rtp_packets: 0\n  ring_messages: 4096\n`, 'palisade.yaml', { sections: h.sections });
  assert.deepEqual(cfg.sections.troubleshoot, { ...DEFAULT_TROUBLESHOOT, maxCalls: 10, maxBytes: 2 * 1024 * 1024, maxRtpPackets: 0, ringMessages: 4096 });
});

test('troubleshoot: bad values and unknown keys carry file:line', () => {
  const h = new ModuleHost<TroubleshootModuleServices>([troubleshootModule()]);
  assert.throws(
    () => parseConfig(`${BASE}troubleshoot:\n  max_calls: 0\n  max_call: 3\n`, 'palisade.yaml', { sections: h.sections }),
    (err: unknown) => err instanceof ConfigError && /palisade\.yaml:4:\d+.*max_calls/.test(err.message) && /palisade\.yaml:5:\d+.*max_call\b/.test(err.message),
  );
  assert.throws(() => parseConfig(`${BASE}trubleshoot: {}\n`, 'palisade.yaml', { sections: h.sections }), /did you mean troubleshoot\?/);
});

test('troubleshoot: commands in the host table, the SIP tap set in start() and cleared in stop()', async () => {
  const h = new ModuleHost<TroubleshootModuleServices>([troubleshootModule()]);
  const cfg = parseConfig(BASE, 'palisade.yaml', { sections: h.sections });
  assert.throws(() => h.commands.run('trace-list', {}), /not running/);
  const transport: { tap: SipTap | null } = { tap: null };
  await h.start({ cfg, transport, media: { sessionAt: () => undefined } });
  assert.ok(transport.tap);
  const list = h.commands.run('trace-list', {}) as { traces: unknown[]; store: unknown };
  assert.deepEqual(list.traces, []);
  assert.deepEqual(h.commands.run('trace-extension', { extension: '1001', on: true }), { extension: '1001', tracing: true, payload: false });
  assert.throws(() => h.commands.run('pcap', { call: 'nope' }), /no trace kept for "nope"/);
  await h.stop();
  assert.equal(transport.tap, null);
});
