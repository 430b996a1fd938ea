// Micro-benchmark of the security decisions on the request path: the
// request gate (global ACL of 50 prefixes, address reputation among 100,000
// tracked addresses, the local-networks rule) and the call gate (number
// plan, fraud list of 10,000 prefixes, rate table of 2,000 prefixes,
// permissions, limits, spend, anomaly profile), each timed per decision
// with process.hrtime. The published prototype (RiVS) took 2–3 ms per
// decision; the aim is under 50 µs. Run after `npx tsc`:
//   node bench/security-gates-bench.mjs [iterations]
import os from 'node:os';
import { parseMessage } from '../dist/src/sip-message/parser.js';
import { Acl } from '../dist/src/security/acl/acl.js';
import { CidrSet } from '../dist/src/core/cidr.js';
import { RequestGate } from '../dist/src/security/acl/request-gate.js';
import { ReputationService } from '../dist/src/security/reputation/reputation-service.js';
import { NumberPlan } from '../dist/src/security/fraud/number-plan.js';
import { RateTable } from '../dist/src/security/fraud/rate-table.js';
import { FraudList } from '../dist/src/security/fraud/fraud-list.js';
import { CallingProfiles, DEFAULT_ANOMALY } from '../dist/src/security/fraud/calling-profile.js';
import { CallGate } from '../dist/src/security/fraud/call-gate.js';
import { makePolicy } from '../dist/src/security/fraud/principal.js';

const N = Number(process.argv[2] ?? 200000);
const sink = { emit: () => {} };
const reputation = new ReputationService();
for (let i = 0; i < 100_000; i++) reputation.book.good(`ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

const gate = new RequestGate({
  acl: new Acl({ permit: Array.from({ length: 50 }, (_, i) => `10.${i}.0.0/16`), deny: ['10.6.6.0/24'] }),
  localNetworks: CidrSet.parse(['10.0.0.0/8', '192.168.0.0/16']),
  reputationExempt: CidrSet.parse(['127.0.0.0/8']),
  reputation,
  isEmergency: (n) => n === '112',
  isExtension: (n) => n.length === 4,
  callFromPermits: () => false,
  sink,
});
const invite = parseMessage(
  Buffer.from(
    [
      'INVITE sip:00442079460000@pbx.example.org SIP/2.0',
      'Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK1',
      'Max-Forwards: 70',
      'From: <sip:1001@pbx.example.org>;tag=a1',
      'To: <sip:00442079460000@pbx.example.org>',
      'Call-ID: c1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ),
).msg;

const plan = new NumberPlan();
const fraudList = new FraudList(plan);
for (let i = 0; i < 10_000; i++) fraudList.add(String(8800000 + i * 7));
const rates = {};
for (let i = 0; i < 2000; i++) rates[String(100 + i)] = 0.01 + (i % 50) / 100;
const policy = makePolicy('extension', '1001', { permissions: ['international'], maxOutboundCalls: 1e6, maxCalls: 0, callsPerMinute: 0, dailySpendLimit: 1e12 });
const callGate = new CallGate({
  plan,
  rates: new RateTable(rates),
  fraudList,
  reputation,
  profiles: new CallingProfiles({ ...DEFAULT_ANOMALY, minCalls: 20 }),
  policyOf: () => policy,
  isExtension: (n) => n.length === 4,
  sink,
});

function measure(label, fn) {
  for (let i = 0; i < 20000; i++) fn(i); // warm-up
  const samples = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  const q = (p) => samples[Math.min(N - 1, Math.floor(p * N))].toFixed(2);
  console.log(`${label.padEnd(48)} p50 ${q(0.5)} µs  p99 ${q(0.99)} µs  (n=${N})`);
}

console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, node ${process.version}; RiVS prototype: 2–3 ms per decision`);
const remote = { address: '10.1.2.3', port: 5060, transport: 'udp' };
measure('request gate (ACL 50, reputation 100k, local nets)', () => gate.check(invite, remote));
measure('reputation score look-up', (i) => reputation.score(`ip:10.0.${(i >> 8) & 255}.${i & 255}`));
measure('call gate check + ended (international, rated)', (i) => {
  const d = callGate.check({ caller: '1001', dialled: i & 1 ? '00442079460000' : '+33140000000', remote, callId: 'x' });
  if (d.ok) d.ticket.ended(0);
});
