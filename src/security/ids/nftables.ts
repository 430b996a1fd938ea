// Optional mirroring of bans into an nftables set, so the kernel drops a
// banned address before Palisade even sees the packet. The set must exist
// (with `flags timeout`); see docs/configuration.md for the commands. nft is
// run without a shell, one element per call; failures are reported, never fatal.
import { execFile } from 'node:child_process';
import { isIPv6 } from 'node:net';

export interface NftOptions {
  /** address family of the table: inet, ip, ip6 */
  family: string;
  table: string;
  /** set of type ipv4_addr */
  set: string;
  /** set of type ipv6_addr */
  set6: string;
  /** the nft binary */
  nft?: string;
}

/** argv for `nft add element` with a timeout, or `nft delete element` */
export function nftArgs(o: NftOptions, op: 'add' | 'delete', address: string, seconds?: number): string[] {
  const set = isIPv6(address) ? o.set6 : o.set;
  const elem = op === 'add' && seconds !== undefined ? `{ ${address} timeout ${Math.max(1, Math.round(seconds))}s }` : `{ ${address} }`;
  return [op, 'element', o.family, o.table, set, elem];
}

export class NftMirror {
  errors = 0;
  constructor(
    private readonly o: NftOptions,
    private readonly onError: (err: Error, args: string[]) => void = () => {},
    private readonly onDone: (args: string[]) => void = () => {},
  ) {}

  add(address: string, seconds: number): void {
    this.run(nftArgs(this.o, 'add', address, seconds));
  }

  remove(address: string): void {
    this.run(nftArgs(this.o, 'delete', address));
  }

  private run(args: string[]): void {
    execFile(this.o.nft ?? 'nft', args, { timeout: 5000 }, (err, _out, stderr) => {
      if (err) {
        this.errors++;
        this.onError(new Error(`${err.message.split('\n')[0]} ${String(stderr).trim()}`.trim()), args);
      } else this.onDone(args);
    });
  }
}
