// Learned calling profiles survive a restart: loaded from the database when
// the guard starts, and every profile a call changed written behind. The
// call path only marks its principal dirty (a Map entry in a
// CoalescingWriter): the writes are coalesced per principal, so a busy
// extension's many calls are one row, in one batch at most `delayMs` after
// the first change, and flushed on stop. A write that fails is logged and
// its profiles are written again with the next batch.
// A profile dropped from memory (its principal is gone, or it is too old)
// goes through the same writer: a principal without a profile at write time
// has its row deleted. So the delete and a write of the old profile queued
// or running just before it are one sequence, never a race that puts the
// row back.
import { CoalescingWriter } from '../../storage/coalescing-writer.js';
import type { CallingProfileRepo, CallingProfileRow } from '../../storage/calling-profile-repo.js';
import type { CallingProfiles } from './calling-profile.js';

export class CallingProfileStore {
  private readonly writer: CoalescingWriter<string>;
  /** principals whose last write failed */
  private readonly unsaved = new Set<string>();

  constructor(
    private readonly profiles: CallingProfiles,
    private readonly repo: CallingProfileRepo,
    private readonly onError: (err: Error) => void,
    delayMs = 2000,
    private readonly clock: () => number = Date.now,
  ) {
    this.writer = new CoalescingWriter<string>((ids) => this.write(ids), delayMs);
  }

  /** loads every stored profile; returns how many */
  async restore(): Promise<number> {
    const rows = await this.repo.loadAll();
    const now = this.clock();
    for (const r of rows) this.profiles.load(r.principal, r, now);
    return rows.length;
  }

  /** from now on each change is written behind */
  start(): void {
    // write() reports its own errors, once per batch
    this.profiles.onChange = (id) => void this.writer.submit(id, id).catch(() => {});
  }

  /** deletes the rows of profiles dropped from memory (CallingProfiles.drop); resolves once written or failed (then retried with the next write) */
  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) void this.writer.submit(id, id).catch(() => {});
    await this.writer.flush();
  }

  /** stops taking changes and writes what is pending */
  async stop(): Promise<void> {
    this.profiles.onChange = null;
    for (const id of this.unsaved) void this.writer.submit(id, id).catch(() => {});
    await this.writer.flush();
  }

  private async write(ids: string[]): Promise<void> {
    const all = new Set([...this.unsaved, ...ids]);
    this.unsaved.clear();
    const now = this.clock();
    const rows: CallingProfileRow[] = [];
    const gone: string[] = [];
    for (const principal of all) {
      const s = this.profiles.state(principal, now);
      if (s) rows.push({ principal, ...s });
      else gone.push(principal);
    }
    try {
      await this.repo.deleteMany(gone);
      await this.repo.saveMany(rows);
    } catch (err) {
      for (const id of all) this.unsaved.add(id);
      this.onError(err as Error);
    }
  }
}
