// Fuzzing the running Palisade server over the wire: deterministic seeded
// mutations of the RFC 4475 messages and of realistic REGISTER / INVITE /
// OPTIONS requests, over UDP (thousands, at a bounded rate) and TCP (a few
// hundred: whole, split into small writes, pipelined, and plain garbage).
// Afterwards the process must be alive, answer OPTIONS with 200 within a
// second, challenge a REGISTER, and its status must count the malformed
// input. The torture messages name 192.0.2.x hosts, so this file only runs
// inside a loopback-only namespace. Figures (400 / other / no answer) are
// printed as test diagnostics.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSuite } from '../helpers/netns.js';
import { parseMessage } from '../../src/sip-message/parser.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers } from '../helpers/users.js';
import { UdpProbe, TcpProbe, optionsRequest, palisadeStatus, parseResponse, pidAlive, registerRequest, tortureMessages, udpSendError } from '../helpers/sip-probe.js';

const SEED = 0x4475f022;
const UDP_MUTATIONS = 6000;
const TCP_MUTATIONS = 400;
/** upper bound on the offered rate (datagrams per second) */
const MAX_RATE = 2500;
const UDP_SOCKETS = 64;
/** how long one socket waits for an answer before sending its next mutation */
const ANSWER_WAIT_MS = 60;

