// Talks to a running Palisade's control socket the way the CLI does: one
// JSON request line, one JSON answer line.
import net from 'node:net';

export async function controlCommand(socketPath: string, cmd: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`control command ${cmd}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(JSON.stringify({ cmd, args }) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(t);
      s.end();
      const reply = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
      if (reply.ok) resolve(reply.result);
      else reject(new Error(`control command ${cmd}: ${reply.error}`));
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
