// Dialplan pattern matching: 10,000 exact extensions plus 200 patterns and a
// catch-all in one context; lookups of exact numbers, of numbers only a
// pattern matches, and canMatchMore. Run after `npm run build`:
//   node bench/dialplan-match-bench.mjs [iterations]
// Asterisk 20's trie (pbx.c new_find_extension) is the figure to compare with.
import { cpus } from 'node:os';
import { PatternMatcher } from '../dist/src/dialplan/matcher.js';

const N = Number(process.argv[2] ?? 1_000_000);
const m = new PatternMatcher();
for (let i = 0; i < 10_000; i++) m.add(String(200000 + i * 7), i);
for (let p = 0; p < 200; p++) m.add(`_${3000 + p}XX`, -p);
m.add('_X.', -1000);

const exact = Array.from({ length: 1024 }, (_, i) => String(200000 + ((i * 37) % 10_000) * 7));
const patterned = Array.from({ length: 1024 }, (_, i) => String(300000 + ((i * 53) % 20000)));

function time(label, fn) {
  for (let i = 0; i < 100_000; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) sink += fn(i) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/lookup  (${(1e9 / ns / 1e6).toFixed(2)} M/s)  [${sink}]`);
}

console.log(`dialplan matcher: ${m.size} extensions, ${N} lookups each, ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
time('exact (10,000 in context)', (i) => m.match(exact[i & 1023]) !== undefined);
time('pattern fall-back (_NNNNXX, _X.)', (i) => m.match(patterned[i & 1023]) !== undefined);
time('canMatchMore(prefix)', (i) => m.canMatchMore(exact[i & 1023].slice(0, 4)));
