#!/usr/bin/env node
// CPU per UDP send with dgram's default address look-up (dns.lookup, which
// answers an IP literal a tick later) beside src/core/udp-lookup.ts's
// literalLookup (at once), as the SIP listener, the RTP relay, IAX2 and the
// worker link send: batches of 50 datagrams of 400 bytes per event-loop
// turn to an IP literal. Each kind sends from its own child process, so its
// CPU is the sender's alone (the receiver is this process), alternating,
// ROUNDS times.
//
//   npx tsc && node bench/udp-send-bench.mjs [--sends 300000] [--rounds 5]
import dgram from 'node:dgram';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SENDS = arg('sends', 300000);
const ROUNDS = arg('rounds', 5);
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]));
else await main();

async function child(kind, port) {
  const opts = { type: 'udp4' };
  if (kind === 'literal') opts.lookup = (await import('../dist/src/core/udp-lookup.js')).literalLookup;
  const tx = dgram.createSocket(opts);
  await new Promise((r) => tx.bind(0, '127.0.0.1', r));
  const buf = Buffer.alloc(400, 65);
  const c0 = process.cpuUsage();
  let sent = 0;
  await new Promise((done) => {
    const batch = () => {
      for (let i = 0; i < 50; i++) tx.send(buf, port, '127.0.0.1');
      sent += 50;
      if (sent < SENDS) setImmediate(batch);
      else setImmediate(done);
    };
    batch();
  });
  const c = process.cpuUsage(c0);
  process.send({ us: (c.user + c.system) / SENDS });
  tx.close();
}

async function main() {
  const sink = dgram.createSocket('udp4');
  await new Promise((r) => sink.bind(0, '127.0.0.1', r));
  const port = sink.address().port;
  const runs = { default: [], literal: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of ['default', 'literal']) {
      const p = fork(here, ['--child', kind, String(port)]);
      const us = await new Promise((res, rej) => {
        p.once('message', (m) => res(m.us));
        p.once('exit', (code) => code !== 0 && rej(new Error(`child ${kind} exited ${code}`)));
      });
      runs[kind].push(us);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const kind of ['default', 'literal']) {
    console.log(`${kind.padEnd(8)} ${median(runs[kind]).toFixed(2)} µs CPU per send (median of ${ROUNDS}: ${runs[kind].map((v) => v.toFixed(2)).join(', ')})`);
  }
  console.log(`saved: ${(median(runs.default) - median(runs.literal)).toFixed(2)} µs per send`);
  sink.close();
}