/** mulberry32: small, fast, deterministic */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function withLength(head: string, body = ''): string {
  return head.replace('Content-Length: 0', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`) + body;
}

/** Requests in the shape phones send them, addressed to the server under test. */
function realisticSeeds(user: string): Buffer[] {
  const via = 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-real;rport';
  const sdp = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 40000 RTP/AVP 0 8 101',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
  const common = (method: string, cseq: number, to: string, extra: string[]) =>
    [
      `${method} ${to} SIP/2.0`,
      via,
      'Max-Forwards: 70',
      `From: "Ext ${user}" <sip:${user}@127.0.0.1>;tag=real-tag`,
      `To: <${to}>`,
      'Call-ID: real-call@127.0.0.1',
      `CSeq: ${cseq} ${method}`,
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  return [
    common('REGISTER', 1, `sip:${user}@127.0.0.1`, [
      `Contact: <sip:${user}@127.0.0.1:5060;transport=udp>;expires=300`,
      'Supported: path, outbound',
      'User-Agent: Yealink SIP-T46S 66.86.0.15',
      'Expires: 300',
    ]),
    common('REGISTER', 2, `sip:${user}@127.0.0.1`, [
      `Contact: <sip:${user}@127.0.0.1:5060>`,
      `Authorization: Digest username="${user}", realm="127.0.0.1", nonce="bm9uY2U", uri="sip:127.0.0.1", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="c1", nc=00000001, qop=auth`,
    ]),
    Buffer.from(
      withLength(
        common('INVITE', 1, 'sip:1001@127.0.0.1', [
          `Contact: <sip:${user}@127.0.0.1:5060>`,
          'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
          'Supported: replaces, timer',
          'Content-Type: application/sdp',
        ]),
        sdp,
      ),
      'latin1',
    ),
    common('OPTIONS', 1, 'sip:127.0.0.1', ['Accept: application/sdp']),
    common('BYE', 3, 'sip:1001@127.0.0.1', []).replace('To: <sip:1001@127.0.0.1>', 'To: <sip:1001@127.0.0.1>;tag=peer'),
    common('CANCEL', 1, 'sip:1001@127.0.0.1', []),
    common('ACK', 1, 'sip:1001@127.0.0.1', []),
  ].map((s) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s));
}

/**
 * A unique token in Call-ID and in the top branch, so each mutation is its
 * own transaction and its answers can be told apart ("fz<i>.").
 */
function personalise(seed: Buffer, i: number): Buffer {
  let s = seed.toString('latin1');
  s = s.replace(/^((?:Call-ID|i)[ \t]*:[ \t]*)/im, `$1fz${i}.`);
  s = s.replace(/(branch[ \t]*=[ \t]*[^;,\s]*)/i, `$1.fz${i}.`);
  return Buffer.from(s, 'latin1');
}

const TOKENS = [
  '\r',
  '\n',
  '\0',
  ':',
  '<',
  '>',
  '"',
  ',',
  ';',
  '\\',
  ' ',
  '\t',
  '%',
  '@',
  '\r\n',
  '\r\n ',
  '\xff',
  '[',
  ']',
  '=',
  '%00',
  '\r\n\r\n',
  'sip:',
  ';tag=',
  ';branch=z9hG4bK',
];
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'UPDATE', 'MESSAGE', 'REFER', 'FOO', 'invite', 'SIP/2.0 200', ''];
const VALUES = [
  '',
  ' ',
  '-1',
  '0',
  '4294967296',
  '99999999999999999999',
  '18446744073709551616',
  'NaN',
  '1e9',
  '0x10',
  '<>',
  '"',
  '<sip:>',
  'sip:@',
  '*',
  '%',
  ';;;',
  ',,,',
  'a'.repeat(3000),
];
const HEADERS = [
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Max-Forwards',
  'Content-Length',
  'Contact',
  'Expires',
  'Require',
  'Content-Type',
  'Authorization',
  'Proxy-Require',
  'Route',
  'Record-Route',
  'Date',
  'v',
  'f',
  't',
  'i',
  'l',
  'm',
];

/** 1–3 random edits; the result stays under the UDP datagram limit */
function mutate(src: Buffer, rnd: () => number): Buffer {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  let b = Buffer.from(src);
  const lines = () => b.toString('latin1').split('\r\n');
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 11)) {
      case 0: // flip bytes
        for (let n = 0; n < 1 + rnd() * 8 && b.length > 0; n++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: {
        // duplicate or delete a line
        const l = lines();
        const i = Math.floor(rnd() * l.length);
        if (rnd() < 0.5) l.splice(i, 0, l[i]!);
        else l.splice(i, 1);
        b = Buffer.from(l.join('\r\n'), 'latin1');
        break;
      }
      case 3: // insert a delimiter where it hurts
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(TOKENS), 'latin1'), b.subarray(at)]);
        break;
      case 4: {
        // replace a header's value with an edge case
        const l = lines();
        const idx = l.findIndex((x, n) => n > 0 && x.toLowerCase().startsWith(pick(HEADERS).toLowerCase() + ':'));
        const i = idx > 0 ? idx : 1 + Math.floor(rnd() * Math.max(1, l.length - 1));
        const c = (l[i] ?? '').indexOf(':');
        l[i] = (c > 0 ? l[i]!.slice(0, c + 1) + ' ' : pick(HEADERS) + ': ') + pick(VALUES);
        b = Buffer.from(l.join('\r\n'), 'latin1');
        break;
      }
      case 5: {
        // swap two lines (the start line too)
        const l = lines();
        const i = Math.floor(rnd() * l.length);
        const j = Math.floor(rnd() * l.length);
        [l[i], l[j]] = [l[j]!, l[i]!];
        b = Buffer.from(l.join('\r\n'), 'latin1');
        break;
      }
      case 6: {
        // another method or version in the start line
        const l = lines();
        const parts = l[0]!.split(' ');
        if (rnd() < 0.7) parts[0] = pick(METHODS);
        else parts[parts.length - 1] = pick(['SIP/2.0', 'SIP/3.0', 'sip/2.0', 'SIP/2.0 ', 'SIP/20', 'HTTP/1.1', '']);
        l[0] = parts.join(' ');
        b = Buffer.from(l.join('\r\n'), 'latin1');
        break;
      }
      case 7: {
        // Content-Length off by a little or a lot
        const s = b.toString('latin1');
        const m = /^(Content-Length|l)[ \t]*:[ \t]*(\d+)/im.exec(s);
        const v = m ? Number(m[2]) : 0;
        const nv = pick([v + 1, v - 1, v + 100, 0, 65536, 99999, Math.floor(rnd() * 500)]);
        b = Buffer.from(m ? s.replace(m[0], `${m[1]}: ${nv}`) : s.replace('\r\n', `\r\nContent-Length: ${nv}\r\n`), 'latin1');
        break;
      }
      case 8: {
        // repeat one header many times
        const l = lines();
        const i = 1 + Math.floor(rnd() * Math.max(1, l.length - 2));
        const n = 2 + Math.floor(rnd() * 60);
        l.splice(i, 0, ...Array<string>(n).fill(l[i] ?? 'X-Fuzz: 1'));
        b = Buffer.from(l.join('\r\n'), 'latin1');
        break;
      }
      case 9: {
        // fold a header line at a random point (RFC 3261 §7.3.1 LWS)
        const s = b.toString('latin1');
        const sp = s.indexOf(' ', at);
        if (sp > 0) b = Buffer.from(s.slice(0, sp) + pick(['\r\n ', '\r\n\t', '\n ', '\r ']) + s.slice(sp + 1), 'latin1');
        break;
      }
      default: {
        // splice in a slice of itself (nested / doubled structure)
        const from = Math.floor(rnd() * b.length);
        const len = Math.floor(rnd() * Math.min(400, b.length - from));
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]);
      }
    }
  }
  return b.length > 60_000 ? b.subarray(0, 60_000) : b;
}

/** Garbage for a stream: nothing like SIP, or SIP whose framing never ends. */
function garbage(rnd: () => number): Buffer {
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 2000) }, () => Math.floor(rnd() * 256)));
    case 1:
      return Buffer.from('\r\n'.repeat(1 + Math.floor(rnd() * 50)), 'latin1'); // keep-alives (RFC 5626 §3.5.1)
    case 2:
      return Buffer.from(`OPTIONS sip:x SIP/2.0\r\nX-Long: ${'y'.repeat(70_000)}\r\n\r\n`, 'latin1'); // over the size limit
    case 3:
      return Buffer.from(`INVITE sip:x SIP/2.0\r\n${'X-H: v\r\n'.repeat(400)}`, 'latin1'); // header section never ends
    case 4:
      return Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1');
    default:
      return Buffer.from('\0'.repeat(1 + Math.floor(rnd() * 100)), 'latin1');
  }
}

interface Outcome {
  /** first final status, 0 when none */
  final: number;
  provisional: boolean;
}

const TOKENS_RE = /fz(\d+)\./g;

netnsSuite(
  import.meta.url,
  'fuzzing the live server',
  () => {
    const users = makeUsers(2, { first: 1000 });
    let pal: PalisadeProcess;
    let malformedBefore = 0;
    const seeds: Buffer[] = [];

    before(async () => {
      pal = await startPalisade({ users, logLevel: 'info' });
      seeds.push(...tortureMessages().values(), ...realisticSeeds(users[0]!.number));
      const packets = palisadeStatus(pal.configPath).packets as { malformed: number };
      malformedBefore = packets.malformed;
    });

    after(async () => {
      await pal?.stop();
    });

    test('inside the namespace: nothing can leave loopback', async () => {
      assert.equal(await udpSendError('192.0.2.1'), 'ENETUNREACH');
    });

    test(`${UDP_MUTATIONS} seeded mutations over UDP at ≤ ${MAX_RATE}/s`, { timeout: 60_000 }, async (t) => {
      const rnd = prng(SEED);
      const inputs = Array.from({ length: UDP_MUTATIONS }, (_, i) => mutate(personalise(seeds[i % seeds.length]!, i), rnd));
      const outcomes: Outcome[] = Array.from({ length: UDP_MUTATIONS }, () => ({ final: 0, provisional: false }));
      const trap = await UdpProbe.open(5060); // the realistic seeds' sent-by: answers must not go there
      const probes = await Promise.all(Array.from({ length: UDP_SOCKETS }, () => UdpProbe.open()));
      const current = new Map<UdpProbe, number>();
      let unattributed = 0;
      const seen = probes.map(() => 0);
      /** file what each socket got under the mutation named in it, else the one in flight */
      const drain = () => {
        probes.forEach((p, k) => {
          for (; seen[k]! < p.received.length; seen[k] = seen[k]! + 1) {
            const text = p.received[seen[k]!]!.data.toString('latin1');
            const status = Number(/^SIP\/2\.0 (\d{3}) /.exec(text)?.[1] ?? 0);
            const callId = /^Call-ID:[ \t]*([^\r\n]*)/im.exec(text)?.[1] ?? '';
            const via = /^Via:[ \t]*([^\r\n]*)/im.exec(text)?.[1] ?? '';
            // every token in the Call-ID and the Via, the first this socket sent: a mutation can make a
            // false one ("fz1422fz1.real-call" holds fz1.), and a late answer must not go to the one in flight
            const toks = [...`${callId} ${via}`.matchAll(TOKENS_RE)].map((m) => Number(m[1]));
            const own = toks.find((n) => n < UDP_MUTATIONS && n % UDP_SOCKETS === k);
            let i = own ?? (toks.length > 0 ? toks[0] : current.get(p));
            if (i === undefined || i >= UDP_MUTATIONS) {
              unattributed++;
              continue;
            }
            if (own === undefined && toks.length > 0) i = current.get(p) ?? i; // a token the mutation rewrote
            const o = outcomes[i]!;
            if (status >= 200 && o.final === 0) o.final = status;
            else if (status > 0 && status < 200) o.provisional = true;
          }
        });
      };

      const started = Date.now();
      let sent = 0;
      try {
        // socket k sends mutations k, k+64, ...; each waits for its answer (or
        // ANSWER_WAIT_MS) before the next, and a token bucket caps the rate
        await Promise.all(
          probes.map(async (p, k) => {
            for (let i = k; i < UDP_MUTATIONS; i += UDP_SOCKETS) {
              const due = started + (sent * 1000) / MAX_RATE;
              if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
              sent++;
              current.set(p, i);
              const before = p.received.length;
              p.send(inputs[i]!, pal.sipPort);
              await p.waitFor((got) => got.length > before && /^SIP\/2\.0 [2-6]/.test(got[got.length - 1]!.data.toString('latin1', 0, 9)), ANSWER_WAIT_MS);
              drain();
            }
          }),
        );
        const elapsed = Date.now() - started;
        await new Promise((r) => setTimeout(r, 500)); // late answers (100 Trying, retransmissions)
        drain();

        const counts = { '400': 0, other: 0, none: 0, provisionalOnly: 0 };
        const byStatus = new Map<number, number>();
        for (const o of outcomes) {
          if (o.final === 400) counts['400']++;
          else if (o.final > 0) counts.other++;
          else if (o.provisional) counts.provisionalOnly++;
          else counts.none++;
          if (o.final > 0) byStatus.set(o.final, (byStatus.get(o.final) ?? 0) + 1);
        }
        // why the silent ones got nothing, by what our own parser makes of them
        const silent = new Map<string, number>();
        const silentValid: number[] = [];
        outcomes.forEach((o, i) => {
          if (o.final > 0 || o.provisional) return;
          const r = parseMessage(inputs[i]!);
          let why: string;
          if (r.ok) why = r.msg.isRequest ? (r.msg.method === 'ACK' ? 'ACK' : 'valid request') : 'response';
          else why = `${r.code.replace('PAL_ERR_SIP_', '')}${r.msg ? '+partial' : ''}`;
          if (why === 'valid request') silentValid.push(i);
          silent.set(why, (silent.get(why) ?? 0) + 1);
        });
        t.diagnostic(
          `UDP no answer, by parse result: ${[...silent]
            .sort((a, b) => b[1] - a[1])
            .map(([w, n]) => `${w}:${n}`)
            .join(' ')}`,
        );
        const rate = Math.round((UDP_MUTATIONS * 1000) / elapsed);
        const statuses = [...byStatus]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}:${n}`)
          .join(' ');
        t.diagnostic(
          `UDP: ${UDP_MUTATIONS} mutations in ${elapsed} ms (${rate}/s); 400: ${counts['400']}, other final: ${counts.other}, provisional only: ${counts.provisionalOnly}, no answer: ${counts.none}; unattributed datagrams: ${unattributed}`,
        );
        t.diagnostic(`UDP finals by status: ${statuses}`);
        console.log(
          `# fuzz UDP: ${JSON.stringify({ mutations: UDP_MUTATIONS, elapsedMs: elapsed, perSecond: rate, ...counts, unattributed, byStatus: Object.fromEntries(byStatus), silent: Object.fromEntries(silent) })}`,
        );
        for (const i of silentValid.slice(0, 3)) console.log(`# silent valid request #${i}:\n${inputs[i]!.toString('latin1').slice(0, 600)}`);

        assert.ok(rate <= MAX_RATE * 1.1, `offered rate ${rate}/s stays bounded`);
        // a mutation our parser still reads as a well-formed request (not ACK) must be answered
        assert.deepEqual(silentValid, [], 'every well-formed non-ACK request got an answer');
        assert.ok(counts['400'] > UDP_MUTATIONS / 10, 'a good share of the mutations is refused with 400');
        assert.ok(counts.other > 0 && counts.none > 0, 'the mix holds answered and dropped mutations');
        assert.equal(byStatus.get(500) ?? 0, 0, 'no mutation made the server fail internally (500)');
        for (const p of probes) for (const g of p.received) assert.deepEqual(g.from, { address: '127.0.0.1', port: pal.sipPort });
        assert.equal(trap.received.length, 0, 'no answer went to the Via sent-by port instead of the source');
      } finally {
        for (const p of probes) p.close();
        trap.close();
      }
    });

    test(`${TCP_MUTATIONS} mutations over TCP: whole, split, pipelined, and garbage`, { timeout: 60_000 }, async (t) => {
      const rnd = prng(SEED ^ 0x7cb);
      const conns: Array<TcpProbe | null> = Array.from({ length: 8 }, () => null);
      const all: TcpProbe[] = [];
      const modes = { whole: 0, split: 0, pipelined: 0, garbage: 0 };
      let serverCloses = 0;
      const controls: number[] = [];
      /** an unmutated OPTIONS cut into small writes on a fresh connection: must get its 200 */
      const splitControl = async (r: () => number, i: number): Promise<number> => {
        const c = await TcpProbe.open(pal.sipPort);
        try {
          const msg = Buffer.from(optionsRequest({ domain: '127.0.0.1', transport: 'TCP', localPort: c.sock.localPort!, callId: `split-control-${i}` }), 'latin1');
          for (let from = 0; from < msg.length; ) {
            const to = Math.min(msg.length, from + 1 + Math.floor(r() * 40));
            await c.write(msg.subarray(from, to));
            from = to;
            if (r() < 0.3) await new Promise((res) => setTimeout(res, 1));
          }
          await c.waitFor((p) => p.responses().length > 0, 1000);
          return c.responses()[0]?.status ?? 0;
        } finally {
          c.close();
        }
      };
      const started = Date.now();
      try {
        for (let i = 0; i < TCP_MUTATIONS; i++) {
          const slot = i % conns.length;
          let c = conns[slot];
          if (!c || c.closed) {
            if (c?.closed) serverCloses++;
            c = await TcpProbe.open(pal.sipPort);
            conns[slot] = c;
            all.push(c);
          }
          const one = () => mutate(personalise(seeds[Math.floor(rnd() * seeds.length)]!, UDP_MUTATIONS + i), rnd);
          const r = rnd();
          if (r < 0.4) {
            modes.whole++;
            await c.write(one());
          } else if (r < 0.7) {
            // the same bytes in 2–8 writes with pauses: framing must not depend on write boundaries
            modes.split++;
            const b = one();
            const cuts = Array.from({ length: 1 + Math.floor(rnd() * 7) }, () => Math.floor(rnd() * b.length)).sort((x, y) => x - y);
            let from = 0;
            for (const cut of [...cuts, b.length]) {
              await c.write(b.subarray(from, cut));
              from = cut;
              await new Promise((res) => setTimeout(res, 1));
            }
          } else if (r < 0.9) {
            modes.pipelined++;
            await c.write(Buffer.concat(Array.from({ length: 2 + Math.floor(rnd() * 4) }, one)));
          } else {
            modes.garbage++;
            await c.write(garbage(rnd));
          }
          if (i % 16 === 15) await new Promise((res) => setTimeout(res, 5));
          if (i % 50 === 0) controls.push(await splitControl(rnd, i));
        }
        await new Promise((r) => setTimeout(r, 300));
        serverCloses += conns.filter((c) => c?.closed).length;
        const statuses = new Map<number, number>();
        let bytes = 0;
        for (const c of all) {
          bytes += c.data.length;
          for (const m of c.responses()) statuses.set(m.status, (statuses.get(m.status) ?? 0) + 1);
        }
        const summary = [...statuses]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}:${n}`)
          .join(' ');
        t.diagnostic(
          `TCP: ${TCP_MUTATIONS} writes (${JSON.stringify(modes)}) over ${all.length} connections in ${Date.now() - started} ms; server closed ${serverCloses}; answers by status: ${summary}; ${bytes} bytes back`,
        );
        console.log(`# fuzz TCP: ${JSON.stringify({ writes: TCP_MUTATIONS, modes, connections: all.length, serverCloses, answers: Object.fromEntries(statuses) })}`);
        assert.ok(modes.split > 0 && modes.pipelined > 0 && modes.garbage > 0);
        assert.deepEqual(
          controls,
          controls.map(() => 200),
          'a valid OPTIONS in many small writes is answered 200 every time',
        );
        assert.ok(serverCloses > 0, 'framing errors close connections');
        assert.ok((statuses.get(400) ?? 0) > 0, 'some stream mutations are refused with 400');
        assert.equal(statuses.get(500) ?? 0, 0, 'no mutation made the server fail internally (500)');
      } finally {
        for (const c of all) c.close();
      }
    });

    test('afterwards: alive, OPTIONS → 200 within 1 s, REGISTER → 401 challenge, malformed counted', async () => {
      assert.ok(pidAlive(pal.pid), 'the Palisade process is alive');
      const probe = await UdpProbe.open();
      try {
        const t0 = Date.now();
        probe.send(optionsRequest({ domain: '127.0.0.1', localPort: probe.port, callId: 'after-fuzz-options' }), pal.sipPort);
        assert.ok(await probe.waitFor((g) => g.length > 0, 1000), 'OPTIONS answered within 1 s');
        const ok = parseResponse(probe.received[0]!.data);
        assert.equal(ok.status, 200);
        assert.equal(ok.callId, 'after-fuzz-options');
        assert.ok(Date.now() - t0 < 1000);

        const user = users[0]!.number;
        probe.send(registerRequest({ domain: '127.0.0.1', localPort: probe.port, callId: 'after-fuzz-register', user }), pal.sipPort);
        assert.ok(await probe.waitFor((g) => g.length > 1, 1000), 'REGISTER answered within 1 s');
        const ch = parseResponse(probe.received[1]!.data);
        assert.equal(ch.status, 401);
        assert.equal(ch.callId, 'after-fuzz-register');
        assert.match(ch.get('www-authenticate') ?? '', /^Digest .*realm="[^"]+".*nonce="[^"]+"/);
      } finally {
        probe.close();
      }
      const tcp = await TcpProbe.open(pal.sipPort);
      try {
        await tcp.write(optionsRequest({ domain: '127.0.0.1', transport: 'TCP', localPort: tcp.sock.localPort!, callId: 'after-fuzz-tcp' }));
        assert.ok(await tcp.waitFor((p) => p.responses().length > 0, 1000), 'OPTIONS over TCP answered within 1 s');
        assert.equal(tcp.responses()[0]!.status, 200);
      } finally {
        tcp.close();
      }

      const status = palisadeStatus(pal.configPath);
      const packets = status.packets as { received: number; malformed: number; answered400: number; handlerErrors: number };
      console.log(`# fuzz status: ${JSON.stringify(packets)}`);
      assert.ok(packets.malformed > malformedBefore, `malformed counter went up (${malformedBefore} → ${packets.malformed})`);
      assert.ok(packets.malformed >= UDP_MUTATIONS / 10, `most broken input is counted (${packets.malformed})`);
      assert.equal(packets.handlerErrors, 0, 'no exception escaped a handler');
      const bad = pal.events().filter((e) => ['handler-exception', 'parse-exception', 'send-failed'].includes(String(e.event)));
      assert.deepEqual(bad, [], 'no exception or failed send was logged');
    });
  },
  110_000,
);
