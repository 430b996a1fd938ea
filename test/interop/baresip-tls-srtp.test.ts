// Interop proof for SIP over TLS with mandatory SRTP (SDES): two baresip
// phones register to Palisade over TLS (trusting Palisade's self-signed
// certificate), call each other with mediaenc=srtp-mand, and hear each
// other's tone; tshark on loopback sees only ciphertext on every RTP leg
// (decoded as PCMU the payload carries no tone, and its bytes are near
// 8 bits/byte of entropy). Both extensions have `encryption: required`, so a
// third phone calling over UDP with plain RTP is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCapture, stopCapture } from '../helpers/tshark.js';
import { Baresip, findFreePort, rtpPortRange, type TracedSipMessage } from '../helpers/baresip.js';
import { analyseWav, goertzelPower, makeToneWav, readWav } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { ensureSelfSignedCert } from '../../src/transport/self-signed-cert.js';

const TONE_CALLER = 440;
const TONE_CALLEE = 1000;
// phone RTP ranges in port blocks this process holds, so a test file
// running beside this one neither binds nor is captured in them
const CALLER_RTP = rtpPortRange();
const CALLEE_RTP = rtpPortRange();
const PLAIN_RTP = rtpPortRange();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** the RTP port ranges this test's calls use */
const CAPTURE_FILTER = `udp and (portrange ${CALLER_RTP[0]}-${CALLER_RTP[1]} or portrange ${CALLEE_RTP[0]}-${CALLEE_RTP[1]})`;

/** UDP payloads in the capture, grouped by "srcport>dstport" */
function udpPayloads(pcap: string): Promise<Map<string, Buffer[]>> {
  return new Promise((res, rej) => {
    const proc = spawn('tshark', ['-r', pcap, '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.payload'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return rej(new Error(`tshark -r exited with ${code}`));
      const flows = new Map<string, Buffer[]>();
      for (const line of out.split('\n')) {
        const [src, dst, hex] = line.split('\t');
        if (!hex) continue;
        const key = `${src}>${dst}`;
        if (!flows.has(key)) flows.set(key, []);
        flows.get(key)!.push(Buffer.from(hex.replace(/:/g, ''), 'hex'));
      }
      res(flows);
    });
  });
}

/** G.711 µ-law to linear (ITU-T G.711), scaled to -1..1 */
function ulawToFloat(b: number): number {
  const u = ~b & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (sign ? -magnitude : magnitude) / 32768;
}

/** share of the signal's power at freqHz (a pure tone gives ~0.5, noise ~1/N) */
function toneShare(samples: Float64Array, freqHz: number): number {
  let total = 0;
  for (const s of samples) total += s * s;
  const mean = total / samples.length;
  return mean > 0 ? goertzelPower(samples, 0, samples.length, freqHz, 8000) / mean : 0;
}

function entropyBitsPerByte(chunks: Buffer[]): number {
  const counts = new Array<number>(256).fill(0);
  let n = 0;
  for (const c of chunks) for (const b of c) counts[b]++, n++;
  let h = 0;
  for (const k of counts) if (k > 0) h -= (k / n) * Math.log2(k / n);
  return h;
}

const isInviteResponse = (m: TracedSipMessage): boolean => m.startLine.startsWith('SIP/2.0 ') && m.headers.some((h) => /^cseq:\s*\d+\s+INVITE\s*$/i.test(h));

