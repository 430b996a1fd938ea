// "udp:127.0.0.1:5060" / "tcp:[::1]:5060" — the textual form of a ListenPoint
// used in the config, in logs and in the CLI.
import { isIPv4, isIPv6 } from 'node:net';
import type { ListenPoint, TransportKind } from '../transport/types.js';

/** Transports the SIP stack serves today; ws/wss join when their listeners exist. */
export const SUPPORTED_TRANSPORTS: readonly TransportKind[] = ['udp', 'tcp', 'tls'];

const EXAMPLE = 'expected TRANSPORT:ADDRESS:PORT such as udp:127.0.0.1:5060 or tcp:[::1]:5060';

/** Returns the listen point, or a message saying what is wrong and what is expected. */
export function parseListen(text: string): ListenPoint | string {
  const colon = text.indexOf(':');
  if (colon <= 0) return `lacks a transport; ${EXAMPLE}`;
  const transport = text.slice(0, colon).toLowerCase();
  if (!(SUPPORTED_TRANSPORTS as readonly string[]).includes(transport)) {
    return `has transport "${transport}"; supported transports are ${SUPPORTED_TRANSPORTS.join(', ')} (${EXAMPLE})`;
  }
  const rest = text.slice(colon + 1);
  let address: string;
  let portText: string | null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return `has an unclosed [ in the IPv6 address; ${EXAMPLE}`;
    address = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after === '') portText = null;
    else if (after[0] !== ':') return `has "${after}" after the IPv6 address; ${EXAMPLE}`;
    else portText = after.slice(1);
    if (!isIPv6(address)) return `has "${address}", which is not an IPv6 address; ${EXAMPLE}`;
  } else {
    const last = rest.lastIndexOf(':');
    if (last >= 0 && rest.indexOf(':') !== last) {
      return `has an IPv6 address without brackets; write it as ${transport}:[${rest.replace(/:\d+$/, '')}]:5060`;
    }
    address = last >= 0 ? rest.slice(0, last) : rest;
    portText = last >= 0 ? rest.slice(last + 1) : null;
    if (!isIPv4(address)) {
      return isIPv6(address)
        ? `has an IPv6 address without brackets; write it as ${transport}:[${address}]:5060`
        : `has "${address}", which is not an IP address (host names are not allowed here); ${EXAMPLE}`;
    }
  }
  if (portText === null || portText === '') return `lacks a port; ${EXAMPLE}`;
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `has port "${portText}"; expected a port 1..65535 (${EXAMPLE})`;
  }
  return { transport: transport as TransportKind, address, port: Number(portText) };
}

/** "udp:127.0.0.1:5060", "tcp:[::1]:5060" (the transport's own writer) */
export { formatListenPoint as formatListen } from '../transport/address.js';
