// RFC 4475 torture messages against the running Palisade server: what it
// SENDS BACK over the wire (the parser-level verdicts are in
// test/conformance/rfc4475.test.ts). Every archive message goes out over UDP
// from its own socket, the stream-relevant ones and some valid ones over TCP,
// and each answer is held to what its RFC 4475 section asks of a UAS /
// registrar. The messages name outside hosts (192.0.2.x Vias and Contacts),
// so the file only runs inside a loopback-only namespace; answers must come
// back to the sending socket (RFC 3261 §18.2.2 with received, RFC 3581
// symmetric responses), and trap sockets on every loopback port the Vias
// name prove nothing went anywhere else.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { netnsSuite, isLoopbackOnly } from '../helpers/netns.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { UdpProbe, TcpProbe, optionsRequest, parseResponse, pidAlive, tortureMessages, udpSendError, type Received } from '../helpers/sip-probe.js';
import { parseMessage } from '../../src/sip-message/parser.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';

/** What a message must get back: allowed final statuses, or null for silence. */
interface Expect {
  section: string;
  statuses: number[] | null;
}

const CHALLENGE = [401, 407];
// OPTIONS addressed to a user needs digest authentication (docs/architecture.md, Security rules: no
// probing of which users exist), so a well-formed one is challenged; a 200
// is what it gets once authenticated, or when addressed to the server.
const OPTIONS_TO_USER = [200, ...CHALLENGE];

const EXPECT: Record<string, Expect> = {
  // §3.1.1 valid messages: a sensible answer, never 400
  wsinv: { section: '3.1.1.1', statuses: [481] }, // To tag: in-dialog INVITE matching no dialog (RFC 3261 §12.2.2)
  intmeth: { section: '3.1.1.2', statuses: [501] }, // unknown method (RFC 3261 §21.5.2)
  esc01: { section: '3.1.1.3', statuses: CHALLENGE },
  escnull: { section: '3.1.1.4', statuses: CHALLENGE },
  esc02: { section: '3.1.1.5', statuses: [501, 405] }, // RE%47IST%45R is not REGISTER
  lwsdisp: { section: '3.1.1.6', statuses: OPTIONS_TO_USER },
  longreq: { section: '3.1.1.7', statuses: CHALLENGE },
  dblreq: { section: '3.1.1.8', statuses: CHALLENGE }, // UDP: only the REGISTER counts
  semiuri: { section: '3.1.1.9', statuses: OPTIONS_TO_USER },
  transports: { section: '3.1.1.10', statuses: OPTIONS_TO_USER },
  // MESSAGE with a multipart/mixed body: 415 from an element that does not take
  // that body (RFC 3261 §8.2.3), 405 where MESSAGE is not served, or a challenge
  mpart01: { section: '3.1.1.11', statuses: [415, 405, ...CHALLENGE] },
  unreason: { section: '3.1.1.12', statuses: null }, // a response: nothing to answer
  noreason: { section: '3.1.1.13', statuses: null },
  // §3.1.2 invalid messages: 400 where one can be built
  badinv01: { section: '3.1.2.1', statuses: [400] }, // top Via does not parse: echoed verbatim, sent to the source
  clerr: { section: '3.1.2.2', statuses: [400] },
  ncl: { section: '3.1.2.3', statuses: [400] },
  scalar02: { section: '3.1.2.4', statuses: [400] },
  scalarlg: { section: '3.1.2.5', statuses: null }, // a response
  quotbal: { section: '3.1.2.6', statuses: [400] },
  ltgtruri: { section: '3.1.2.7', statuses: [400] },
  lwsruri: { section: '3.1.2.8', statuses: [400] },
  lwsstart: { section: '3.1.2.9', statuses: [400] },
  trws: { section: '3.1.2.10', statuses: [400] },
  escruri: { section: '3.1.2.11', statuses: [400] },
  baddate: { section: '3.1.2.12', statuses: [400] },
  regbadct: { section: '3.1.2.13', statuses: [400] },
  badaspec: { section: '3.1.2.14', statuses: [400] },
  baddn: { section: '3.1.2.15', statuses: [400] },
  badvers: { section: '3.1.2.16', statuses: [505] },
  mismatch01: { section: '3.1.2.17', statuses: [400] },
  mismatch02: { section: '3.1.2.18', statuses: [501, 400] }, // "501 ... A 400 Bad Request is also acceptable"
  bigcode: { section: '3.1.2.19', statuses: null }, // a response
  // §3.2 transaction layer: 400, or RFC 2543 matching and a normal answer
  badbranch: { section: '3.2.1', statuses: [400, ...OPTIONS_TO_USER] },
  // §3.3 application layer
  insuf: { section: '3.3.1', statuses: [400] },
  unkscm: { section: '3.3.2', statuses: [416] },
  novelsc: { section: '3.3.3', statuses: [416] },
  unksm2: { section: '3.3.4', statuses: [400] }, // To must hold a SIP/SIPS AOR
  bext01: { section: '3.3.5', statuses: [420] },
  invut: { section: '3.3.6', statuses: [415] },
  regaut01: { section: '3.3.7', statuses: [401] }, // challenge with a scheme we know
  multi01: { section: '3.3.8', statuses: [400] },
  mcl01: { section: '3.3.9', statuses: [400] }, // UDP: 400; TCP: connection closed (below)
  bcast: { section: '3.3.10', statuses: null }, // a response: discarded
  zeromf: { section: '3.3.11', statuses: OPTIONS_TO_USER }, // an endpoint processes it as if Max-Forwards were positive
  cparam01: { section: '3.3.12', statuses: CHALLENGE },
  cparam02: { section: '3.3.13', statuses: CHALLENGE },
  regescrt: { section: '3.3.14', statuses: CHALLENGE },
  // 406 or 400 once the request is accepted; the challenge that comes first carries no body
  sdp01: { section: '3.3.15', statuses: [406, 400, ...CHALLENGE] },
  // §3.4 backward compatibility: RFC 2543 syntax is accepted
  inv2543: { section: '3.4.1', statuses: CHALLENGE },
  // in the archive, not in the RFC text: no SIP-Version, a header line without a colon, no Via:
  // answered at the packet's source all the same
  test: { section: 'archive only', statuses: [400] },
};