test('baresip over TLS with mandatory SRTP: tones cross Palisade both ways, the wire carries only ciphertext', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-tls-srtp-'));
  const cert = await ensureSelfSignedCert(dir, ['127.0.0.1', 'localhost']);
  const [tlsPort] = await freeLocalPorts(1);
  const secrets = {
    '1001': generateSecret({ extension: '1001', name: 'Alice' }),
    '1002': generateSecret({ extension: '1002', name: 'Bob' }),
    '1003': generateSecret({ extension: '1003', name: 'Carol' }),
  };
  makeToneWav(join(dir, 'caller.wav'), TONE_CALLER, 60);
  makeToneWav(join(dir, 'callee.wav'), TONE_CALLEE, 60);
  let palisade: PalisadeProcess | undefined;
  const phones: Baresip[] = [];
  let tshark: ChildProcess | undefined;
  let passed = false;
  try {
    palisade = await startPalisade({
      extraListen: [`tls:127.0.0.1:${tlsPort}`],
      extraYaml: [
        'tls:',
        `  cert: ${cert.cert}`,
        `  key: ${cert.key}`,
        '  min_version: TLSv1.2',
        'extensions:',
        `  - { number: "1001", name: Alice, secret: "${secrets['1001']}", context: internal, encryption: required }`,
        `  - { number: "1002", name: Bob, secret: "${secrets['1002']}", context: internal, encryption: required }`,
        `  - { number: "1003", name: Carol, secret: "${secrets['1003']}", context: internal }`,
      ].join('\n'),
    });
    const tlsServer = `127.0.0.1:${tlsPort}`;
    const mk = async (name: string, user: '1001' | '1002', audio: string, rtp: [number, number]) =>
      new Baresip({
        name,
        baseDir: dir,
        user,
        domain: tlsServer,
        password: secrets[user],
        regint: 600,
        transport: 'tls',
        mediaenc: 'srtp-mand',
        tlsCaFile: cert.cert,
        sipPort: await findFreePort(2),
        ctrlPort: await findFreePort(1, 39000, 39999),
        audioSource: audio,
        rtpPorts: rtp,
        answerMode: 'auto',
        sipTrace: true,
      });
    const caller = await mk('caller', '1001', join(dir, 'caller.wav'), CALLER_RTP);
    const callee = await mk('callee', '1002', join(dir, 'callee.wav'), CALLEE_RTP);
    phones.push(caller, callee);
    await caller.start();
    await callee.start();
    await caller.waitRegistered(8000);
    await callee.waitRegistered(8000);
    const regs = caller.sipTrace().filter((m) => m.startLine.startsWith('REGISTER '));
    assert.ok(regs.length > 0 && regs.every((m) => m.transport === 'TLS'), 'REGISTER went over TLS');

    const pcap = join(dir, 'call.pcap');
    tshark = await startCapture(pcap, CAPTURE_FILTER);
    await caller.dial(`sip:1002@${tlsServer};transport=tls`);
    await callee.waitEvent('CALL_ESTABLISHED', 10_000);
    await caller.waitEvent('CALL_ESTABLISHED', 10_000);
    await sleep(4000);
    await caller.hangup();
    await caller.waitEvent('CALL_CLOSED', 5000);
    await callee.waitEvent('CALL_CLOSED', 5000);
    await stopCapture(tshark);
    tshark = undefined;

    // Audio crossed both ways, decrypted by each phone with the key Palisade gave it.
    const heardByCallee = analyseWav(callee.recordings().dec[0]!);
    const heardByCaller = analyseWav(caller.recordings().dec[0]!);
    t.diagnostic(`callee heard ${heardByCallee.dominantHz} Hz for ${heardByCallee.activeSec} s; caller heard ${heardByCaller.dominantHz} Hz for ${heardByCaller.activeSec} s`);
    assert.ok(heardByCallee.activeSec >= 3, `callee heard ${heardByCallee.activeSec}s`);
    assert.ok(heardByCaller.activeSec >= 3, `caller heard ${heardByCaller.activeSec}s`);
    assert.ok(Math.abs(heardByCallee.dominantHz - TONE_CALLER) <= 10, `callee heard ${heardByCallee.dominantHz} Hz`);
    assert.ok(Math.abs(heardByCaller.dominantHz - TONE_CALLEE) <= 10, `caller heard ${heardByCaller.dominantHz} Hz`);
    // positive control for the detector: the decoded audio is the tone
    const dec = readWav(callee.recordings().dec[0]!);
    const mid = dec.samples.subarray(Math.floor(dec.samples.length / 2), Math.floor(dec.samples.length / 2) + 8000);
    const plainShare = toneShare(mid, TONE_CALLER);
    assert.ok(plainShare > 0.3, `the detector finds the tone in decoded audio (share ${plainShare.toFixed(3)})`);

    // SDP: SRTP both ways, and each phone got a key of Palisade's, not the other phone's.
    const cryptoIn = (phone: Baresip, pick: (m: TracedSipMessage) => boolean, incoming: boolean) =>
      phone
        .sipTrace()
        .filter((m) => pick(m) && (incoming ? m.src === tlsServer : m.dst === tlsServer))
        .flatMap((m) => m.sdp.filter((l) => l.startsWith('a=crypto:')));
    const callerSent = cryptoIn(caller, (m) => m.startLine.startsWith('INVITE '), false);
    const calleeGot = cryptoIn(callee, (m) => m.startLine.startsWith('INVITE '), true);
    const calleeSent = cryptoIn(callee, isInviteResponse, false);
    const callerGot = cryptoIn(caller, isInviteResponse, true);
    assert.ok(callerSent.length > 0 && calleeGot.length > 0 && calleeSent.length > 0 && callerGot.length > 0, 'a=crypto on every leg');
    const keys = (ls: string[]) => new Set(ls.map((l) => /inline:([^|\s]+)/.exec(l)?.[1]));
    for (const k of keys(calleeGot)) assert.ok(!keys(callerSent).has(k), "the callee never sees the caller's key");
    for (const k of keys(callerGot)) assert.ok(!keys(calleeSent).has(k), "the caller never sees the callee's key");
    // RFC 5626-style reuse: the INVITE reached the callee over TLS on the
    // connection the callee opened to Palisade's listening port
    const calleeInvites = callee.sipTrace().filter((m) => m.startLine.startsWith('INVITE '));
    assert.ok(
      calleeInvites.length > 0 && calleeInvites.every((m) => m.transport === 'TLS' && m.src === tlsServer),
      `callee INVITEs: ${calleeInvites.map((m) => `${m.transport} ${m.src}`).join(', ')}`,
    );
    const savp = callee
      .sipTrace()
      .filter((m) => m.startLine.startsWith('INVITE '))
      .flatMap((m) => m.sdp.filter((l) => l.startsWith('m=audio')));
    assert.ok(savp.length > 0 && savp.every((l) => / RTP\/SAVP /.test(l)), `offer to the callee: ${savp.join(' | ')}`);

    // The wire: every RTP flow to or from a phone is ciphertext.
    const flows = await udpPayloads(pcap);
    const rtpFlows = [...flows.entries()].filter(([, pk]) => pk.length >= 100 && pk.every((p) => p.length >= 12 && p[0]! >> 6 === 2 && (p[1]! & 0x7f) === 0));
    const describe = rtpFlows.map(([k, pk]) => `${k}:${pk.length}`).join(' ');
    t.diagnostic(`RTP flows (PCMU, >= 100 packets): ${describe}`);
    assert.ok(rtpFlows.length >= 4, `caller→relay, relay→callee, callee→relay, relay→caller: ${describe}`);
    for (const [key, pk] of rtpFlows) {
      // payload type 0 with an 80-bit tag: 12 + 160 + 10 bytes
      assert.ok(
        pk.every((p) => p.length === 182),
        `${key}: SRTP packets carry a 10-byte tag (lengths ${[...new Set(pk.map((p) => p.length))].join(',')})`,
      );
      const payload = pk.map((p) => p.subarray(12, 172));
      const samples = Float64Array.from(payload.flatMap((p) => [...p].map(ulawToFloat)));
      const share = Math.max(toneShare(samples, TONE_CALLER), toneShare(samples, TONE_CALLEE));
      const h = entropyBitsPerByte(payload);
      t.diagnostic(`${key}: tone share decoded as PCMU ${share.toExponential(2)}, entropy ${h.toFixed(3)} bits/byte`);
      assert.ok(share < 0.01, `${key}: payload decoded as PCMU has no tone (share ${share})`);
      assert.ok(h > 7.9, `${key}: payload entropy ${h} bits/byte`);
    }

    // A phone on UDP with plain RTP cannot call an extension that requires encryption.
    const plain = new Baresip({
      name: 'plain',
      baseDir: dir,
      user: '1003',
      domain: `127.0.0.1:${palisade.sipPort}`,
      password: secrets['1003'],
      regint: 600,
      sipPort: await findFreePort(2),
      ctrlPort: await findFreePort(1, 39000, 39999),
      audioSource: join(dir, 'caller.wav'),
      rtpPorts: PLAIN_RTP,
      sipTrace: true,
    });
    phones.push(plain);
    await plain.start();
    await plain.waitRegistered(8000);
    await plain.dial(`sip:1002@127.0.0.1:${palisade.sipPort}`);
    await plain.waitEvent('CALL_CLOSED', 10_000);
    const answer = plain.sipTrace().find((m) => isInviteResponse(m) && /^SIP\/2\.0 (403|488) /.test(m.startLine));
    assert.ok(
      answer,
      `the plain call was refused with 403/488: ${plain
        .sipTrace()
        .filter(isInviteResponse)
        .map((m) => m.startLine)
        .join(', ')}`,
    );
    const ev = await palisade.waitForEvent((e) => e.event === 'encryption-required', 3000);
    assert.equal(ev.callee, '1002');
    // and it is a RequestNotAllowed security event in the security log
    const seclog = join(palisade.dir, 'var', 'security.log');
    let text = '';
    for (let i = 0; i < 30 && !/RequestNotAllowed.*requires encryption/.test(text); i++) {
      await sleep(100);
      text = existsSync(seclog) ? readFileSync(seclog, 'utf8') : '';
    }
    assert.match(text, /RequestNotAllowed.*1003.*requires encryption|RequestNotAllowed.*requires encryption.*1003/, `security log:\n${text.slice(-1000)}`);
    // no key ever reaches the log
    const log = palisade.lines.join('\n');
    for (const k of [...keys(callerSent), ...keys(calleeSent), ...keys(calleeGot), ...keys(callerGot)]) assert.ok(k && !log.includes(k), 'SRTP key in the log');
    passed = true;
  } finally {
    if (tshark) await stopCapture(tshark);
    for (const p of phones) await p.stop();
    if (palisade) await palisade.stop();
    if (passed) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`TLS/SRTP test artefacts kept in ${dir}\n`);
  }
});
