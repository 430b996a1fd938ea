// Runs one SIPp client to completion under `timeout` and /usr/bin/time, and
// returns its final statistics (from -trace_stat's CSV) and its own CPU time.
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { track } from './procs.mjs';

/**
 * Last row of a SIPp -trace_stat CSV (';'-separated, header row first) as an
 * object keyed by column name.
 */
export function lastStatRow(path) {
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  if (lines.length < 2) return null;
  const head = lines[0].split(';');
  const row = lines[lines.length - 1].split(';');
  const out = {};
  head.forEach((h, i) => {
    if (h) out[h] = row[i];
  });
  return out;
}

/** "00:00:20" (trace_stat) or "00:00:20:015000" (screen) -> seconds. */
function hmsus(v) {
  const p = String(v ?? '')
    .split(':')
    .map(Number);
  if (p.length < 3) return NaN;
  return p[0] * 3600 + p[1] * 60 + p[2] + (p.length > 3 ? p[3] / 1e6 : 0);
}

export function summarize(row) {
  if (!row) return null;
  const n = (k) => Number(row[k] ?? NaN);
  return {
    successful: n('SuccessfulCall(C)'),
    failed: n('FailedCall(C)'),
    created: n('TotalCallCreated'),
    retransmissions: n('Retransmissions(C)'),
    elapsedS: hmsus(row['ElapsedTime(C)']),
    callRate: n('CallRate(C)'),
    targetRate: n('TargetRate'),
    outOfCall: n('OutOfCallMsgs(C)'),
    deadCall: n('DeadCallMsgs(C)'),
  };
}

/**
 * @param {object} o
 * @param {string} o.scenario  path of the XML
 * @param {string} o.target    host:port
 * @param {string[]} o.args    further SIPp arguments
 * @param {string} o.dir       working directory (stat/err files land here)
 * @param {string} o.name      file prefix
 * @param {number} o.limitS    hard wall-clock limit (timeout -k)
 * @param {(pid:number)=>void} [o.onStart]
 */
export function runSippClient(o) {
  const stat = join(o.dir, `${o.name}.stat.csv`);
  const err = join(o.dir, `${o.name}.err.log`);
  const timeFile = join(o.dir, `${o.name}.time`);
  const args = [
    '-k',
    '5',
    String(Math.ceil(o.limitS)),
    '/usr/bin/time',
    '-f',
    '%U %S %e',
    '-o',
    timeFile,
    'sipp',
    '-sf',
    o.scenario,
    '-nostdin',
    '-buff_size',
    '4194304',
    '-trace_stat',
    '-stf',
    stat,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    err,
    ...o.args,
    o.target,
  ];
  return new Promise((resolve) => {
    const child = spawn('timeout', args, { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    track(child);
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 4096) stderr += d;
    });
    o.onStart?.(child.pid);
    child.on('exit', (code) => {
      let cpuS = NaN;
      let wallS = NaN;
      try {
        const t = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        cpuS = t[0] + t[1];
        wallS = t[2];
      } catch {
        /* killed before time wrote */
      }
      resolve({ code, stats: summarize(lastStatRow(stat)), cpuS, wallS, stderr: stderr.trim(), errFile: err });
    });
  });
}
