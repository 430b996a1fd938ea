// Two Palisade "offices" linked by a trunk (SIP or IAX2), each with a
// baresip phone: what the trunk tests read of an office (a `palisade show`
// table, its CDR rows in the SQLite file) and how they start its phone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from './palisade-process.js';
import { Baresip, findFreePort } from './baresip.js';
import { analyseWav, makeToneWav } from './audio.js';
import { waitFor } from './wait.js';
import { freeLocalPorts } from './sipp.js';
import { repoRoot } from './paths.js';

/** `palisade show WHAT` of a running office */
/** on a failure: the last lines each office logged that match `about` (the trunk, the routes, the channels...) */
export function dumpOffices(offices: Record<string, PalisadeProcess>, about: RegExp): void {
  for (const [n, p] of Object.entries(offices))
    console.error(
      `office ${n}:\n${p.lines
        .filter((l) => about.test(l))
        .slice(-40)
        .join('\n')}`,
    );
}

export function show(p: PalisadeProcess, what: string): string {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'show', what, '--config', p.configPath], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** the office's CDR rows, oldest first */
export function cdrRows(p: PalisadeProcess): Array<Record<string, unknown>> {
  const db = new Database(join(p.dir, 'palisade.db'), { readonly: true });
  try {
    return db.prepare('SELECT src, dst, dcontext, channel, dstchannel, disposition, billsec FROM cdr ORDER BY start').all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** a registered baresip phone of the office that answers at once and sends a tone of `toneHz` (`sipTrace`: its SIP in its log) */
export async function officePhone(p: PalisadeProcess, name: string, user: string, secret: string, toneHz: number, sipTrace = false): Promise<Baresip> {
  const wav = join(p.dir, `${name}.wav`);
  makeToneWav(wav, toneHz, 40, 0.3);
  const [rtp] = (await freeLocalPorts(1, 100)) as [number];
  const b = new Baresip({
    name,
    baseDir: p.dir,
    user,
    domain: `127.0.0.1:${p.sipPort}`,
    password: secret,
    regint: 600,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: wav,
    rtpPorts: [rtp, rtp + 99],
    answerMode: 'auto',
    maxLifetimeSec: 120,
    sipTrace,
  });
  await b.start();
  await b.waitRegistered(8000);
  return b;
}

/** every recording the phone decoded holds `hz` for at least 1.5 s: it heard `who` in each of its calls (at least `calls`) */
export function assertHeard(phone: Baresip, who: string, hz: number, calls: number): void {
  const files = phone.recordings().dec;
  assert.ok(files.length >= calls, `${phone.opts.name} recorded ${files.length} calls of ${calls}`);
  for (const f of files) {
    const x = analyseWav(f);
    assert.ok(x.activeSec >= 1.5, `${phone.opts.name} heard ${who} for ${x.activeSec} s in ${f}`);
    assert.ok(Math.abs(x.dominantHz - hz) < 30, `${phone.opts.name} heard ${x.dominantHz} Hz`);
  }
}

/** the office's CDR rows once it holds at least `n` (they are written when the channels end) */
export function cdrRowsOnce(p: PalisadeProcess, n: number, where: string): Promise<Array<Record<string, unknown>>> {
  return waitFor(
    `CDR rows at office ${where}`,
    () => {
      const r = cdrRows(p);
      return r.length >= n ? r : undefined;
    },
    10_000,
  );
}

/** what an office's palisade.yaml holds beyond startPalisade's own lines, for the IAX2 trunk tests */
export interface Iax2OfficeYaml {
  /** its one extension, with a SIP phone */
  extension?: { number: string; name: string; secret: string };
  /** the port of `iax2.listen` on 127.0.0.1 */
  iaxPort: number;
  /** further lines of the iax2 section (`refresh: 10`...) */
  iax2?: string[];
  /** its trunks to the other office (or a provider): IAX2 with `iax` (a port, or dynamic), else SIP with `sip` */
  trunks: Array<{ name: string; iax?: number | 'dynamic'; sip?: number; username?: string; secret?: string; extra?: string[] }>;
  outbound?: Array<{ name: string; match: string; trunk: string; extra?: string[] }>;
  /** patterns of inbound routes to `${EXTEN}` */
  inbound?: string[];
  /** further top-level lines (`registrar:`, `  qualify_interval: 0`...) */
  more?: string[];
}

/** the YAML lines of an office linked by IAX2 (startPalisade's extraYaml) */
export function iax2OfficeYaml(o: Iax2OfficeYaml): string {
  const lines: string[] = [];
  if (o.extension) lines.push('extensions:', `  - { number: "${o.extension.number}", name: ${o.extension.name}, secret: "${o.extension.secret}", context: internal }`);
  lines.push('iax2:', `  listen: ["udp:127.0.0.1:${o.iaxPort}"]`, ...(o.iax2 ?? []).map((l) => `  ${l}`));
  lines.push('trunks:');
  for (const t of o.trunks) {
    lines.push(`  - name: ${t.name}`);
    if (t.iax !== undefined) lines.push('    type: iax2', ...(t.iax === 'dynamic' ? ['    host: dynamic'] : ['    host: 127.0.0.1', `    port: ${t.iax}`]));
    else lines.push('    host: 127.0.0.1', `    port: ${t.sip}`);
    if (t.username) lines.push(`    username: "${t.username}"`);
    if (t.secret) lines.push(`    secret: "${t.secret}"`);
    lines.push(...(t.extra ?? []).map((l) => `    ${l}`));
  }
  if (o.outbound?.length || o.inbound?.length) lines.push('routes:');
  if (o.outbound?.length) {
    lines.push('  outbound:');
    for (const r of o.outbound) lines.push(`    - name: ${r.name}`, `      match: ["${r.match}"]`, `      trunks: [${r.trunk}]`, ...(r.extra ?? []).map((l) => `      ${l}`));
  }
  if (o.inbound?.length) {
    lines.push('  inbound:');
    for (const did of o.inbound) lines.push(`    - did: "${did}"`, '      to: "${EXTEN}"');
  }
  lines.push(...(o.more ?? []));
  return lines.join('\n');
}

/** an office on SIP port `sipPort` (UDP) with the IAX2 lines iax2OfficeYaml() writes */
export function startIax2Office(sipPort: number, o: Iax2OfficeYaml): Promise<PalisadeProcess> {
  return startPalisade({ sipPort, transports: ['udp'], extraYaml: iax2OfficeYaml(o) });
}
