import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeSpec, timeMatches, type TimeSpec } from './time-spec.js';
import { parseExtensionsConfText } from './parse-extensions-conf.js';
import { DialplanEngine } from './engine.js';
import { MemoryChannel } from '../../test/support/memory-channel.js';

const spec = (t: string): TimeSpec => {
  const s = parseTimeSpec(t);
  if ('error' in s) throw new Error(s.error);
  return s;
};
// wall-clock times in UTC (the zone is named, so the server's own does not matter)
const at = (iso: string) => Date.parse(`${iso}Z`);

test('time specs: hours (end minute included), weekdays, days of month, months, ranges that wrap, & lists', () => {
  const office = spec('09:00-17:00,mon-fri,*,*,UTC');
  assert.equal(timeMatches(office, at('2026-12-04T09:00:00')), true, 'Friday 09:00');
  assert.equal(timeMatches(office, at('2026-12-04T17:00:59')), true, 'the end minute counts');
  assert.equal(timeMatches(office, at('2026-12-04T17:01:00')), false);
  assert.equal(timeMatches(office, at('2026-12-05T10:00:00')), false, 'Saturday');
  const night = spec('22:00-06:00,fri-mon,*,*,UTC');
  assert.equal(timeMatches(night, at('2026-12-06T23:30:00')), true, 'Sunday night');
  assert.equal(timeMatches(night, at('2026-12-08T23:30:00')), false, 'Tuesday');
  const xmas = spec('*,*,24-26,dec,UTC');
  assert.equal(timeMatches(xmas, at('2026-12-25T12:00:00')), true);
  assert.equal(timeMatches(xmas, at('2026-11-25T12:00:00')), false);
  assert.equal(timeMatches(spec('*,sat&sun,*,*,UTC'), at('2026-12-06T12:00:00')), true);
  assert.equal(timeMatches(spec('09:00-17:00,mon-fri,*,*,Europe/Berlin'), at('2026-12-04T16:30:00')), false, '17:30 in Berlin');
  for (const [bad, why] of [
    ['25:00-26:00,*,*,*', /times "25:00-26:00"/],
    ['09:00-17:00,moonday,*,*', /weekdays "moonday"/],
    ['*,*,32,*', /days of the month "32"/],
    ['*,*,*,smarch', /months "smarch"/],
    ['*,*,*,*,Mars/Olympus', /timezone "Mars\/Olympus"/],
  ] as const) {
    const r = parseTimeSpec(bad);
    assert.ok('error' in r && why.test(r.error), `${bad}: ${JSON.stringify(r)}`);
  }
});

test('GotoIfTime() and a time-restricted include follow the engine clock (fake)', async () => {
  const dp = parseExtensionsConfText(
    [
      '[in]',
      'exten => s,1,GotoIfTime(09:00-17:00,mon-fri,*,*,UTC?open,s,1:closed,s,1)',
      '[open]',
      'exten => s,1,Set(WHERE=open)',
      '[closed]',
      'exten => s,1,Set(WHERE=closed)',
      '[desk]',
      'include => daytime,08:00-18:00,mon-fri,*,*,UTC',
      'include => always',
      '[daytime]',
      'exten => 100,1,Set(WHERE=day-desk)',
      '[always]',
      'exten => 100,1,Set(WHERE=night-desk)',
      '',
    ].join('\n'),
    'extensions.conf',
  );
  let now = at('2026-12-04T10:00:00');
  const engine = new DialplanEngine(dp, { now: () => now });
  const run = async (context: string, dialed: string) => {
    const ch = new MemoryChannel({ context, dialed });
    await engine.run(ch, ch);
    return ch.vars.get('WHERE');
  };
  assert.equal(await run('in', 's'), 'open');
  assert.equal(await run('desk', '100'), 'day-desk');
  now = at('2026-12-05T10:00:00'); // Saturday
  assert.equal(await run('in', 's'), 'closed');
  assert.equal(await run('desk', '100'), 'night-desk');
  now = at('2026-12-07T07:59:00'); // Monday before eight
  assert.equal(await run('desk', '100'), 'night-desk');
});

test('a time-restricted include with a bad spec is a parse error with file:line:col', () => {
  assert.throws(
    () => parseExtensionsConfText('[a]\ninclude => b,09:00-17:00,someday,*,*\n[b]\n', 'extensions.conf'),
    /extensions\.conf:2:\d+: include => b: weekdays "someday" is not valid/,
  );
});