/** Over TCP: the stream-relevant messages and a few valid ones. */
const TCP_EXPECT: Record<string, { statuses: number[]; mayClose?: boolean; mustClose?: boolean }> = {
  mcl01: { statuses: [400], mustClose: true }, // §3.3.9: framing lost, close the connection
  inv2543: { statuses: [400], mustClose: true }, // no Content-Length on a stream (RFC 3261 §18.3)
  ncl: { statuses: [400], mustClose: true }, // negative Content-Length: framing lost
  dblreq: { statuses: [...CHALLENGE], mayClose: true }, // both requests count; stray bytes follow
  lwsdisp: { statuses: OPTIONS_TO_USER },
  semiuri: { statuses: OPTIONS_TO_USER },
  transports: { statuses: OPTIONS_TO_USER },
  esc01: { statuses: CHALLENGE },
  longreq: { statuses: CHALLENGE },
  badvers: { statuses: [505] },
  insuf: { statuses: [400] },
  bext01: { statuses: [420] },
  unkscm: { statuses: [416] },
};

interface Send {
  name: string;
  transport: 'udp' | 'tcp';
  data: Buffer;
  /** top Via + method: two sends sharing it would match one server transaction (RFC 3261 §17.2.3) */
  key: string | null;
  pal?: PalisadeProcess;
}

function txKey(data: Buffer): string | null {
  const r = parseMessage(data);
  const m = r.msg;
  if (!m?.isRequest) return null;
  const via = m.get('via');
  return via === undefined ? null : `${via.split(',')[0]!.trim()}|${m.method === 'ACK' ? 'INVITE' : m.method}`;
}

