import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatternMatcher, compilePattern, compiledPatternCount, extensionMatches } from './matcher.js';

function best(names: string[], input: string): string | undefined {
  const m = new PatternMatcher<string>();
  for (const n of names) m.add(n, n);
  return m.match(input);
}

test('an exact extension beats any pattern', () => {
  assert.equal(best(['_X.', '_1XX', '100', '_100'], '100'), '100');
});

test('among patterns the more specific wins, position by position, as Asterisk sorts them', () => {
  assert.equal(best(['_X.', '_1XX'], '123'), '_1XX');
  assert.equal(best(['_XXX', '_NXX', '_ZXX'], '523'), '_NXX'); // N (8 chars) is narrower than Z (9) and X (10)
  assert.equal(best(['_XXX', '_ZXX'], '123'), '_ZXX');
  assert.equal(best(['_XXX', '_[1-5]XX'], '323'), '_[1-5]XX');
  assert.equal(best(['_[1-5]XX', '_3XX'], '323'), '_3XX');
  assert.equal(best(['_X.', '_X!'], '55'), '_X.'); // '.' sorts before '!'
  assert.equal(best(['_X.', '_X!'], '5'), '_X!'); // '.' needs at least one more character
  assert.equal(best(['_9!', '_9X.'], '9'), '_9!'); // '.' needs one more character
  assert.equal(best(['_9!', '_9X.'], '912'), '_9X.');
  assert.equal(best(['_NXXXXXX', '_X.'], '5551234'), '_NXXXXXX');
  assert.equal(best(['_NXXXXXX'], '1551234'), undefined);
  assert.equal(best(['_NXXXXXX'], '555123'), undefined);
  // first position decides: a literal 1 beats N even if later positions are wider
  assert.equal(best(['_1X.', '_NXX'], '234'), '_NXX');
  assert.equal(best(['_1X.', '_XXX'], '134'), '_1X.');
});

test("character classes: ranges, lists, N X Z in either case, '-' ignored", () => {
  assert.equal(best(['_[13579]X'], '52'), '_[13579]X');
  assert.equal(best(['_[13579]X'], '42'), undefined);
  assert.equal(best(['_nxx'], '200'), '_nxx');
  assert.equal(best(['_555-XXXX'], '5551234'), '_555-XXXX');
  assert.equal(best(['_[a-c]X'], 'b1'), '_[a-c]X');
});

test('accept() falls through to the next best candidate (caller-ID matching)', () => {
  const m = new PatternMatcher<{ n: string; cid: string | null }>();
  m.add('100', { n: 'a', cid: '_10XX' });
  m.add('100', { n: 'b', cid: null });
  m.add('_1XX', { n: 'c', cid: null });
  const pick = (cid: string) => m.match('100', (v) => v.cid === null || extensionMatches(v.cid, cid))?.n;
  assert.equal(pick('1005'), 'a');
  assert.equal(pick('2005'), 'b');
});

test('canMatchMore tells whether more digits could still reach an extension', () => {
  const m = new PatternMatcher<string>();
  for (const n of ['1', '123', '_5XX', '_9.']) m.add(n, n);
  assert.equal(m.canMatchMore('1'), true); // 123
  assert.equal(m.canMatchMore('12'), true);
  assert.equal(m.canMatchMore('123'), false);
  assert.equal(m.canMatchMore('5'), true);
  assert.equal(m.canMatchMore('55'), true);
  assert.equal(m.canMatchMore('555'), false);
  assert.equal(m.canMatchMore('9'), true);
  assert.equal(m.canMatchMore('9876'), true);
  assert.equal(m.canMatchMore('7'), false);
});

test('extensionMatches for single names', () => {
  assert.equal(extensionMatches('_X.', '12'), true);
  assert.equal(extensionMatches('_X.', '1'), false);
  assert.equal(extensionMatches('_9!', '9'), true);
  assert.equal(extensionMatches('1001', '1001'), true);
  assert.equal(extensionMatches('1001', '1002'), false);
});

test('a pattern is compiled once and reused; the cache stays bounded and still answers right', () => {
  const first = compilePattern('_49X.');
  assert.ok(first);
  assert.equal(compilePattern('_49X.'), first, 'the second call returns the same compiled test');
  assert.equal(compilePattern('_[bad'), null);
  assert.equal(compilePattern('_[bad'), null, 'a bad pattern is remembered as bad');
  for (let i = 0; i < 5000; i++) assert.equal(extensionMatches(`_${i}X`, `${i}7`), true);
  assert.ok(compiledPatternCount() <= 1024, `${compiledPatternCount()} kept`);
  // the oldest entries left; asking again compiles afresh and still matches
  assert.equal(extensionMatches('_49X.', '4912'), true);
  assert.equal(extensionMatches('_49X.', '4812'), false);
});

test('10,000 extensions: every exact one is found, and pattern fall-back still works', () => {
  const m = new PatternMatcher<string>();
  for (let i = 0; i < 10_000; i++) m.add(String(200000 + i * 7), `e${i}`);
  for (let p = 0; p < 200; p++) m.add(`_${3000 + p}XX`, `p${p}`);
  m.add('_X.', 'catchall');
  assert.equal(m.size, 10_201);
  for (let i = 0; i < 10_000; i++) assert.equal(m.match(String(200000 + i * 7)), `e${i}`);
  assert.equal(m.match('200001'), 'catchall');
  assert.equal(m.match('312345'), 'p123');
  assert.equal(m.match('31234'), 'catchall');
});
