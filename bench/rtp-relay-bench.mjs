#!/usr/bin/env node
// RTP relay throughput: N relayed G.711 calls over loopback for S seconds.
// Each call sends 20 ms packets of 172 bytes (12 RTP header + 160 µ-law) in
// both directions, so the relay forwards 100 packets/s per call.
// The relay runs in its own process so its CPU% is its own; this process
// plays all the phones. Also measures session set-up/tear-down rate with
// and without the socket pool.
//
//   npx tsc && node bench/rtp-relay-bench.mjs [--streams 500] [--seconds 10] [--ports 30000-39999]
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const STREAMS = Number(arg('streams', '500'));
const SECONDS = Number(arg('seconds', '10'));
const [PORT_MIN, PORT_MAX] = arg('ports', '30000-39999').split('-').map(Number);
const LO = '127.0.0.1';
const PACKET = 172;
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--relay-child') await relayChild();
else await main();

async function relayChild() {
  const { RtpRelay } = await import('../dist/src/media/rtp/rtp-relay.js');
  const send = (m) => process.send(m);

  // Session churn: create (4 sockets) + close, pooled vs. bind every time.
  const churn = {};
  for (const [label, poolMax] of [
    ['bind each time', 0],
    ['pooled', undefined],
  ]) {
    const relay = new RtpRelay({ address: LO, portMin: PORT_MIN, portMax: PORT_MAX, socketPoolMax: poolMax });
    const warm = [];
    for (let i = 0; i < 1000; i++) warm.push(relay.createSession());
    await Promise.allSettled(warm.map((s) => s.ready));
    for (const s of warm) s.close();
    const rounds = 20000;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i += 100) {
      const batch = [];
      for (let j = 0; j < 100; j++) batch.push(relay.createSession());
      // a port held by another program fails its session; the relay retires that pair
      await Promise.allSettled(batch.map((s) => s.ready));
      for (const s of batch) s.close();
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    churn[label] = {
      sessionsPerSecond: Math.round(rounds / wall),
      cpuMicrosPerSession: +((cpu.user + cpu.system) / rounds).toFixed(1),
      binds: relay.stats().binds,
      poolHits: relay.stats().poolHits,
      retiredPorts: relay.stats().retiredPorts,
    };
    await relay.close();
  }
  send({ type: 'churn', churn });

  const relay = new RtpRelay({ address: LO, portMin: PORT_MIN, portMax: PORT_MAX, udpRecvBuffer: 1 << 20 });
  const sessions = [];
  while (sessions.length < STREAMS) {
    const batch = [];
    for (let i = sessions.length; i < STREAMS; i++) batch.push(relay.createSession());
    const settled = await Promise.allSettled(batch.map((s) => s.ready));
    for (const [i, r] of settled.entries()) {
      if (r.status === 'fulfilled') sessions.push(batch[i]);
      else batch[i].close();
    }
  }
  send({ type: 'ports', ports: sessions.map((s) => [s.legs.a.port, s.legs.b.port]) });

  let c0;
  let t0;
  process.on('message', (m) => {
    if (m.type === 'remotes') {
      m.remotes.forEach(([a, b], i) => {
        sessions[i].setRemote('a', { address: LO, port: a });
        sessions[i].setRemote('b', { address: LO, port: b });
      });
      send({ type: 'ready' });
    } else if (m.type === 'start') {
      c0 = process.cpuUsage();
      t0 = process.hrtime.bigint();
    } else if (m.type === 'stop') {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(c0);
      let forwarded = 0;
      let dropped = 0;
      for (const s of sessions) {
        for (const leg of [s.legs.a, s.legs.b]) {
          const st = leg.stats();
          forwarded += st.rtp.packetsOut;
          dropped += st.rtp.dropped + st.rtp.noTarget;
        }
      }
      send({
        type: 'result',
        cpuPercent: (100 * (cpu.user + cpu.system)) / 1e6 / wall,
        forwarded,
        dropped,
        rssMB: process.memoryUsage().rss / 1048576,
      });
      relay.close().then(() => process.exit(0));
    }
  });
}

async function main() {
  const child = fork(here, ['--relay-child', ...process.argv.slice(2)], { stdio: 'inherit' });
  const next = (type) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type === type) {
          child.off('message', on);
          resolve(m);
        }
      };
      child.on('message', on);
    });

  const { churn } = await next('churn');
  const { ports } = await next('ports');

  // Two phones per call, each a socket that sends to its relay leg.
  let received = 0;
  let corrupt = 0;
  const phones = [];
  const bind = () =>
    new Promise((r) => {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      s.on('message', (msg) => {
        received++;
        if (msg.length !== PACKET) corrupt++;
      });
      s.bind(0, LO, () => r(s));
    });
  for (let i = 0; i < STREAMS; i++) phones.push([await bind(), await bind()]);
  child.send({ type: 'remotes', remotes: phones.map(([a, b]) => [a.address().port, b.address().port]) });
  await next('ready');

  const payload = Buffer.alloc(PACKET, 0xff);
  payload[0] = 0x80;
  let sent = 0;
  let seq = 0;
  child.send({ type: 'start' });
  const started = Date.now();
  await new Promise((resolve) => {
    // Pace by the clock, not by timer count, so a late tick sends what is due.
    const due = () => Math.floor((Date.now() - started) / 20);
    let ticks = 0;
    const timer = setInterval(() => {
      const target = Math.min(due(), SECONDS * 50);
      while (ticks < target) {
        ticks++;
        payload.writeUInt16BE(seq++ & 0xffff, 2);
        for (let i = 0; i < STREAMS; i++) {
          phones[i][0].send(payload, ports[i][0], LO);
          phones[i][1].send(payload, ports[i][1], LO);
          sent += 2;
        }
      }
      if (ticks >= SECONDS * 50) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await new Promise((r) => setTimeout(r, 500)); // let the last packets land
  child.send({ type: 'stop' });
  const result = await next('result');
  for (const [a, b] of phones) {
    a.close();
    b.close();
  }

  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown'} x${cpus.length}, ${os.platform()} ${os.release()}, node ${process.version}`);
  console.log(`streams: ${STREAMS} calls (${STREAMS * 2} directions), ${SECONDS} s, ${PACKET}-byte packets every 20 ms`);
  console.log(`offered: ${(sent / SECONDS).toFixed(0)} packets/s into the relay`);
  console.log(`relayed: ${(result.forwarded / SECONDS).toFixed(0)} packets/s out of the relay`);
  console.log(`received by phones: ${received} of ${sent}; loss ${(((sent - received) / sent) * 100).toFixed(3)}%; wrong size ${corrupt}; relay dropped ${result.dropped}`);
  console.log(`relay process CPU: ${result.cpuPercent.toFixed(1)}% of one core; RSS ${result.rssMB.toFixed(0)} MB`);
  console.log('session set-up + tear-down (4 sockets each):');
  for (const [label, c] of Object.entries(churn)) {
    console.log(
      `  ${label.padEnd(15)} ${String(c.sessionsPerSecond).padStart(7)} sessions/s  ${c.cpuMicrosPerSession} µs CPU/session  (binds ${c.binds}, pool hits ${c.poolHits}, pairs retired as busy elsewhere ${c.retiredPorts})`,
    );
  }
  console.log('peer figure: none measured here (no rtpengine on this machine).');
}
