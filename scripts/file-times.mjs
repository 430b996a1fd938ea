// A test reporter (node --test --test-reporter=./scripts/file-times.mjs):
// after the run, the test files that took longest, each with the wall time
// of its own entry, from dequeue to complete (its before/after hooks
// included: files run one at a time) — where the test line's minutes go.
const SHOWN = 20;

export default async function* fileTimes(source) {
  const seen = new Map();
  for await (const ev of source) {
    const file = ev.data?.file;
    // only the file's own entry (named by its path): a test declared through a helper carries the
    // helper's path, and every file is enqueued at the start; its own time runs from dequeue to complete
    if (!file || ev.data.name !== file || ev.type === 'test:enqueue') continue;
    const now = Date.now();
    const t = seen.get(file);
    if (t) t.last = now;
    else seen.set(file, { first: now, last: now });
  }
  const rows = [...seen].map(([file, t]) => [file.replace(/^.*?\/dist\//, ''), (t.last - t.first) / 1000]).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, r) => s + r[1], 0);
  yield `\n# slowest test files (wall seconds; ${rows.length} files, ${total.toFixed(0)} s in all)\n`;
  for (const [file, s] of rows.slice(0, SHOWN)) yield `#   ${s.toFixed(1).padStart(6)}  ${file}\n`;
}
