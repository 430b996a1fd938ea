import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModuleHost } from './module-host.js';
import { CommandTable } from './command-table.js';
import { createHost } from './modules.js';

test('modules start in list order and stop in reverse; a failing start stops those already started', async () => {
  const seen: string[] = [];
  const mod = (name: string, fail = false) => ({
    name,
    start: () => {
      if (fail) throw new Error(`${name} failed`);
      seen.push(`start ${name}`);
    },
    stop: () => void seen.push(`stop ${name}`),
  });
  const h = new ModuleHost<void>([mod('a'), mod('b')]);
  await h.start();
  await h.stop();
  assert.deepEqual(seen, ['start a', 'start b', 'stop b', 'stop a']);
  seen.length = 0;
  await assert.rejects(new ModuleHost<void>([mod('a'), mod('b', true), mod('c')]).start(), /b failed/);
  assert.deepEqual(seen, ['start a', 'stop a']);
});

test('names are single: a module, a command, an application, a core config section', () => {
  const cmd = (name: string) => ({ name: `m-${name}`, declare: (d: { command(n: string, r: () => unknown): void }) => d.command(name, () => 1) });
  assert.throws(() => new ModuleHost([cmd('x'), { ...cmd('y'), name: 'm-x' }]), /module "m-x" is listed twice/);
  assert.throws(() => new ModuleHost([cmd('x'), cmd('x')]), /module "m-x" is listed twice/);
  assert.throws(
    () => new ModuleHost([cmd('x'), { name: 'other', declare: (d: { command(n: string, r: () => unknown): void }) => d.command('x', () => 2) }]),
    /control command "x" of module other is registered already/,
  );
  assert.throws(
    () => new ModuleHost([{ name: 'vm2', declare: (d) => d.app({ name: 'playback', synopsis: '', run: async () => {} }) }]),
    /dialplan application playback of module vm2 exists already/,
  );
  assert.throws(() => new ModuleHost([{ name: 'sip2', declare: (d) => d.configSection('sip', () => null) }]), /config section "sip" of module sip2 is taken/);
});

test('the command table refuses an unknown command as the control socket always did', () => {
  const t = new CommandTable();
  t.add('status', () => ({ ok: true }));
  assert.deepEqual(t.run('status', {}), { ok: true });
  assert.throws(() => t.run('statsu', {}), /^Error: unknown command "statsu"$/);
});

test('the shipped modules declare the commands, applications and status fields the server always had', () => {
  const h = createHost();
  assert.deepEqual(
    h.modules.map((m) => m.name),
    [
      'security',
      'dblookup',
      'voicemail',
      'qualify',
      'quality',
      'troubleshoot',
      'trunks',
      'iax2',
      'queues',
      'campaigns',
      'messaging',
      'presence',
      'xmpp',
      'cluster',
      'office',
      'console',
    ],
  );
  assert.deepEqual(h.commands.names(), [
    'ban-add',
    'ban-remove',
    'bans',
    'blf',
    'campaign-create',
    'campaign-disposition',
    'campaign-dnc-add',
    'campaign-dnc-list',
    'campaign-dnc-remove',
    'campaign-import',
    'campaign-pause',
    'campaign-results',
    'campaign-start',
    'campaign-status',
    'cdr',
    'cluster',
    'console-reload',
    'diversions',
    'dnd',
    'followme',
    'forward',
    'fraud-reload',
    'fraud-remove',
    'guard',
    'iax2',
    'iax2-hangup',
    'messages',
    'parked',
    'pcap',
    'presence',
    'presence-dnd',
    'queue-add',
    'queue-pause',
    'queue-penalty',
    'queue-remove',
    'queue-show',
    'queue-stats',
    'queue-unpause',
    'reputation',
    'reputation-reset',
    'ringgroups',
    'show-call',
    'show-iax2',
    'show-queues',
    'trace',
    'trace-extension',
    'trace-list',
    'trunks',
    'trunks-reload',
    'voicemail-delete',
    'voicemail-deposit',
    'voicemail-list',
    'voicemail-mark-old',
    'voicemail-messages',
  ]);
  assert.ok(h.registry.findApp('VoiceMail') && h.registry.findApp('VoiceMailMain'));
  assert.ok(h.registry.findApp('Queue') && h.registry.findApp('AddQueueMember') && h.registry.findApp('PauseQueueMember'));
  assert.ok(h.registry.findApp('MessageSend'));
  assert.ok(h.registry.findApp('DND') && h.registry.findApp('CallForward') && h.registry.findApp('Transfer'));
  assert.ok(h.registry.findApp('Park') && h.registry.findApp('ParkedCall') && h.registry.findApp('Pickup'));
  assert.deepEqual([...h.statusFields.keys()], ['security', 'trunks', 'iax2', 'queues', 'campaigns', 'messaging', 'presence', 'xmpp', 'cluster', 'office', 'http', 'backup']);
  assert.deepEqual(
    [...h.sections.keys()],
    ['quality', 'troubleshoot', 'trunks', 'routes', 'iax2', 'queues', 'messaging', 'presence', 'xmpp', 'cluster', 'office', 'ring_groups', 'follow_me', 'http'],
  );
});
