// The security log: every security event as a line in Asterisk's format
// (for fail2ban / OSSEC / Wazuh), as a JSON object, or both, appended to one
// file. Writes are buffered by a write stream so the packet path never waits
// on the disk. Events carry no secrets by construction; the formatter strips
// quotes and control characters from what attackers control.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { SecurityEvent } from '../../core/security-event.js';
import { formatAsteriskLine, asteriskAddress } from './asterisk-format.js';

export type SecurityLogFormat = 'asterisk' | 'json' | 'both';

export interface SecurityLogOptions {
  file: string;
  format: SecurityLogFormat;
  /** events below this level are not written (0 = everything) */
  minLevel?: number;
}

export function formatJsonLine(ev: SecurityEvent): string {
  const rec: Record<string, unknown> = {
    time: new Date(ev.time).toISOString(),
    event: ev.type,
    level: ev.level,
    service: ev.service,
  };
  if (ev.account !== undefined) rec.account = ev.account;
  if (ev.sessionId !== undefined) rec.session = ev.sessionId;
  if (ev.remote !== undefined) {
    rec.remote = ev.remote.address;
    rec.remote_port = ev.remote.port;
    rec.transport = ev.remote.transport;
  }
  if (ev.local !== undefined) rec.local = asteriskAddress(ev.local);
  if (ev.detail !== undefined) rec.detail = ev.detail;
  if (ev.extra !== undefined) rec.extra = ev.extra;
  return JSON.stringify(rec);
}

/** past this many bytes waiting for the disk, lines are dropped (and counted) rather than buffered */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

export class SecurityLog {
  private stream: WriteStream;
  written = 0;
  errors = 0;
  /** lines not written because the disk could not keep up (memory stays bounded under attack) */
  dropped = 0;

  constructor(
    private readonly o: SecurityLogOptions,
    onError: (err: Error) => void = () => {},
  ) {
    mkdirSync(dirname(o.file), { recursive: true });
    this.stream = createWriteStream(o.file, { flags: 'a', mode: 0o640 });
    this.stream.on('error', (err) => {
      this.errors++;
      onError(err);
    });
  }

  write(ev: SecurityEvent): void {
    if (ev.level < (this.o.minLevel ?? 0)) return;
    if (this.stream.writableLength > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    let out = '';
    if (this.o.format !== 'json') out += formatAsteriskLine(ev) + '\n';
    if (this.o.format !== 'asterisk') out += formatJsonLine(ev) + '\n';
    this.stream.write(out);
    this.written++;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}
