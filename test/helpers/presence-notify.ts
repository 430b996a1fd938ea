// What a SIPp presence watcher (test/sipp/presence-watch.xml, -trace_msg)
// was told: the PIDF bodies of its NOTIFYs.
import { existsSync, readFileSync } from 'node:fs';

/** the PIDF bodies of the presence NOTIFYs in a SIPp message file, in order */
export function pidfs(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/-{10,}[^\n]*\n/)
    .filter((b) => /^\s*NOTIFY /m.test(b) && /Event: presence/i.test(b))
    .map((b) => b.slice(b.indexOf('<?xml')))
    .filter((b) => b.startsWith('<?xml'));
}
