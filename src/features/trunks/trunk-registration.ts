// Outbound registration of a SIP trunk (RFC 3261 §10.2): Palisade registers
// to the far end as the trunk's username, answers its 401/407 with digest
// (digest-client.ts), refreshes before the binding expires and, when a
// registration fails (no answer, an error, credentials refused), tries
// again after a back-off that doubles from retry_interval up to ten times
// it. The state shows in `palisade status` and `palisade show trunks`.
import { SipMessage } from '../../sip-message/sip-message.js';
import { newToken } from '../../sip/dialog/dialog.js';
import { formatHost } from '../../transport/address.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import type { ClientTxHandle, ClientTxHandlers } from '../../sip/b2bua/types.js';
import type { Logger } from '../../observability/logger.js';
import { digestCredentials, readChallenge } from './digest-client.js';
import type { TrunkConfig } from './trunk-config.js';

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export interface RegistrationHost {
  sendRequest(req: SipMessage, remote: Remote, h: ClientTxHandlers): ClientTxHandle;
  localFor(remote: Remote): ListenPoint;
  userAgent: string;
  /** where to send: the trunk's targets, best first (sip-target.ts) */
  resolve(): Promise<Remote[]>;
  log: Logger;
  /** timers (a fake clock in tests) */
  setTimer(ms: number, fn: () => void): { cancel(): void };
  now(): number;
}

export interface RegistrationStatus {
  state: RegistrationState;
  /** the far end we registered with (address:port) */
  server: string | null;
  /** seconds granted by the far end */
  expires: number | null;
  /** epoch ms of the last 2xx */
  registeredAt: number | null;
  /** registrations accepted so far (the first and every refresh) */
  registrations: number;
  failures: number;
  /** the last failure: a status line or "timeout" */
  lastError: string | null;
  /** epoch ms of the next REGISTER (refresh or retry) */
  nextAttemptAt: number | null;
}

export class TrunkRegistration {
  private readonly callId = `${newToken()}@palisade-trunk`;
  private readonly fromTag = newToken();
  private cseq = 0;
  private timer: { cancel(): void } | null = null;
  private retryMs: number;
  private stopped = false;
  private target: Remote | null = null;
  /** the binding stands (registered and not failed since): a new 2xx is a refresh */
  private bound = false;
  readonly status: RegistrationStatus = {
    state: 'idle',
    server: null,
    expires: null,
    registeredAt: null,
    registrations: 0,
    failures: 0,
    lastError: null,
    nextAttemptAt: null,
  };

  constructor(
    private readonly trunk: TrunkConfig,
    private readonly host: RegistrationHost,
  ) {
    this.retryMs = trunk.retryInterval * 1000;
  }

  start(): void {
    this.stopped = false;
    void this.attempt(this.trunk.expiry);
  }

  /** stop refreshing; with `unregister`, remove our binding at the far end (Expires: 0) */
  stop(unregister = true): void {
    this.timer?.cancel();
    this.timer = null;
    const wasRegistered = this.bound;
    this.bound = false;
    this.stopped = true;
    this.status.state = 'stopped';
    this.status.nextAttemptAt = null;
    if (unregister && wasRegistered && this.target) this.send(this.target, 0, null, () => {});
  }

  /** our Contact: where the far end sends calls for the trunk */
  private contact(remote: Remote): string {
    const l = this.host.localFor(remote);
    const t = remote.transport === 'udp' ? '' : `;transport=${remote.transport}`;
    return `<sip:${this.trunk.username}@${formatHost(l.address)}:${l.port}${t}>`;
  }

  private registrarUri(): string {
    const t = this.trunk;
    return `sip:${t.host.includes(':') && !t.host.startsWith('[') ? `[${t.host}]` : t.host}${t.portGiven ? `:${t.port}` : ''}`;
  }

  private async attempt(expires: number): Promise<void> {
    if (this.stopped) return;
    // a refresh keeps the state: the binding stands until it expires or the refresh fails; a retry
    // after a failure stays failed until the far end's answer says otherwise
    if (!this.bound && this.status.state !== 'failed') this.status.state = 'registering';
    this.status.nextAttemptAt = null;
    let targets: Remote[];
    try {
      targets = await this.host.resolve();
    } catch {
      targets = [];
    }
    if (targets.length === 0) return this.failed('no address for the host');
    this.tryTarget(targets, 0, expires);
  }

