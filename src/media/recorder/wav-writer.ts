// Writes 8 kHz mono 16-bit PCM WAV files. The header is written first with
// the sizes so far and fixed up on every flush (about once a second) and on
// close, so a file cut short by a crash is still a valid WAV up to its last
// flush; readers that trust the file length get the rest too.
import { closeSync, openSync, writeSync } from 'node:fs';

const RATE = 8000;
const FLUSH_BYTES = 16000; // 1 s

function header(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export class WavWriter {
  private fd: number | null;
  private dataBytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', 0o640);
    writeSync(this.fd, header(0), 0, 44, 0);
  }

  get durationMs(): number {
    return ((this.dataBytes + this.pendingBytes) / 2 / RATE) * 1000;
  }

  write(pcm: Int16Array): void {
    if (this.fd === null) return;
    const b = Buffer.alloc(pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i]!, i * 2);
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    writeSync(this.fd, data, 0, data.length, 44 + this.dataBytes);
    this.dataBytes += data.length;
    this.pending = [];
    this.pendingBytes = 0;
    writeSync(this.fd, header(this.dataBytes), 0, 44, 0);
  }

  /** drop the last `ms` of audio (the silence that ended a recording, the '#' key) */
  trimEnd(ms: number): void {
    this.flush();
    const bytes = Math.min(this.dataBytes, Math.floor((ms * RATE) / 1000) * 2);
    this.dataBytes -= bytes;
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    writeSync(this.fd, header(this.dataBytes), 0, 44, 0);
    // the file may be longer than dataBytes after trimEnd; readers use the header
    closeSync(this.fd);
    this.fd = null;
  }
}
