import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPidf, parsePidf } from './pidf.js';

test('a PIDF Palisade builds reads back the same: basic, RPID activities, note', () => {
  const doc = { basic: 'open' as const, activities: ['on-the-phone' as const, 'away' as const], note: 'back at 3' };
  assert.deepEqual(parsePidf(buildPidf('sip:2001@pbx.example', doc)), doc);
});

test('a document that is not PIDF reads as null; entities are not expanded', () => {
  assert.equal(parsePidf('<not-presence/>'), null);
  assert.equal(parsePidf('plain text'), null);
  const withEntity = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "expanded">]><presence><tuple id="t"><status><basic>closed</basic></status><note>&x;</note></tuple></presence>';
  const d = parsePidf(withEntity);
  assert.equal(d?.basic, 'closed');
  assert.notEqual(d?.note, 'expanded');
});

test("a note's escaped characters read back as the characters, once: the predefined entities and character references", () => {
  const doc = { basic: 'closed' as const, activities: [], note: `Tom & Jerry <at lunch> "back" at 1 o'clock` };
  const xml = buildPidf('sip:2001@pbx.example', doc);
  assert.ok(xml.includes('Tom &amp; Jerry &lt;at lunch&gt;'), xml);
  assert.deepEqual(parsePidf(xml), doc);
  const refs = '<presence><tuple id="t"><status><basic>open</basic></status><note>caf&#233; &#x2615; &bogus; &#0;</note></tuple></presence>';
  assert.equal(parsePidf(refs)?.note, 'café ☕ &bogus; &#0;');
});
