// The sockets of a steered group (src/transport/steered-udp.ts) read in the
// test's own process, and senders bound at chosen source addresses: which
// socket each source's datagrams reached.
import dgram from 'node:dgram';

/** the group's sockets as dgram sockets; which one each datagram reached, by source address */
export function receiveThrough(fds: number[], family: 'udp4' | 'udp6') {
  const got = new Map<string, Set<number>>();
  const sockets = fds.map((fd, i) => {
    const s = dgram.createSocket(family);
    s.bind({ fd, exclusive: true });
    s.on('message', (_m, r) => {
      const seen = got.get(r.address) ?? new Set<number>();
      seen.add(i);
      got.set(r.address, seen);
    });
    return s;
  });
  // bind({ fd }) is synchronous: the socket is bound at once
  return { got, sockets, port: sockets[0]!.address().port };
}

/** `n` datagrams to to:port from a socket bound at `from` */
export async function sendFrom(family: 'udp4' | 'udp6', from: string, to: string, port: number, n: number): Promise<void> {
  const s = dgram.createSocket(family);
  await new Promise<void>((r) => s.bind(0, from, () => r()));
  for (let i = 0; i < n; i++) s.send(`probe ${i}`, port, to);
  await new Promise((r) => setTimeout(r, 20));
  s.close();
}
