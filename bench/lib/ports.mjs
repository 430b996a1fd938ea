// Free loopback ports for this run. Other test runs (and other people's
// SIPp and Kamailio instances) share the machine, so fixed ports collide;
// every port is probed with a real bind (UDP and TCP) before use.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function udpFree(port) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * `count` blocks of `span` consecutive free ports (UDP and TCP), searched
 * upward from `from`; returns the first port of each block.
 */
export async function freePortBlocks(count, span = 1, from = 20000, to = 60000) {
  const out = [];
  let p = from;
  while (out.length < count && p + span <= to) {
    let ok = true;
    for (let i = 0; i < span && ok; i++) ok = (await udpFree(p + i)) && (await tcpFree(p + i));
    if (ok) {
      out.push(p);
      p += span;
    } else {
      p += 1;
    }
  }
  if (out.length < count) throw new Error(`no ${count} free port blocks of ${span} in ${from}..${to}`);
  return out;
}