/** Every loopback port a torture Via names as sent-by (5060 when none): a misrouted answer lands there. */
function viaPorts(msgs: Map<string, Buffer>): number[] {
  const ports = new Set<number>([5060]);
  const re = /SIP\s*\/\s*[\d.]+\s*\/\s*[A-Za-z]+\s+(\[[^\]]*\]|[^\s;:,]+)(?:\s*:\s*(\d+))?/g;
  for (const b of msgs.values()) {
    for (const m of b.toString('latin1').matchAll(re)) ports.add(m[2] ? Number(m[2]) : 5060);
  }
  return [...ports].filter((p) => p > 0 && p < 65536).sort((a, b) => a - b);
}

function header(m: SipMessage, name: string): string {
  return m.getAll(name).join(', ');
}

/** The response must be the answer to this request, stamped per RFC 3261 §18.2.1 / RFC 3581. */
function checkCorrelation(name: string, req: Buffer, res: SipMessage, srcPort: number): void {
  const r = parseMessage(req);
  const q = r.msg;
  if (!q) return;
  if (q.get('call-id') !== undefined) assert.equal(res.get('call-id'), q.get('call-id'), `${name}: Call-ID echoed`);
  if (q.get('cseq') !== undefined) assert.equal(res.get('cseq')?.split(/\s+/)[0], q.get('cseq')!.split(/\s+/)[0], `${name}: CSeq echoed`);
  const reqBranch = /branch\s*=\s*([^\s;,]+)/i.exec(q.get('via') ?? '')?.[1];
  const top = res.get('via') ?? '';
  if (reqBranch) assert.ok(top.includes(reqBranch), `${name}: top Via keeps branch ${reqBranch}: ${top}`);
  let topVia: SipMessage['topVia'];
  try {
    topVia = res.topVia;
  } catch {
    return; // a Via that never parsed (badvers keeps SIP/7.0) is echoed verbatim
  }
  if (topVia.host !== '127.0.0.1') assert.equal(topVia.params['received'], '127.0.0.1', `${name}: received= names the source (§18.2.1): ${top}`);
  let reqVia: SipMessage['topVia'];
  try {
    reqVia = q.topVia;
  } catch {
    return;
  }
  if ('rport' in reqVia.params && reqVia.params['rport'] === null) {
    assert.equal(topVia.params['rport'], String(srcPort), `${name}: rport filled in (RFC 3581 §4): ${top}`);
  }
}

/** Per-status headers the RFC requires with the answer. */
function checkStatusHeaders(name: string, req: Buffer, res: SipMessage): void {
  switch (res.status) {
    case 401:
      assert.match(header(res, 'www-authenticate'), /^Digest /i, `${name}: 401 carries a Digest challenge`);
      break;
    case 407:
      assert.match(header(res, 'proxy-authenticate'), /^Digest /i, `${name}: 407 carries a Digest challenge`);
      break;
    case 420: {
      // RFC 3261 §8.2.2.3: Unsupported lists the Require tags we lack
      const unsupported = header(res, 'unsupported');
      const required = parseMessage(req)
        .msg!.getAll('require')
        .flatMap((v) => v.split(',').map((s) => s.trim()));
      for (const tag of required) assert.ok(unsupported.includes(tag), `${name}: Unsupported names ${tag}: ${unsupported}`);
      break;
    }
    case 415:
      // RFC 3261 §8.2.3: Accept lists what we do take
      assert.match(header(res, 'accept'), /application\/sdp/, `${name}: 415 carries Accept`);
      break;
    case 405:
    case 501:
      break;
  }
}

