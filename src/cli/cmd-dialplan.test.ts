import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDialplan } from './cmd-dialplan.js';

test('palisade dialplan show prints contexts, includes and steps with their file:line; errors as file:line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-dpshow-'));
  try {
    writeFileSync(join(dir, 'extensions.conf'), '[internal]\ninclude => ivr\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n same => n(vm),NoOp(vm)\n[ivr]\nexten => 800,1,Answer()\n');
    writeFileSync(join(dir, 'palisade.yaml'), 'sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: 127.0.0.1\ndialplan:\n  file: extensions.conf\n');
    let out = '';
    let err = '';
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
    assert.equal(await runDialplan(['show', '--config', join(dir, 'palisade.yaml')], io), 0, err);
    const lines = out.split('\n');
    assert.equal(lines[0], "[ Context 'internal' ]");
    assert.match(lines[1]!, /^ {2}Include => {8}'ivr' +\[extensions\.conf:2\]$/);
    assert.match(lines[2]!, /^ {2}'_1XXX' => {8}1\. Dial\(SIP\/\$\{EXTEN\},20\) +\[extensions\.conf:3\]$/);
    assert.match(lines[3]!, /^ {20}2\. \[vm\] NoOp\(vm\) +\[extensions\.conf:4\]$/);
    assert.equal(lines.at(-2), '-= 2 extensions (3 priorities) in 2 contexts. =-');
    out = '';
    assert.equal(await runDialplan(['show', 'ivr', '--config', join(dir, 'palisade.yaml')], io), 0);
    assert.match(out, /^\[ Context 'ivr' \]\n/);
    assert.match(out, /-= 1 extension \(1 priority\) in 1 context\. =-/);
    writeFileSync(join(dir, 'extensions.conf'), '[internal]\nexten => 1,1,Bogus()\n');
    assert.equal(await runDialplan(['show', '--config', join(dir, 'palisade.yaml')], io), 1);
    assert.match(err, /extensions\.conf:2:14: unknown application "Bogus"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
