// The local control socket the `palisade` CLI talks to: a Unix socket (mode
// 0600, so only the service's user and root can use it), one JSON request per
// line, one JSON answer per line. It is never a network port.
import net from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { PalisadeError } from '../core/errors.js';

export type ControlHandler = (cmd: string, args: Record<string, unknown>) => Promise<unknown> | unknown;

export class ControlServer {
  private server?: net.Server;
  constructor(
    private readonly path: string,
    private readonly handler: ControlHandler,
  ) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    if (existsSync(this.path)) {
      // A socket left by a killed process: refuse to steal one a live server answers on.
      if (await isAlive(this.path)) throw new PalisadeError('PAL_ERR_CONTROL', `control socket ${this.path} is in use by a running Palisade`);
      unlinkSync(this.path);
    }
    const server = net.createServer((sock) => this.serve(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
  }

  private serve(sock: net.Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 65536) return void sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.answer(sock, line);
      }
    });
  }

  private async answer(sock: net.Socket, line: string): Promise<void> {
    let reply: unknown;
    try {
      const req = JSON.parse(line) as { cmd?: unknown; args?: unknown };
      if (typeof req.cmd !== 'string') throw new Error('missing "cmd"');
      const args = req.args && typeof req.args === 'object' ? (req.args as Record<string, unknown>) : {};
      reply = { ok: true, result: await this.handler(req.cmd, args) };
    } catch (err) {
      reply = { ok: false, error: (err as Error).message };
    }
    if (!sock.destroyed) sock.write(JSON.stringify(reply) + '\n');
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** client side, used by the CLI */
export function controlRequest(path: string, cmd: string, args: Record<string, unknown> = {}, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new PalisadeError('PAL_ERR_CONTROL', `no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new PalisadeError('PAL_ERR_CONTROL', `cannot reach Palisade's control socket ${path}: ${err.message} (is it running?)`));
    });
    sock.once('connect', () => sock.write(JSON.stringify({ cmd, args }) + '\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.destroy();
      try {
        const r = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
        if (r.ok) resolve(r.result);
        else reject(new PalisadeError('PAL_ERR_CONTROL', r.error ?? 'error'));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
