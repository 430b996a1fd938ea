import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { ExtensionConfig } from '../config/config-types.js';
import { checkExtensionContexts, parseExtensionsConf, parseExtensionsConfText } from './parse-extensions-conf.js';

function errorOf(text: string, file = 'extensions.conf'): ConfigError {
  try {
    parseExtensionsConfText(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e;
  }
  assert.fail('expected the dialplan to be rejected');
}

test('contexts, exten/same, n, labels, hint, globals, comments and the old App,data syntax', () => {
  const dp = parseExtensionsConfText(
    [
      '[general]',
      'static=yes',
      '[globals]',
      'OPERATOR=1000 ; the operator',
      '[internal]',
      'exten => 100,1,Answer()',
      ' same => n(again),Playback(hello\\;world)   ; escaped semicolon',
      ' same => n,Goto(again)',
      'exten => 100,hint,SIP/100',
      'exten => 200,1,Dial,SIP/200,20',
      ';-- a block',
      'comment --;',
      'exten => _1XXX/_10XX,1,NoOp(cid match)',
      'exten = 300,10(start),Hangup',
      'exten => 300,n,NoOp',
      'exten => 300,n+5,NoOp',
      'exten => 300,s+1,NoOp',
    ].join('\n'),
    '/etc/palisade/extensions.conf',
  );
  assert.equal(dp.globals.get('OPERATOR'), '1000');
  const ctx = dp.contexts.get('internal')!;
  const e100 = ctx.extensions.get('100')!;
  assert.deepEqual(
    e100.steps.map((s) => [s.priority, s.label, s.app, s.data]),
    [
      [1, null, 'Answer', ''],
      [2, 'again', 'Playback', 'hello;world'],
      [3, null, 'Goto', 'again'],
    ],
  );
  assert.equal(e100.hint, 'SIP/100');
  assert.deepEqual(e100.steps[1]!.at, { file: '/etc/palisade/extensions.conf', line: 7, col: 19 });
  assert.equal(ctx.extensions.get('200')!.steps[0]!.data, 'SIP/200,20');
  assert.equal(ctx.extensions.get('_1XXX/_10XX')!.cid, '_10XX');
  const e300 = ctx.extensions.get('300')!;
  assert.deepEqual(
    e300.steps.map((s) => s.priority),
    [10, 11, 17, 18],
  );
  assert.equal(e300.byLabel.get('start')!.priority, 10);
  assert.equal(dp.contexts.has('general'), false);
  assert.equal(dp.contexts.has('globals'), false);
});

test('application names are case-insensitive and stored canonically', () => {
  const dp = parseExtensionsConfText('[a]\nexten => 1,1,playback(x)\nexten => 2,1,SAYNUMBER(5)\n', 'e.conf');
  assert.equal(dp.contexts.get('a')!.extensions.get('1')!.steps[0]!.app, 'Playback');
  assert.equal(dp.contexts.get('a')!.extensions.get('2')!.steps[0]!.app, 'SayNumber');
});

test('an unknown application names file:line:col and suggests the closest one', () => {
  const e = errorOf('[internal]\nexten => 100,1,Answer()\n same => n,Playbak(hello)\n');
  assert.equal(e.issues.length, 1);
  assert.equal(e.line, 3);
  assert.equal(e.col, 12);
  assert.match(e.message, /^extensions\.conf:3:12: unknown application "Playbak"; did you mean Playback\? \(known: Answer, Authenticate, Background, /);
});

test('a duplicate priority points at the line and the first definition', () => {
  const e = errorOf('[internal]\nexten => 100,1,Answer()\nexten => 100,1,Hangup()\n');
  assert.equal(e.message, 'extensions.conf:3:14: priority 1 of extension 100 in [internal] is already defined at extensions.conf:2; use n for the next priority or renumber');
});

test('bad priorities are rejected with what is expected', () => {
  assert.equal(errorOf('[c]\nexten => 1,x,Answer()\n').message, 'extensions.conf:2:12: bad priority "x"; expected a number from 1, n, n(label) or hint');
  assert.equal(errorOf('[c]\nexten => 1,0,Answer()\n').message, 'extensions.conf:2:12: bad priority "0"; priorities start at 1');
  assert.equal(errorOf('[c]\nexten => 1,n,Answer()\n').message, 'extensions.conf:2:12: priority "n" on the first line of extension 1 in [c]; the first priority is 1');
  assert.equal(
    errorOf('[c]\nexten => 1,n(oops,Answer()\n').message,
    'extensions.conf:2:12: bad priority "n(oops"; expected a number from 1, n, n(label) or hint (a label is written n(name) with balanced parentheses)',
  );
});

test('an include of a missing context is an error at the include line', () => {
  const e = errorOf('[internal]\ninclude => featurs\nexten => 1,1,NoOp()\n[features]\nexten => *1,1,NoOp()\n');
  assert.equal(e.message, 'extensions.conf:2:12: include => featurs: no context [featurs] in the dialplan; did you mean features?');
});

test('unbalanced parentheses and brackets are reported', () => {
  assert.equal(errorOf('[c]\nexten => 1,1,Playback(hello\n').message, 'extensions.conf:2:22: unbalanced parentheses: a "(" is never closed; add ")"');
  assert.equal(errorOf('[c]\nexten => 1,1,NoOp(${EXTEN)\n').message, 'extensions.conf:2:19: NoOp(${EXTEN): unbalanced brackets: a ${ is never closed; add "}"');
  assert.equal(errorOf('[c]\nexten => 1,1,GotoIf($[${X} = 1?a:b)\n').message, 'extensions.conf:2:21: GotoIf($[${X} = 1?a:b): unbalanced brackets: a $[ is never closed; add "]"');
  assert.equal(errorOf('[c\nexten => 1,1,NoOp()\n').message.split('\n')[0], 'extensions.conf:1:1: unbalanced brackets in "[c"; a context header is [name]');
  assert.equal(errorOf('[c]\nexten => _1[2-,1,NoOp()\n').message, "extensions.conf:2:12: pattern _1[2-: unclosed '[' in pattern; expected a set such as [1-5]");
});

test('lines outside a context, unknown keywords, same without exten, incomplete exten', () => {
  assert.equal(errorOf('exten => 1,1,NoOp()\n').message, 'extensions.conf:1:1: "exten" appears before any [context]; start the file with a [context] line such as [internal]');
  assert.equal(errorOf('[c]\nextn => 1,1,NoOp()\n').message, 'extensions.conf:2:1: unknown keyword "extn" in [c]; expected exten, same or include — did you mean exten?');
  assert.equal(errorOf('[c]\nsame => n,NoOp()\n').message, 'extensions.conf:2:9: same => needs an exten => line before it in this context; write exten => NUMBER,1,App() first');
  assert.equal(errorOf('[c]\nexten => 100,1\n').message, 'extensions.conf:2:10: exten => "100,1" is incomplete; expected exten => NUMBER,PRIORITY,Application(arguments)');
  // SHELL()-class functions are not provided: a dialplan that uses one fails at load
  assert.match(
    errorOf('[c]\nexten => 1,1,NoOp(${SHELL(rm -rf /)})\n').message,
    /^extensions\.conf:2:21: unknown function SHELL\(\)(; did you mean \w+\?)? \(available: CALLERID, CUT, /,
  );
});

test('every problem of a file is reported at once, in line order', () => {
  const e = errorOf('[c]\nexten => 1,1,Bogus()\nexten => 2,x,NoOp()\ninclude => nowhere\n');
  assert.deepEqual(
    e.issues.map((i) => i.line),
    [2, 3, 4],
  );
});

test('#include is relative to the including file; a missing or circular include is an error at its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-dp-'));
  try {
    writeFileSync(join(dir, 'extensions.conf'), '[internal]\n#include "sub/more.conf"\nexten => 1,1,NoOp()\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'more.conf'), '[more]\nexten => 2,1,NoOp()\n same => n,Bogus()\n');
    let err: ConfigError | undefined;
    try {
      parseExtensionsConf(join(dir, 'extensions.conf'));
    } catch (e) {
      err = e as ConfigError;
    }
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, join(dir, 'sub', 'more.conf'));
    assert.equal(err.line, 3);
    writeFileSync(join(dir, 'sub', 'more.conf'), '[more]\nexten => 2,1,NoOp()\n');
    const dp = parseExtensionsConf(join(dir, 'extensions.conf'));
    assert.deepEqual([...dp.contexts.keys()], ['internal', 'more']);
    assert.equal(dp.files.length, 2);

    writeFileSync(join(dir, 'loop.conf'), '[x]\n#include "loop.conf"\n');
    assert.throws(
      () => parseExtensionsConf(join(dir, 'loop.conf')),
      (e: ConfigError) => {
        assert.equal(e.line, 2);
        assert.match(e.message, /loops back to a file that is already being read/);
        return true;
      },
    );
    writeFileSync(join(dir, 'missing.conf'), '[x]\n#include "nope.conf"\n');
    assert.throws(
      () => parseExtensionsConf(join(dir, 'missing.conf')),
      (e: ConfigError) => {
        assert.equal(
          e.message,
          `${join(dir, 'missing.conf')}:2:1: #include "${join(dir, 'nope.conf')}" does not exist; expected a file path relative to ${join(dir, 'missing.conf')}`,
        );
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an extension's context missing from the dialplan is an error at the YAML position", () => {
  const dp = parseExtensionsConfText('[internal]\nexten => 1,1,NoOp()\n[ivr]\nexten => s,1,NoOp()\n', 'extensions.conf');
  const ext = (number: string, context: string, line: number): ExtensionConfig => ({
    number,
    name: number,
    ha1Md5: null,
    ha1Sha256: null,
    context,
    email: null,
    voicemail: false,
    directMedia: false,
    encryption: 'optional',
    maxContacts: 1,
    at: { file: 'palisade.yaml', line: line - 1, col: 5 },
    contextAt: { file: 'palisade.yaml', line, col: 14 },
  });
  checkExtensionContexts(dp, [ext('1001', 'internal', 12)]);
  assert.throws(
    () => checkExtensionContexts(dp, [ext('1001', 'internal', 12), ext('1002', 'internl', 17)]),
    (e: ConfigError) => {
      assert.equal(
        e.message,
        'palisade.yaml:17:14: extension 1002 uses context "internl", which the dialplan (extensions.conf) does not define; expected one of: internal, ivr; did you mean internal?',
      );
      return true;
    },
  );
});

test('a Goto/GotoIf written out in full must land on an existing context, extension, priority or label', () => {
  const conf = (line: string) => `[c]\nexten => 1,1,NoOp()\n same => n(again),NoOp()\n${line}\n[other]\nexten => _2XX,1,NoOp()\n same => n(menu),NoOp()\n`;
  for (const ok of ['exten => 9,1,Goto(1,again)', 'exten => 9,1,Goto(other,250,menu)', 'exten => 9,1,GotoIf(1?1,2:other,299,1)', 'exten => 9,1,Goto(${X},1)']) {
    parseExtensionsConfText(conf(ok), 'e.conf');
  }
  assert.equal(errorOf(conf('exten => 9,1,Goto(1,agian)')).message, 'extensions.conf:4:14: Goto(1,agian): no label "agian" in extension 1 of [c]; did you mean again?');
  assert.equal(errorOf(conf('exten => 9,1,Goto(othr,250,1)')).message, 'extensions.conf:4:14: Goto(othr,250,1): no context [othr]; did you mean other?');
  assert.equal(errorOf(conf('exten => 9,1,GotoIf(1?1,1:other,300,1)')).message, 'extensions.conf:4:14: GotoIf(1?1,1:other,300,1): no extension 300 in [other] or its includes');
  assert.equal(errorOf(conf('exten => 9,1,Goto(1,7)')).message, 'extensions.conf:4:14: Goto(1,7): extension 1 has no priority 7');
  // the condition may be computed; the targets are still checked
  assert.equal(
    errorOf(conf('exten => 9,1,GotoIf($["${X}" = "a?b"]?1,again:1,agn)')).message,
    'extensions.conf:4:14: GotoIf($["${X}" = "a?b"]?1,again:1,agn): no label "agn" in extension 1 of [c]; did you mean again?',
  );
  // a branch made of ${EXTEN:7:3} holds colons that do not split the branches; the written-out other branch is still checked
  parseExtensionsConfText(conf('exten => 9,1,GotoIf(1?other,${EXTEN:7:3},1:1,again)'), 'e.conf');
  assert.equal(
    errorOf(conf('exten => 9,1,GotoIf(1?other,${EXTEN:7:3},1:1,agn)')).message,
    'extensions.conf:4:14: GotoIf(1?other,${EXTEN:7:3},1:1,agn): no label "agn" in extension 1 of [c]; did you mean again?',
  );
});

test('garbage never escapes as anything but a ConfigError (random lines from the significant characters)', () => {
  const alphabet = [
    '[',
    ']',
    '(',
    ')',
    '{',
    '}',
    '$',
    ',',
    ';',
    '=',
    '>',
    '_',
    'X',
    'N',
    '.',
    '!',
    '1',
    '2',
    'n',
    's',
    'h',
    '"',
    '\\',
    ' ',
    '#',
    'exten => ',
    'same => ',
    'include => ',
    'Goto(',
    'Set(',
    'Gosub(',
    '${',
    '$[',
    ';--',
    '--;',
  ];
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const lines: string[] = ['[c]'];
    for (let l = 0; l < 1 + rnd(4); l++) {
      let line = '';
      for (let k = 0; k < rnd(14); k++) line += alphabet[rnd(alphabet.length)];
      lines.push(line);
    }
    try {
      parseExtensionsConfText(lines.join('\n'), 'fuzz.conf');
    } catch (e) {
      assert.ok(e instanceof ConfigError, `${JSON.stringify(lines)} threw ${e}`);
    }
  }
});
