#!/usr/bin/env node
// Cost of per-stream quality accounting on the RTP relay (src/media/quality):
// N relayed G.711 calls, 20 ms packets with running sequence numbers and
// timestamps in both directions, measured in alternating phases with the
// accounting off and on in the same relay process, same run. Prints the
// relay's CPU per relayed packet for each and the difference.
//
//   npm run build && node bench/quality-bench.mjs [--streams 200] [--seconds 5] [--rounds 3] [--ports 32000-33999]
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const STREAMS = Number(arg('streams', '200'));
const SECONDS = Number(arg('seconds', '5'));
const ROUNDS = Number(arg('rounds', '3'));
const [PORT_MIN, PORT_MAX] = arg('ports', '32000-33999').split('-').map(Number);
const LO = '127.0.0.1';
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--relay-child') await relayChild();
else await main();

async function relayChild() {
  const { RtpRelay } = await import('../dist/src/media/rtp/rtp-relay.js');
  const send = (m) => process.send(m);
  const relay = new RtpRelay({ address: LO, portMin: PORT_MIN, portMax: PORT_MAX, udpRecvBuffer: 1 << 20 });
  const sessions = [];
  for (let i = 0; i < STREAMS; i++) sessions.push(relay.createSession());
  await Promise.all(sessions.map((s) => s.ready));
  const legs = sessions.flatMap((s) => [s.legs.a, s.legs.b]);
  const packetsIn = () => legs.reduce((n, l) => n + l.rtp.packetsIn, 0);
  send({ type: 'ports', ports: sessions.map((s) => [s.legs.a.port, s.legs.b.port]) });
  let c0;
  let p0;
  process.on('message', (m) => {
    if (m.type === 'remotes') {
      m.remotes.forEach(([a, b], i) => {
        sessions[i].setRemote('a', { address: LO, port: a });
        sessions[i].setRemote('b', { address: LO, port: b });
      });
      send({ type: 'ready' });
    } else if (m.type === 'phase') {
      // the switch RtpRelayOptions.qualityAccounting sets at session creation, flipped in place
      for (const l of legs) {
        l.rtp.quality = m.accounting ? l.quality : null;
        l.rtcp.quality = m.accounting ? l.quality : null;
      }
      c0 = process.cpuUsage();
      p0 = packetsIn();
      send({ type: 'phase-started' });
    } else if (m.type === 'phase-end') {
      const cpu = process.cpuUsage(c0);
      send({ type: 'phase-result', cpuMicros: cpu.user + cpu.system, packets: packetsIn() - p0 });
    } else if (m.type === 'stop') {
      const q = legs[0].quality.snapshot();
      send({ type: 'sample', sample: { packets: q.packets, lost: q.lost, jitterMeanMs: q.jitterMeanMs, maxDeltaMs: q.maxDeltaMs } });
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
  const { ports } = await next('ports');
  const phones = [];
  const bind = () =>
    new Promise((r) => {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      s.on('message', () => undefined);
      s.bind(0, LO, () => r(s));
    });
  for (let i = 0; i < STREAMS; i++) phones.push([await bind(), await bind()]);
  child.send({ type: 'remotes', remotes: phones.map(([a, b]) => [a.address().port, b.address().port]) });
  await next('ready');

  const payload = Buffer.alloc(172, 0xd5);
  payload[0] = 0x80;
  payload[1] = 8;
  payload.writeUInt32BE(0x5a17ade5, 8);
  let seq = 0;
  let ts = 0;
  const phase = async (accounting) => {
    child.send({ type: 'phase', accounting });
    await next('phase-started');
    const started = Date.now();
    let ticks = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const target = Math.min(Math.floor((Date.now() - started) / 20), SECONDS * 50);
        while (ticks < target) {
          ticks++;
          payload.writeUInt16BE(seq++ & 0xffff, 2);
          payload.writeUInt32BE((ts += 160) >>> 0, 4);
          for (let i = 0; i < STREAMS; i++) {
            phones[i][0].send(payload, ports[i][0], LO);
            phones[i][1].send(payload, ports[i][1], LO);
          }
        }
        if (ticks >= SECONDS * 50) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => setTimeout(r, 300));
    child.send({ type: 'phase-end' });
    return next('phase-result');
  };
  const total = { off: { cpu: 0, packets: 0 }, on: { cpu: 0, packets: 0 } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const accounting of [false, true]) {
      const res = await phase(accounting);
      const t = total[accounting ? 'on' : 'off'];
      t.cpu += res.cpuMicros;
      t.packets += res.packets;
    }
  }
  child.send({ type: 'stop' });
  const { sample } = await next('sample');
  for (const [a, b] of phones) {
    a.close();
    b.close();
  }
  const per = (t) => t.cpu / t.packets;
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown'} x${cpus.length}, ${os.platform()} ${os.release()}, node ${process.version}`);
  console.log(`streams: ${STREAMS} calls (${STREAMS * 2} directions), ${ROUNDS} rounds of ${SECONDS} s off + ${SECONDS} s on, 172-byte PCMA packets every 20 ms`);
  console.log(`accounting off: ${per(total.off).toFixed(3)} µs CPU per relayed packet (${total.off.packets} packets)`);
  console.log(`accounting on:  ${per(total.on).toFixed(3)} µs CPU per relayed packet (${total.on.packets} packets)`);
  console.log(`difference: ${(((per(total.on) - per(total.off)) / per(total.off)) * 100).toFixed(1)} % (target: under 5 %)`);
  console.log(`one stream's figures (counted in the 'on' phases only, so the 'off' phases read as lost packets and one long delta): ${JSON.stringify(sample)}`);
  console.log('peer figure: none measured here (no rtpengine on this machine).');
}
