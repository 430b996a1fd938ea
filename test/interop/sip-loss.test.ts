// Calls through the B2BUA on a lossy network (issue 13: "retransmissions and
// in-dialog requests reach the right worker under load"), with one worker and
// with two. Inside a network namespace of our own (test/helpers/netns.ts),
// nftables drops LOSS % of the UDP packets to and from Palisade's SIP port at
// random, both ways (the kernel here has no netem; `numgen random` in an
// input hook loses packets the same way). Real peers: SIPp callers and
// callees (call-reinvited-uac / uas-reinvite-bye: INVITE with a challenge,
// 200, ACK, a re-INVITE from the callee's side, BYE from the callee's side).
// Every call must complete: each side retransmits (RFC 3261 §17, §13.3.1.4)
// and Palisade holds a re-INVITE for a phone until that phone has ACKed its
// 2xx (§14.1), which the phone whose 200 was lost would otherwise take for a
// stray INVITE. The loss is proven by the drop rules' counters and by SIPp's
// retransmission counters.
// SIPp's limits, not Palisade's, are kept out with -pause_msg_ign: a SIPp
// scenario in a <pause> or its final timewait takes a late retransmission
// (an INVITE resent while it holds its 200 back, an ACK for a resent 200)
// for an unexpected message and fails the call. The callee's scenario also
// absorbs an INVITE resent after its 200 left (the 100, 180 and 200 all
// lost), which SIPp would otherwise take for unexpected too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsSuite } from '../helpers/netns.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { ask, sippPhone } from '../helpers/office-phones.js';
import { runSipp, type SippProcess, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { workerAddresses } from '../helpers/worker-addresses.js';

const LOSS = 10;
const CALLS = 20;

function nft(...args: string[]): string {
  const r = spawnSync('nft', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `nft ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** drops `pct` % of the UDP packets to and from `port`, counting them */
function loseSip(port: number, pct: number): void {
  nft('add', 'table', 'inet', 'loss');
  nft('add', 'chain', 'inet', 'loss', 'in', '{ type filter hook input priority 0; }');
  for (const dir of ['dport', 'sport']) nft('add', 'rule', 'inet', 'loss', 'in', 'udp', dir, String(port), 'numgen', 'random', 'mod', '100', '<', String(pct), 'counter', 'drop');
}

/** packets dropped so far; removes the table */
function lost(): number {
  const text = nft('list', 'table', 'inet', 'loss');
  nft('delete', 'table', 'inet', 'loss');
  return [...text.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const EXTRA = [
  'registrar:\n  qualify_interval: 0',
  'fraud:\n  defaults: { max_calls: 0, calls_per_minute: 0, max_outbound_calls: 10000 }',
  'security:\n  reputation: { short_call_burst: 10000 }',
].join('\n');

netnsSuite(
  import.meta.url,
  'calls through the B2BUA with SIP packets lost',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sip-loss-'));
    const users = makeUsers(4, { first: 3300 });
    const phones: SippProcess[] = [];
    let pal: PalisadeProcess | null = null;
    after(async () => {
      for (const p of phones) await p.stop();
      await pal?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function run(workers: number): Promise<void> {
      // addresses apart from the other run's, whose out-of-dialog traffic worker `w` owns
      const addressesOf = (w: number, n: number): string[] => workerAddresses(w, n, workers, 10 + 20 * workers);
      await pal?.stop();
      pal = await startPalisade({ users, workers: workers > 1 ? workers : undefined, transports: ['udp'], extraYaml: EXTRA });
      const [w0a, w0b] = addressesOf(0, 2);
      const [w1a, w1b] = addressesOf(workers - 1, 2);
      // callees registered through worker 0 and through the last worker, before the loss starts
      for (const [u, a] of [
        [0, w0a],
        [1, w1a],
      ] as const) {
        phones.push(await sippPhone(pal, dir, users[u]!, 'uas-reinvite-bye', 60, { address: a!, extraArgs: ['-d', '300', '-pause_msg_ign'] }));
      }
      // every call of these phones is traced, so a call that fails can be shown as a ladder (below)
      for (const u of users) await ask(pal, 'trace-extension', { extension: u.number, on: true });
      loseSip(pal.sipPort, LOSS);
      // each caller on the other worker's address calls the phone of the first
      const caller = (user: number, callee: string, from: string): Promise<SippResult> => {
        const csv = join(dir, `caller-${workers}-${user}.csv`);
        writeFileSync(csv, sippCsv([users[user]!], { peers: [callee] }));
        return runSipp({
          scenario: 'call-reinvited-uac',
          target: pal!.target,
          inf: [csv],
          calls: CALLS,
          rate: 10,
          pauseMs: 300,
          timeoutS: 40,
          dir,
          extraArgs: ['-i', from, '-l', '20', '-pause_msg_ign', '-recv_timeout', '30000', '-timeout', '35s'],
        });
      };
      const rs = await Promise.all([caller(2, users[0]!.number, w1b!), caller(3, users[1]!.number, w0b!)]);
      // every call's CDR was written: with two workers each counting its own
      // sequence, uniqueids once collided and the second insert was refused
      const refused = pal.lines.filter((l) => l.includes('cdr-insert-failed'));
      assert.deepEqual(refused, [], 'CDR inserts refused');
      const dropped = lost();
      const callees: SippResult[] = [];
      for (const ph of phones.splice(0)) callees.push(await ph.stop());
      const retrans = rs.reduce((n, r) => n + (r.stats?.retransmissions ?? 0), 0);
      process.stdout.write(
        `# ${workers} worker(s), ${LOSS} % loss: ${dropped} SIP packets dropped, callers' retransmissions ${retrans}, ${JSON.stringify(rs.map((r) => r.stats))}\n`,
      );
      assert.ok(dropped > 2 * CALLS, `packets were lost: ${dropped}`);
      assert.ok(retrans > 0, 'the callers retransmitted');
      // Every call completes but, at most, one of the 2 x CALLS: a caller's
      // INVITE and its retransmissions within its 30 s can all be lost, or
      // each 407 to them (about one call in 20,000 at 10 %: loss, not a defect;
      // docs/operations.md, "Lost packets"). Before the re-INVITE fix, 8 of 80
      // calls failed; before uas-reinvite-bye.xml absorbed a retransmitted
      // INVITE, about one in 1,000.
      const failed = rs.reduce((n, r) => n + CALLS - (r.stats?.successful ?? 0), 0);
      const aborted = rs.flatMap((r) => r.errors.split('\n').filter((l) => l.includes('Aborting') || l.includes('receive timeout')));
      if (failed > 0) {
        // a call still running when SIPp's -timeout ended it has no error line: its counts say so
        const why = aborted.length ? aborted.join(' | ').slice(0, 1500) : `no error line; ${JSON.stringify(rs.map((r) => r.stats))}`;
        process.stdout.write(`# ${failed} call(s) failed: ${why}\n`);
        // what Palisade saw of each failed call (`trace` asks every worker)
        for (const id of new Set(aborted.map((l) => /Call-Id:? '?([^\s',]+)/i.exec(l)?.[1]).filter((x): x is string => x !== undefined))) {
          const ladder = await ask(pal, 'trace', { call: id }).then(
            (t) => (t as { text: string }).text,
            (err: Error) => err.message,
          );
          process.stdout.write(`# trace of ${id}:\n${ladder.replace(/^/gm, '#   ')}\n`);
        }
        // and what the called phones saw go wrong, if anything
        for (const [i, c] of callees.entries()) {
          const errs = c.errors.trim();
          if (errs) process.stdout.write(`# callee ${i} errors:\n${errs.slice(-1500).replace(/^/gm, '#   ')}\n`);
        }
      }
      assert.ok(failed <= 1, `${failed} of ${2 * CALLS} calls failed: ${JSON.stringify(rs.map((r) => r.stats))}\n${aborted.join('\n').slice(0, 3000)}`);
      for (const r of rs) assert.equal(r.stats?.created, CALLS, 'every call was placed');
      await pal.stop();
      pal = null;
    }

    test('one worker: every call completes', { timeout: 60_000 }, () => run(1));
    test('two workers: every call completes', { timeout: 60_000 }, () => run(2));
  },
  150_000,
);
