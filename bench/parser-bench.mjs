// Parser micro-benchmark: a typical REGISTER with Authorization, parsed and
// the fields the transaction layer reads (Via, From, To, CSeq, Call-ID)
// accessed. Run after `npx tsc`:  node bench/parser-bench.mjs [iterations]
import { parseMessage } from '../dist/src/sip-message/parser.js';

const REGISTER = Buffer.from(
  [
    'REGISTER sip:pbx.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK.Xy7aB3kLm;rport',
    'From: "Alice" <sip:1001@pbx.example.com>;tag=Ab3dEf9',
    'To: <sip:1001@pbx.example.com>',
    'CSeq: 21 REGISTER',
    'Call-ID: 7dfWq1Zr0aKq2@192.168.1.20',
    'Max-Forwards: 70',
    'Supported: replaces, outbound, gruu, path',
    'Accept: application/sdp, text/plain',
    'Contact: <sip:1001@192.168.1.20:5060;transport=udp>;+sip.instance="<urn:uuid:5b1a3c4e-0000-4000-8000-00163e000001>";expires=600',
    'Authorization: Digest realm="pbx.example.com", nonce="a1b2c3d4e5f60718", algorithm=MD5, username="1001", uri="sip:pbx.example.com", response="0123456789abcdef0123456789abcdef", cnonce="xyz12", nc=00000001, qop=auth',
    'Expires: 600',
    'User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

const N = Number(process.argv[2] ?? 200000);

function run(n) {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const r = parseMessage(REGISTER);
    if (!r.ok) throw new Error(r.error);
    const m = r.msg;
    sink += m.topVia.branch.length + m.from.params.tag.length + m.to.uri.host.length + m.cseq.seq + m.callId.length;
  }
  return sink;
}

run(20000); // warm-up: let the JIT settle
const t0 = process.hrtime.bigint();
const sink = run(N);
const ns = Number(process.hrtime.bigint() - t0);
const us = ns / 1000 / N;
console.log(
  `parse + Via/From/To/CSeq/Call-ID: ${us.toFixed(2)} µs/message (${Math.round(1e6 / us).toLocaleString('en')} msg/s, ${N} iterations, ${REGISTER.length} bytes, check ${sink % 997})`,
);
