import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryChannel } from '../../test/support/memory-channel.js';
import { evaluateExpression, ExpressionError } from './expression.js';
import { substitute, type SubstEnv } from './substitute.js';
import { DialplanRegistry } from './dialplan-registry.js';

const registry = DialplanRegistry.builtin();

function env(vars: Record<string, string>, errors: string[] = []): SubstEnv {
  const channel = new MemoryChannel({ callerIdNum: '1001', callerIdName: 'Alice Smith' });
  return { channel, getVar: (n) => vars[n] ?? '', findFunction: (n) => registry.findFunction(n), onError: (w) => errors.push(w) };
}

test('${VAR}, ${VAR:offset:length} with negative offsets and lengths, nesting', () => {
  const e = env({ NUM: '0123456789', A: 'B', B_X: 'deep', IDX: '2' });
  assert.equal(substitute('n=${NUM}', e), 'n=0123456789');
  assert.equal(substitute('${NUM:2}', e), '23456789');
  assert.equal(substitute('${NUM:2:3}', e), '234');
  assert.equal(substitute('${NUM:-3}', e), '789');
  assert.equal(substitute('${NUM:-4:2}', e), '67');
  assert.equal(substitute('${NUM:1:-2}', e), '1234567');
  assert.equal(substitute('${NUM:${IDX}:1}', e), '2');
  assert.equal(substitute('${${A}_X}', e), 'deep');
  assert.equal(substitute('${MISSING}|', e), '|');
  assert.equal(substitute('price $5 and $ alone', e), 'price $5 and $ alone');
});

test('functions: CALLERID, LEN, IF, ISNULL, EXISTS, CUT, TOUPPER/TOLOWER, REGEX, RAND, STRFTIME', () => {
  const e = env({ X: 'hello', EMPTY: '', LIST: 'a-b-c-d', N: '5' });
  assert.equal(substitute('${CALLERID(num)}', e), '1001');
  assert.equal(substitute('${CALLERID(name)}', e), 'Alice Smith');
  assert.equal(substitute('${CALLERID(all)}', e), '"Alice Smith" <1001>');
  assert.equal(substitute('${LEN(${X})}', e), '5');
  assert.equal(substitute('${LEN()}', e), '0');
  assert.equal(substitute('${IF($[${N} > 3]?big:small)}', e), 'big');
  assert.equal(substitute('${IF($[${N} > 9]?big:small)}', e), 'small');
  assert.equal(substitute('${ISNULL(${EMPTY})}${ISNULL(${X})}${EXISTS(${X})}', e), '101');
  assert.equal(substitute('${CUT(LIST,-,2)}', e), 'b');
  assert.equal(substitute('${CUT(LIST,-,2-3)}', e), 'b-c');
  assert.equal(substitute('${CUT(LIST,-,3-)}', e), 'c-d');
  assert.equal(substitute('${TOUPPER(${X})}${TOLOWER(ABC)}', e), 'HELLOabc');
  assert.equal(substitute('${REGEX("^h.l" ${X})}${REGEX("^x" ${X})}', e), '10');
  for (let i = 0; i < 50; i++) {
    const r = Number(substitute('${RAND(3,7)}', e));
    assert.ok(r >= 3 && r <= 7 && Number.isInteger(r), String(r));
  }
  assert.equal(substitute('${STRFTIME(0,UTC,%Y-%m-%d %H:%M:%S)}', e), '1970-01-01 00:00:00');
  assert.equal(substitute('${STRFTIME(86400,UTC,%A %B %e)}', e), 'Friday January  2');
  assert.equal(substitute('${LEN(x):0:1}', e), '1');
});

test('an unknown function is empty and reported, never executed', () => {
  const errors: string[] = [];
  assert.equal(substitute('[${SHELL(echo hi)}]', env({}, errors)), '[]');
  assert.deepEqual(errors, ['${SHELL(echo hi)}: no function SHELL()']);
});