  /** RFC 3263 §4.3: no answer or 503 from one target moves on to the next */
  private tryTarget(targets: Remote[], i: number, expires: number): void {
    const target = targets[i]!;
    this.send(target, expires, null, (outcome) => {
      if (this.stopped) return;
      if (outcome.ok) {
        this.target = target;
        this.registered(target, outcome.expires);
        return;
      }
      if (outcome.moveOn && i + 1 < targets.length) return this.tryTarget(targets, i + 1, expires);
      if (outcome.minExpires && outcome.minExpires > expires) return this.tryTarget(targets, i, outcome.minExpires);
      this.failed(outcome.error);
    });
  }

  private send(
    target: Remote,
    expires: number,
    auth: { header: string; value: string } | null,
    done: (o: { ok: true; expires: number } | { ok: false; error: string; moveOn: boolean; minExpires?: number }) => void,
    authTries = 0,
  ): void {
    const t = this.trunk;
    const req = new SipMessage();
    req.method = 'REGISTER';
    req.uri = this.registrarUri();
    const aor = `<sip:${t.username}@${t.host}>`;
    req.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `${aor};tag=${this.fromTag}` },
      { name: 'to', value: aor },
      { name: 'call-id', value: this.callId },
      { name: 'cseq', value: `${++this.cseq} REGISTER` },
      { name: 'contact', value: this.contact(target) },
      { name: 'expires', value: String(expires) },
      { name: 'user-agent', value: this.host.userAgent },
    );
    if (auth) req.headers.push({ name: auth.header, value: auth.value });
    this.host.sendRequest(req, target, {
      onResponse: (res) => {
        if (res.status < 200) return;
        if (res.status < 300) {
          done({ ok: true, expires: grantedExpires(res, expires) });
          return;
        }
        if ((res.status === 401 || res.status === 407) && authTries < 1 && t.username && t.secret !== null) {
          const c = readChallenge(res);
          if (c) {
            // RFC 3261 §22.2: the same request again, with credentials and a new CSeq
            const value = digestCredentials(c, { method: 'REGISTER', uri: req.uri, username: t.username, secret: t.secret, nc: 1 });
            this.send(target, expires, { header: c.header, value }, done, authTries + 1);
            return;
          }
        }
        const minExpires = res.status === 423 ? Number(res.get('min-expires')) || undefined : undefined;
        done({ ok: false, error: `${res.status} ${res.reason}`, moveOn: res.status === 503 || res.status === 408, minExpires });
      },
      onTimeout: () => done({ ok: false, error: 'timeout', moveOn: true }),
    });
  }

  private registered(target: Remote, expires: number): void {
    const s = this.status;
    const first = !this.bound;
    this.bound = true;
    s.state = 'registered';
    s.server = `${target.transport}:${formatHost(target.address)}:${target.port}`;
    s.expires = expires;
    s.registeredAt = this.host.now();
    s.registrations++;
    s.lastError = null;
    this.retryMs = this.trunk.retryInterval * 1000;
    // refresh well before expiry: at 85 % of the interval, and at least 5 s before it ends
    const refreshMs = Math.max(1000, Math.min(expires * 850, (expires - 5) * 1000));
    this.schedule(refreshMs, () => void this.attempt(this.trunk.expiry));
    this.host.log.info(first ? 'trunk-registered' : 'trunk-refreshed', { trunk: this.trunk.name, server: s.server, expires });
  }

  private failed(error: string): void {
    const s = this.status;
    this.bound = false;
    s.state = 'failed';
    s.failures++;
    s.lastError = error;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.trunk.retryInterval * 10_000);
    this.schedule(wait, () => void this.attempt(this.trunk.expiry));
    this.host.log.warn('trunk-registration-failed', { trunk: this.trunk.name, error, retry_in_s: Math.round(wait / 1000) });
  }

  private schedule(ms: number, fn: () => void): void {
    this.timer?.cancel();
    this.status.nextAttemptAt = this.host.now() + ms;
    this.timer = this.host.setTimer(ms, fn);
  }
}

/** RFC 3261 §10.2.4: our Contact's expires parameter in the 2xx, else its Expires header, else what we asked */
function grantedExpires(res: SipMessage, asked: number): number {
  for (const c of res.contacts) {
    const e = Number(c.params.expires);
    if (Number.isFinite(e) && e > 0) return e;
  }
  const h = Number(res.get('expires'));
  return Number.isFinite(h) && h > 0 ? h : asked;
}
