// The shipped attendance example (examples/attendance: extensions.conf,
// palisade.yaml; the site's own voicemail section and mailboxes) run through the dialplan engine with the
// real VoiceMail application registered: a caller transfers to an extension
// that is not reachable and leaves a message in its mailbox.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../security/config/load-config.js';
import { DialplanRegistry } from '../../dialplan/dialplan-registry.js';
import { loadDialplan, type LoadedDialplan } from '../../dialplan/load-dialplan.js';
import { LogRoot } from '../../observability/logger.js';
import { createVoicemail, voicemailDialplanApps, type VoicemailFeature, type VoicemailMail } from './index.js';
import { MemoryChannel } from '../../../test/support/memory-channel.js';
import { generatePin } from '../../security/passwords/index.js';

// dist/src/features/voicemail → the repository root
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const example = join(root, 'examples', 'attendance');
const dir = mkdtempSync(join(tmpdir(), 'pal-vm-dialplan-'));
let loaded: LoadedDialplan;
let feature: VoicemailFeature;
const mails: VoicemailMail[] = [];

before(async () => {
  for (const f of ['attendance.sql', 'extensions.conf']) copyFileSync(join(example, f), join(dir, f));
  // the example ships no credentials: the site adds its mailboxes, as the demo does
  writeFileSync(
    join(dir, 'voicemail.conf'),
    `[default]\n1001 => ${generatePin(6, '1001')},Reception,reception@example.edu\n1002 => ${generatePin(6, '1002')},Registrar,registrar@example.edu\n`,
  );
  const yamlPath = join(dir, 'palisade.yaml');
  writeFileSync(yamlPath, readFileSync(join(example, 'palisade.yaml'), 'utf8') + 'voicemail:\n  file: voicemail.conf\n  spool_dir: var/voicemail\n');
  const cfg = parseConfig(readFileSync(yamlPath, 'utf8'), yamlPath);
  assert.deepEqual(
    cfg.voicemail.mailboxes.map((b) => `${b.number}@${b.context}`),
    ['1001@default', '1002@default'],
  );
  feature = createVoicemail(cfg.voicemail, {
    mail: { enqueue: async (m) => void mails.push(m) },
    log: new LogRoot('error').get('vm'),
    events: { register: () => {}, notify: async () => {} },
    domain: '127.0.0.1',
  });
  await feature.start();
  const registry = DialplanRegistry.builtin();
  for (const app of voicemailDialplanApps(() => feature)) registry.registerApp(app.name, app);
  loaded = loadDialplan(cfg, undefined, { registry })!;
});
after(async () => {
  feature?.stop();
  await loaded?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('attendance line: * 1002 # → nobody answers → VoiceMail(1002@default,u) records a message in mailbox 1002', async () => {
  // the caller hangs up during the recording (the script runs out)
  const ch = new MemoryChannel({ context: 'internal', dialed: '800', callerIdNum: '1001', callerIdName: 'Reception', script: '*1002#', recordings: [2600] });
  await loaded.engine.run(ch, ch.media);
  assert.ok(ch.heard.includes('attendance-welcome'));
  assert.deepEqual(ch.heard.slice(ch.heard.indexOf('vm-theperson')), ['vm-theperson', 'digits:1002', 'vm-isunavail', 'vm-intro', 'beep', 'record:2600']);
  assert.equal(ch.vars.get('VMSTATUS'), 'SUCCESS');
  const box = feature.service.mailbox('1002')!;
  const inbox = await feature.service.store.list(box, 'INBOX');
  assert.equal(inbox.length, 1);
  assert.equal(inbox[0]!.durationMs, 2600);
  assert.equal(inbox[0]!.callerIdNum, '1001');
  assert.equal(mails.length, 1);
  assert.equal(mails[0]!.to, 'registrar@example.edu');
});
