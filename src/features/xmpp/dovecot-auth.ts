// The authentication link Prosody uses to check Palisade's users: the
// Dovecot authentication protocol (version 1), server side, on a Unix
// socket. Prosody's mod_auth_dovecot (Debian's prosody-modules) connects,
// reads our handshake, and for each login sends
//   AUTH <id> PLAIN service=xmpp resp=<base64 of [authzid]\0user\0password>
// to which we answer OK <id> user=<user> or FAIL <id> user=<user>.
//
// Why this link: extensions' digest secrets are stored as HA1 only
// (MD5(user:realm:password), and/or its SHA-256 form; src/sip/auth/ha1.ts), so
// Palisade can verify a password it is given but can never hand one out.
// SASL PLAIN gives us the password: we compute its HA1 for the SIP realm and
// compare, in constant time. An unknown user costs the same work and gets the
// same FAIL, so the link says nothing about which accounts exist. The socket
// is created mode 0660: only Prosody's group may ask. Prosody offers PLAIN
// only on TLS (c2s_require_encryption; `palisade audit` checks its config).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';

export interface XmppAuthDeps {
  realm: string;
  /** the stored HA1 values of an extension (hex), undefined when there is no such extension */
  ha1Of(user: string): { md5?: string; sha256?: string } | undefined;
  maxFailures: number;
  /** each login's outcome, for the security log (no password in it) */
  outcome(o: { ok: boolean; user: string; reason?: 'unknown' | 'password' | 'locked' }): void;
  clock?: () => number;
}

const LINE_MAX = 8192;

export class DovecotAuthServer {
  private server: Server | null = null;
  private readonly failures = new Map<string, { n: number; since: number }>();
  private readonly clock: () => number;
  private cuid = 0;
  readonly stats = { logins: 0, failures: 0, locked: 0 };

  constructor(private readonly d: XmppAuthDeps) {
    this.clock = d.clock ?? Date.now;
  }

  async listen(path: string): Promise<void> {
    if (existsSync(path)) unlinkSync(path);
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(path, () => res());
    });
    chmodSync(path, 0o660);
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private serve(sock: Socket): void {
    sock.setEncoding('utf8');
    // Dovecot's handshake: version, mechanisms, our pid, connection id, cookie, DONE
    sock.write(
      `VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t${process.pid}\nCUID\t${++this.cuid}\nCOOKIE\t${createHash('md5').update(`${this.cuid}${this.clock()}`).digest('hex')}\nDONE\n`,
    );
    let buf = '';
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > LINE_MAX && buf.indexOf('\n') < 0) return void sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const reply = this.answer(line);
        if (reply) sock.write(`${reply}\n`);
      }
    });
    sock.on('error', () => undefined);
  }

  /** one request line; the reply line or null (VERSION, CPID need none) */
  answer(line: string): string | null {
    const parts = line.split('\t');
    if (parts[0] !== 'AUTH') return null;
    const id = parts[1] ?? '';
    if (!/^\d{1,10}$/.test(id)) return `FAIL\t0`;
    if (parts[2] !== 'PLAIN') return `FAIL\t${id}\treason=unsupported mechanism`;
    const resp =
      parts
        .slice(3)
        .find((p) => p.startsWith('resp='))
        ?.slice(5) ?? '';
    const [authz, user, password] = Buffer.from(resp, 'base64').toString('utf8').split('\0');
    if (user === undefined || password === undefined || user === '' || (authz !== '' && authz !== user)) return `FAIL\t${id}`;
    return this.verify(id, user, password);
  }

  private verify(id: string, user: string, password: string): string {
    const safeUser = user.replace(/[\t\n\r]/g, '').slice(0, 64);
    const now = this.clock();
    const f = this.failures.get(safeUser);
    if (f && now - f.since >= 60_000) this.failures.delete(safeUser);
    const stored = this.d.ha1Of(user);
    // the same hashing whether or not the account exists
    const md5 = createHash('md5').update(`${user}:${this.d.realm}:${password}`).digest();
    const sha = createHash('sha256').update(`${user}:${this.d.realm}:${password}`).digest();
    const ok = stored !== undefined && (same(md5, stored.md5) || same(sha, stored.sha256));
    const locked = (this.failures.get(safeUser)?.n ?? 0) >= this.d.maxFailures;
    if (locked) {
      // a guesser is slowed down whether it guesses right or wrong; a temporary failure tells Prosody to say so
      this.stats.locked++;
      this.d.outcome({ ok: false, user: safeUser, reason: 'locked' });
      return `FAIL\t${id}\tuser=${safeUser}\ttemp`;
    }
    if (ok) {
      this.stats.logins++;
      this.failures.delete(safeUser);
      this.d.outcome({ ok: true, user: safeUser });
      return `OK\t${id}\tuser=${safeUser}`;
    }
    this.stats.failures++;
    if (this.failures.size > 100_000) this.failures.clear();
    const cur = this.failures.get(safeUser) ?? { n: 0, since: now };
    cur.n++;
    this.failures.set(safeUser, cur);
    this.d.outcome({ ok: false, user: safeUser, reason: stored === undefined ? 'unknown' : 'password' });
    return `FAIL\t${id}\tuser=${safeUser}`;
  }
}

function same(got: Buffer, hex: string | undefined): boolean {
  if (!hex || hex.length !== got.length * 2) return false;
  return timingSafeEqual(got, Buffer.from(hex, 'hex'));
}
