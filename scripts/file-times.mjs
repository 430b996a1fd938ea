// A test reporter (node --test --test-reporter=./scripts/file-times.mjs):
// after the run, the test files that took longest, each with the wall time
// of its own entry, from dequeue to complete (its before/after hooks
// included: files run one at a time) — where the test line's minutes go.
const SHOWN = 20;

export default async function* fileTimes(source) {
  const seen = new Map();
  let shown = false;
  for await (const ev of source) {
    // the run's own plan comes after every file's events and before its totals; the table goes out
    // then, as the runner may exit (--test-force-exit) before this stream ends
    if (!shown && ev.type === 'test:plan' && ev.data.nesting === 0 && !ev.data.file) {
      shown = true;
      yield table(seen);
    }
    const file = ev.data?.file;
    // only the file's own entry (named by its path): a test declared through a helper carries the
    // helper's path, and every file is enqueued at the start; its own time runs from dequeue to complete
    if (!file || ev.data.name !== file || ev.type === 'test:enqueue') continue;
    const now = Date.now();
    const t = seen.get(file);
    if (t) t.last = now;
    else seen.set(file, { first: now, last: now });
  }
  if (!shown) yield table(seen);
}

function table(seen) {
  const rows = [...seen].map(([file, t]) => [file.replace(/^.*?\/dist\//, ''), (t.last - t.first) / 1000]).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, r) => s + r[1], 0);
  let out = `\n# slowest test files (wall seconds; ${rows.length} files, ${total.toFixed(0)} s in all)\n`;
  for (const [file, s] of rows.slice(0, SHOWN)) out += `#   ${s.toFixed(1).padStart(6)}  ${file}\n`;
  return out;
}
