import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs, UsageError } from '../admin/cli-args.js';
import { main } from './main.js';

const USAGE = 'usage: palisade thing --config FILE [--json]\n';

test('parseCommandArgs reads --name value, --name=value and flags in any order, with the plain arguments', () => {
  const r = parseCommandArgs(['add', '--config', 'a.yaml', '192.0.2.1', '--json', '--for=1h'], { config: 'string', json: 'boolean', for: 'string' }, USAGE, 2);
  assert.deepEqual({ ...r.values }, { config: 'a.yaml', json: true, for: '1h' });
  assert.deepEqual(r.positionals, ['add', '192.0.2.1']);
});

test('an unknown option, a missing value or a stray argument is a UsageError naming it, with the usage', () => {
  const spec = { config: 'string', json: 'boolean' } as const;
  const fails = (argv: string[], message: RegExp): void => {
    assert.throws(
      () => parseCommandArgs(argv, spec, USAGE),
      (e: unknown) => e instanceof UsageError && message.test(e.message) && e.usage === USAGE,
    );
  };
  fails(['--config', 'a.yaml', '--bogus'], /^unknown option --bogus$/);
  fails(['-x'], /^unknown option -x$/);
  fails(['--config'], /^--config needs a value$/);
  fails(['--config', '--json'], /^--config needs a value$/);
  fails(['--json=yes'], /^--json takes no value$/);
  fails(['extra'], /^unexpected argument "extra"$/);
});

test('every command answers an unknown option with its usage and exit 2, before doing anything', async () => {
  const cfg = ['--config', '/nonexistent/palisade.yaml'];
  const commands = [
    ['start', ...cfg],
    ['check', ...cfg],
    ['users', 'import', 'u.csv', ...cfg],
    ['status', ...cfg],
    ['show', 'calls', ...cfg],
    ['dialplan', 'show', ...cfg],
    ['audit', ...cfg],
    ['secret', 'generate', '--count', '2'],
    ['pin', 'generate', '--mailbox', '1001'],
    ['bans', 'list', ...cfg],
    ['reputation', 'show', '1001', ...cfg],
    ['fraud', 'import', 'f.txt', ...cfg],
  ];
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    for (const words of commands) {
      err = '';
      const code = await main([...words, '--bogus']);
      assert.equal(code, 2, `${words.join(' ')}: ${err}`);
      assert.match(err, new RegExp(`^palisade ${words[0]}: unknown option --bogus\\nusage: palisade `), words.join(' '));
    }
  } finally {
    process.stderr.write = write;
  }
});
