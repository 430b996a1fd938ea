// One call through a running Palisade with SIPp's call-expect-uac, and its
// final answer: what the call gate, the routes and the features decided.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSipp } from './sipp.js';
import type { PalisadeProcess } from './palisade-process.js';
import { sippCsv, type TestUser } from './users.js';

export interface CallResultOptions {
  /** the SIPp source address (127.0.0.1): several workers own different ones */
  from?: string;
  /** how long an answered call lasts before the caller's BYE (300 ms) */
  pauseMs?: number;
  /** SIPp's time limit in seconds (20) */
  timeoutS?: number;
}

/** one call from `caller` through `pal` to `to`: its final answer ('200' once answered and hung up after `pauseMs`; '403', '486', 'early-403'…) */
export async function callResult(pal: PalisadeProcess, caller: TestUser, to: string, name: string, dir: string, o: CallResultOptions = {}): Promise<string> {
  const csv = join(dir, `${name}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [to] }));
  const r = await runSipp({
    scenario: 'call-expect-uac',
    target: pal.target,
    inf: [csv],
    calls: 1,
    pauseMs: o.pauseMs ?? 300,
    timeoutS: o.timeoutS ?? 20,
    traceLogs: true,
    dir,
    extraArgs: ['-i', o.from ?? '127.0.0.1'],
  });
  const m = /call-result: (\S+)/.exec(r.logs);
  assert.ok(m, `${name}: no result\n${r.errors}${r.stdout.slice(-800)}`);
  return m[1]!;
}
