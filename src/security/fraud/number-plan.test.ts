import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_NUMBERING, NumberPlan } from './number-plan.js';
import { RateTable } from './rate-table.js';
import { FraudList, parseFraudFile } from './fraud-list.js';

const exts = new Set(['1001', '2000']);
const isExt = (n: string) => exts.has(n);

test('default plan: every class', () => {
  const p = new NumberPlan();
  const cls = (n: string) => p.classify(n, isExt).cls;
  assert.equal(cls('1001'), 'internal');
  assert.equal(cls('112'), 'emergency');
  assert.equal(cls('911'), 'emergency');
  assert.equal(cls('999'), 'emergency');
  assert.equal(cls('5551234'), 'local');
  assert.equal(cls('02079460000'), 'national');
  assert.equal(cls('12125550100'), 'national'); // NANP 1 + 10 digits
  assert.equal(cls('07700900123'), 'mobile');
  assert.equal(cls('0044207946000'), 'international');
  assert.equal(cls('011442079460000'), 'international');
  assert.equal(cls('+442079460000'), 'international');
  assert.equal(cls('0900123456'), 'premium');
  assert.equal(cls('19005550100'), 'premium');
  assert.equal(cls('+8816123456'), 'premium'); // satellite
  assert.equal(cls('008823456789'), 'premium');
  assert.equal(cls('*97'), 'international', 'odd strings get the strictest paid class');
});

test('a country code makes own-country E.164 numbers national, and premium stays premium', () => {
  const p = new NumberPlan({ ...DEFAULT_NUMBERING, countryCode: '44' });
  assert.deepEqual(p.classify('+442079460000', isExt), { cls: 'national', e164: '442079460000' });
  assert.equal(p.classify('00447700900123', isExt).cls, 'mobile');
  assert.equal(p.classify('+44909876543', isExt).cls, 'premium');
  assert.equal(p.classify('+33123456789', isExt).cls, 'international');
  assert.equal(p.toE164('02079460000'), '442079460000');
});

test('emergency is classified before internal: an extension numbered 112 cannot shadow it', () => {
  const p = new NumberPlan();
  assert.equal(p.classify('112', () => true).cls, 'emergency');
});

test('rate table: longest prefix wins; E.164 form matched whatever the dialling prefix', () => {
  const p = new NumberPlan();
  const r = new RateTable({ '44': 0.05, '4420': 0.02, '+1900': 2.5, '2000': 1 });
  const look = (n: string) => r.lookup(n, p.classify(n, isExt));
  assert.deepEqual(look('00442079460000'), { perMinute: 0.02, prefix: '4420' });
  assert.deepEqual(look('+441612345678'), { perMinute: 0.05, prefix: '44' });
  assert.deepEqual(look('0113312345678'), { perMinute: 0, prefix: '' });
  assert.deepEqual(look('2000'), { perMinute: 1, prefix: '2000' }, 'unprefixed numbers match as dialled');
});

test('fraud list: prefix match however the number is dialled; import file parsing', () => {
  const p = new NumberPlan();
  const l = new FraudList(p);
  const { prefixes, rejected } = parseFraudFile('# known IRSF ranges\n+882 13\n0037167,note\n\n53\nabc\n', l);
  assert.deepEqual(prefixes, ['88213', '37167']);
  assert.deepEqual(rejected, [5, 6]);
  for (const x of prefixes) l.add(x);
  const m = (n: string) => l.match(n, p.classify(n, isExt).e164);
  assert.equal(m('+882134567'), '88213');
  assert.equal(m('00882134567'), '88213');
  assert.equal(m('011371671234'), '37167');
  assert.equal(m('+37168000000'), undefined);
});
