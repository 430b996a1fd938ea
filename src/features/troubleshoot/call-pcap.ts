// A kept call trace as a pcapng file Wireshark and tshark open: every SIP
// message and RTP packet inside a synthesized IPv4/IPv6 + UDP header on a
// raw-IP interface. SIP that crossed TCP or TLS is written as UDP too (one
// message per packet, decrypted), which the packet's comment says; the SDP
// in the SIP lets the readers follow the RTP on its ports.
import { LINKTYPE_RAW, PcapngWriter } from './pcapng-writer.js';
import { udpPacket } from './ip-udp.js';
import type { CallTrace } from './trace-types.js';

export interface CallPcap {
  file: Buffer;
  sipPackets: number;
  rtpPackets: number;
}

const micros = (t: number): bigint => BigInt(Math.round(t * 1000));

export function callPcap(trace: CallTrace): CallPcap {
  const ids = trace.legs.map((l) => l.callId).join(', ');
  const notes = [
    `Palisade call trace #${trace.id} (${trace.reason}); Call-IDs: ${ids}.`,
    'Synthesized from what Palisade recorded: IP and UDP headers are rebuilt; Authorization values and SDES keys are redacted.',
    trace.rtpPayload ? 'RTP payloads recorded.' : 'RTP headers only (payloads not recorded).',
  ];
  if (trace.sip.some((m) => m.transport !== 'udp')) notes.push('SIP that crossed TCP or TLS is shown as UDP packets, one message each.');
  if (trace.rtpDropped > 0) notes.push(`${trace.rtpDropped} further RTP packets were not recorded.`);
  const w = new PcapngWriter({ comment: notes.join(' '), application: 'Palisade' });
  const ifc = w.addInterface(LINKTYPE_RAW, { name: 'palisade' });
  // SIP and RTP merged in time order
  const sip = trace.sip.map((m) => ({ t: m.t, sip: m }));
  const rtp = trace.rtp.map((p) => ({ t: p.t, rtp: p }));
  const all: Array<{ t: number; sip?: (typeof trace.sip)[number]; rtp?: (typeof trace.rtp)[number] }> = [...sip, ...rtp].sort((a, b) => a.t - b.t);
  for (const e of all) {
    if (e.sip) {
      const m = e.sip;
      const comment = `${m.dir === 'in' ? 'received' : 'sent'} over ${m.transport.toUpperCase()}${m.transport === 'udp' ? '' : ' (shown as UDP)'}, leg ${String.fromCharCode(65 + m.leg)}`;
      w.addPacket(ifc, { tsMicros: micros(m.t), data: udpPacket(m.src, m.dst, m.data), comment });
    } else {
      const p = e.rtp!;
      const data = udpPacket(p.src, p.dst, p.data, p.length);
      w.addPacket(ifc, { tsMicros: micros(p.t), data, originalLength: data.length + (p.length - p.data.length) });
    }
  }
  return { file: w.toBuffer(), sipPackets: sip.length, rtpPackets: rtp.length };
}