test('$[...] arithmetic and precedence as ast_expr2', () => {
  const x = evaluateExpression;
  assert.equal(x('1 + 2 * 3'), '7');
  assert.equal(x('(1 + 2) * 3'), '9');
  assert.equal(x('7 / 2'), '3');
  assert.equal(x('7 % 3'), '1');
  assert.equal(x('-3 + 5'), '2');
  assert.equal(x('1.5 * 2'), '3');
  assert.equal(x('2+3'), '5');
  assert.equal(x('!0'), '1');
  assert.equal(x('!5'), '0');
  assert.equal(x('1 + 2 = 3'), '1');
  assert.equal(x('0 | 7'), '7');
  assert.equal(x('"" | fallback'), 'fallback');
  assert.equal(x('abc | x'), 'abc');
  assert.equal(x('3 & 4'), '3');
  assert.equal(x('3 & 0'), '0');
  assert.equal(x('1 = 1 & 2 = 3'), '0');
  assert.equal(x('1 ? yes :: no'), 'yes');
  assert.equal(x('0 ? yes :: no'), 'no');
  assert.equal(x(''), '');
});

test('$[...] comparisons: numeric when both sides are numbers, else string', () => {
  const x = evaluateExpression;
  assert.equal(x('10 > 9'), '1'); // numeric
  assert.equal(x('"10" > "9"'), '1'); // still numbers after unquoting, as Asterisk
  assert.equal(x('abc < abd'), '1');
  assert.equal(x('10 > 9a'), '0'); // string: "10" < "9a"
  assert.equal(x('007 = 7'), '1');
  assert.equal(x('foo = foo'), '1');
  assert.equal(x('foo != bar'), '1');
  assert.equal(x('5 >= 5'), '1');
  assert.equal(x('4 <= 3'), '0');
});

test('$[...] regex operators : (anchored) and =~', () => {
  const x = evaluateExpression;
  assert.equal(x('12345 : 123'), '3');
  assert.equal(x('12345 : 234'), '0');
  assert.equal(x('12345 =~ 234'), '3');
  assert.equal(x('"0041 79" : "00(..)"'), '41');
  assert.equal(x('abc : "x(.)"'), '');
});

test('malformed expressions raise ExpressionError and substitute to empty', () => {
  assert.throws(() => evaluateExpression('1 +'), ExpressionError);
  assert.throws(() => evaluateExpression('(1 + 2'), ExpressionError);
  assert.throws(() => evaluateExpression('abc + 1'), /non-numeric argument "abc" to \+/);
  assert.throws(() => evaluateExpression('1 / 0'), /division by zero/);
  const errors: string[] = [];
  assert.equal(substitute('<$[1 +]>', env({}, errors)), '<>');
  assert.equal(errors.length, 1);
});

test('substitution inside $[...] happens first, so variables feed expressions', () => {
  const e = env({ PIN: '1234', TRIES: '2' });
  assert.equal(substitute('$[${LEN(${PIN})} = 4]', e), '1');
  assert.equal(substitute('$[${TRIES} + 1]', e), '3');
  assert.equal(substitute('$["${PIN}" = "1234"]', e), '1');
  assert.equal(substitute('$["${EMPTY}" = ""]', e), '1');
});

test('substitution never throws, whatever the text (random strings from the significant characters)', () => {
  const alphabet = [
    '$',
    '{',
    '}',
    '[',
    ']',
    '(',
    ')',
    ':',
    '?',
    '"',
    '\\',
    '1',
    '-',
    '+',
    '*',
    '/',
    '%',
    '!',
    '=',
    '~',
    '<',
    '>',
    '|',
    '&',
    'A',
    'LEN(',
    'IF(',
    'CUT(',
    'REGEX("',
    ' ',
  ];
  let seed = 777;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const e = env({ A: '12' });
  for (let i = 0; i < 5000; i++) {
    let t = '';
    for (let k = 0; k < rnd(20); k++) t += alphabet[rnd(alphabet.length)];
    assert.equal(typeof substitute(t, e), 'string', t);
  }
});