netnsSuite(
  import.meta.url,
  'RFC 4475 torture messages against the live server',
  () => {
    const msgs = tortureMessages();
    const sends: Send[] = [];
    for (const [name, data] of msgs) sends.push({ name, transport: 'udp', data, key: txKey(data) });
    for (const name of Object.keys(TCP_EXPECT)) sends.push({ name, transport: 'tcp', data: msgs.get(name)!, key: txKey(msgs.get(name)!) });

    const pals: PalisadeProcess[] = [];
    const udpGot = new Map<string, { probe: UdpProbe; got: Received[] }>();
    const tcpGot = new Map<string, TcpProbe>();
    const trapHits: string[] = [];
    const trapsUdp: UdpProbe[] = [];
    const trapsTcp: Server[] = [];

    before(async () => {
      // RFC 4475 reuses branches (novelsc/unkscm share one): such sends go to
      // different servers so each is a new transaction, not a retransmission.
      const perPal: Array<Set<string>> = [];
      for (const s of sends) {
        let i = 0;
        while (s.key !== null && perPal[i]?.has(s.key)) i++;
        (perPal[i] ??= new Set()).add(s.key ?? `none-${sends.indexOf(s)}`);
        (s as Send & { palIndex: number }).palIndex = i;
      }
      const started = await Promise.allSettled(perPal.map(() => startPalisade({ logLevel: 'info' })));
      for (const r of started) if (r.status === 'fulfilled') pals.push(r.value);
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (const s of sends) s.pal = pals[(s as Send & { palIndex: number }).palIndex];

      for (const port of viaPorts(msgs)) {
        if (pals.some((p) => p.sipPort === port)) continue;
        const u = await UdpProbe.open(port);
        trapsUdp.push(u);
        const srv = createServer((c) => {
          trapHits.push(`tcp connection to 127.0.0.1:${port}`);
          c.destroy();
        });
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(port, '127.0.0.1', () => resolve());
        });
        trapsTcp.push(srv);
      }

      // UDP: every message from its own socket, a few ms apart
      for (const s of sends.filter((x) => x.transport === 'udp')) {
        const probe = await UdpProbe.open();
        udpGot.set(s.name, { probe, got: probe.received });
        probe.send(s.data, s.pal!.sipPort);
        await new Promise((r) => setTimeout(r, 3));
      }
      // TCP: one connection per message
      for (const s of sends.filter((x) => x.transport === 'tcp')) {
        const c = await TcpProbe.open(s.pal!.sipPort);
        tcpGot.set(s.name, c);
        await c.write(s.data);
      }
      // wait until every message that must be answered has a final response,
      // then a quiet spell for anything extra (a second answer, a late 1xx)
      const deadline = Date.now() + 4000;
      for (const [name, { probe }] of udpGot) {
        const e = EXPECT[name];
        if (!e?.statuses) continue;
        await probe.waitFor((got) => got.some((g) => /^SIP\/2\.0 [2-6]/.test(g.data.toString('latin1', 0, 9))), Math.max(0, deadline - Date.now()));
      }
      for (const [name, c] of tcpGot) {
        const want = name === 'dblreq' ? 2 : 1;
        await c.waitFor((p) => p.closed || p.responses().filter((r) => r.status >= 200).length >= want, Math.max(0, deadline - Date.now()));
      }
      await new Promise((r) => setTimeout(r, 600));
    });

    after(async () => {
      for (const { probe } of udpGot.values()) probe.close();
      for (const c of tcpGot.values()) c.close();
      for (const u of trapsUdp) u.close();
      await Promise.all(trapsTcp.map((s) => new Promise((r) => s.close(r))));
      await Promise.all(pals.map((p) => p.stop()));
    });

    test('the namespace has no route off loopback: a datagram to 192.0.2.1 fails with ENETUNREACH', async () => {
      assert.equal(isLoopbackOnly(), true);
      assert.equal(await udpSendError('192.0.2.1'), 'ENETUNREACH');
      assert.equal(await udpSendError('192.0.2.198', 5060), 'ENETUNREACH');
    });

    test('the archive holds 50 messages and every one has an expectation', () => {
      assert.equal(msgs.size, 50);
      for (const name of msgs.keys()) assert.ok(EXPECT[name], `no expectation for ${name}`);
    });

    for (const name of [...tortureMessages().keys()]) {
      const e = EXPECT[name];
      test(`UDP ${name}.dat (RFC 4475 §${e?.section}): ${e?.statuses ? e.statuses.join('/') : 'no answer'}`, () => {
        const entry = udpGot.get(name);
        assert.ok(entry && e);
        const pal = sends.find((s) => s.name === name && s.transport === 'udp')!.pal!;
        for (const g of entry.got) {
          assert.deepEqual(g.from, { address: '127.0.0.1', port: pal.sipPort }, `${name}: answered from the server's listen point`);
        }
        if (e.statuses === null) {
          assert.equal(entry.got.length, 0, `${name}: a response (or ACK) gets nothing back, got ${entry.got.map((g) => g.data.toString('latin1').split('\r\n')[0]).join(' | ')}`);
          return;
        }
        const res = entry.got.map((g) => parseResponse(g.data));
        const finals = res.filter((r) => r.status >= 200);
        assert.ok(finals.length > 0, `${name}: expected a final response ${e.statuses.join('/')}, got ${res.map((r) => r.status).join(',') || 'nothing'}`);
        const distinct = [...new Set(finals.map((r) => r.status))];
        // retransmissions of one final answer are fine (INVITE §17.2.1 Timer G); two different answers are not
        assert.equal(distinct.length, 1, `${name}: one final answer, got ${distinct.join(',')}`);
        assert.ok(e.statuses.includes(distinct[0]!), `${name}: got ${distinct[0]} ${finals[0]!.reason}, RFC 4475 §${e.section} asks for ${e.statuses.join('/')}`);
        for (const r of res.filter((x) => x.status < 200)) assert.equal(r.status, 100, `${name}: only 100 Trying may precede the answer`);
        for (const r of res) checkCorrelation(name, msgs.get(name)!, r, entry.probe.port);
        checkStatusHeaders(name, msgs.get(name)!, finals[0]!);
      });
    }

    for (const [name, t] of Object.entries(TCP_EXPECT)) {
      test(`TCP ${name}.dat: ${t.statuses.join('/')}${t.mustClose ? ' or connection closed' : ''}`, () => {
        const c = tcpGot.get(name)!;
        const res = c.responses();
        const finals = res.filter((r) => r.status >= 200);
        if (t.mustClose) {
          assert.ok(c.closed, `${name}: framing is lost on a stream, the server must close the connection`);
          for (const r of finals) assert.ok(t.statuses.includes(r.status), `${name}: got ${r.status} before the close`);
          return;
        }
        if (!t.mayClose) assert.equal(c.closed, false, `${name}: a well-framed message keeps the connection open`);
        if (name === 'dblreq') {
          // on a stream both messages are framed by Content-Length (§3.1.1.8): REGISTER, then INVITE
          assert.deepEqual(
            finals.slice(0, 2).map((r) => r.cseq.method),
            ['REGISTER', 'INVITE'],
          );
        } else {
          assert.equal(finals.length, 1, `${name}: exactly one final answer over TCP (no retransmissions), got ${finals.map((r) => r.status).join(',')}`);
        }
        for (const r of finals) {
          assert.ok(t.statuses.includes(r.status), `${name}: got ${r.status} ${r.reason}, want ${t.statuses.join('/')}`);
          checkStatusHeaders(name, msgs.get(name)!, r);
        }
        if (name !== 'dblreq') for (const r of res) checkCorrelation(name, msgs.get(name)!, r, 0);
      });
    }

    test('TCP: two valid requests pipelined in one write get two answers, in order', async () => {
      const pal = pals[pals.length - 1]!;
      const c = await TcpProbe.open(pal.sipPort);
      try {
        const local = c.sock.localPort!;
        const a = optionsRequest({ domain: '127.0.0.1', transport: 'TCP', localPort: local, callId: 'pipe-a-4475' });
        const b = optionsRequest({ domain: '127.0.0.1', transport: 'TCP', localPort: local, callId: 'pipe-b-4475' });
        await c.write(a + b);
        assert.ok(await c.waitFor((p) => p.responses().length >= 2, 2000), 'two answers');
        assert.deepEqual(
          c.responses().map((r) => [r.status, r.callId]),
          [
            [200, 'pipe-a-4475'],
            [200, 'pipe-b-4475'],
          ],
        );
      } finally {
        c.close();
      }
    });

    test('ACK never gets a response, valid or malformed (RFC 3261 §17.2.1, §8.2)', async () => {
      const pal = pals[0]!;
      const probe = await UdpProbe.open();
      try {
        const ack = (n: number, edit: (s: string) => string = (s) => s) =>
          edit(
            [
              'ACK sip:user@127.0.0.1 SIP/2.0',
              `Via: SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bK-ack4475-${n}`,
              'Max-Forwards: 70',
              'From: <sip:caller@example.net>;tag=ack-from',
              'To: <sip:user@example.com>;tag=ack-to',
              `Call-ID: ack4475-${n}@192.0.2.77`,
              'CSeq: 1 ACK',
              'Content-Length: 0',
              '',
              '',
            ].join('\r\n'),
          );
        const variants = [
          ack(1), // matches no transaction and no dialog
          ack(2, (s) => s.replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nRequire: nothingSupportsThis')), // 420 never for ACK
          ack(3, (s) => s.replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nDate: not a date')), // sanity 400 → dropped
          ack(4, (s) => s.replace(/Call-ID: .*\r\n/, '')), // parser: missing Call-ID
          ack(5, (s) => s.replace('ACK sip:user@127.0.0.1 SIP/2.0', 'ACK sip:user@127.0.0.1 SIP/3.0')), // 505 never for ACK
          ack(6, (s) => s.replace(/Via: .*\r\n/, 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n')),
          ack(7, (s) => s.replace('sip:user@127.0.0.1', 'nobodyKnowsThisScheme:opaque')), // 416 never for ACK
          ack(8, (s) => s.replace('Max-Forwards: 70', 'Max-Forwards: 0')),
          ack(9, (s) => s.replace('Content-Length: 0', 'Content-Length: 0\r\nContent-Length: 0')),
          ack(10, (s) => s.replace('Content-Length: 0', 'Content-Type: application/unknownformat\r\nContent-Length: 4') + 'abcd'),
        ];
        for (const v of variants) probe.send(v, pal.sipPort);
        const tcp = await TcpProbe.open(pal.sipPort);
        await tcp.write(ack(11).replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
        await new Promise((r) => setTimeout(r, 800));
        assert.deepEqual(
          probe.received.map((g) => g.data.toString('latin1').split('\r\n')[0]),
          [],
          'no answer to any ACK over UDP',
        );
        assert.equal(tcp.data.length, 0, 'no answer to an ACK over TCP');
        tcp.close();
      } finally {
        probe.close();
      }
    });

    test('nothing went anywhere but back to the senders', () => {
      assert.ok(trapsUdp.length >= 3, `trap sockets on the Via ports (${trapsUdp.map((t) => t.port).join(',')})`);
      const udpHits = trapsUdp.flatMap((t) => t.received.map((g) => `udp to 127.0.0.1:${t.port}: ${g.data.toString('latin1').split('\r\n')[0]}`));
      assert.deepEqual([...udpHits, ...trapHits], [], 'no datagram or connection reached a port a Via named');
      // a send towards 192.0.2.x fails with ENETUNREACH here, which Palisade logs
      for (const p of pals) {
        const bad = p.events().filter((e) => ['socket-error', 'send-failed', 'handler-exception', 'parse-exception'].includes(String(e.event)));
        assert.deepEqual(bad, [], `Palisade on ${p.target} logged send failures or exceptions`);
      }
    });

    test('after the torture every server is alive and answers a valid OPTIONS with 200', async () => {
      for (const p of pals) {
        assert.ok(pidAlive(p.pid), `Palisade ${p.pid} is alive`);
        const probe = await UdpProbe.open();
        try {
          probe.send(optionsRequest({ domain: '127.0.0.1', localPort: probe.port, callId: `after-4475-${p.sipPort}` }), p.sipPort);
          assert.ok(await probe.waitFor((g) => g.length > 0, 1000), `${p.target}: OPTIONS answered within 1 s`);
          assert.equal(parseResponse(probe.received[0]!.data).status, 200);
        } finally {
          probe.close();
        }
      }
    });
  },
  100_000,
);
