// The `queues:` section of palisade.yaml, and the queues.conf it names:
//
//   queues:
//     file: queues.conf            # Asterisk's syntax (queues-conf.ts)
//     log_file: var/queue_log      # Asterisk's queue_log format; '' = no file
//     log_database: true           # the queue_log table (statistics per day)
//
// queues.conf problems are reported with its own file:line:col, together
// with the YAML's, by `palisade check` and at start.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import { parseQueuesConf, type QueuesConf } from './queues-conf.js';

export interface QueuesConfig {
  file: string | null;
  logFile: string | null;
  logDatabase: boolean;
  conf: QueuesConf;
}

export function emptyQueuesConfig(): QueuesConfig {
  return { file: null, logFile: null, logDatabase: false, conf: { general: { persistentmembers: false, autofill: true, sharedLastcall: true }, queues: [] } };
}

export function readQueues(m: MapReader, cfg: Pick<PalisadeConfig, 'baseDir'>): QueuesConfig {
  const out = emptyQueuesConfig();
  const file = m.optionalString('file', { expect: 'expected a path such as queues.conf' });
  const logFile = m.string('log_file', 'var/queue_log', { expect: "expected a file path such as var/queue_log, or '' for none" });
  out.logDatabase = m.bool('log_database', true);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(cfg.baseDir, p));
  out.logFile = logFile === '' ? null : at(logFile);
  if (file !== null) {
    out.file = at(file);
    let text: string | null = null;
    try {
      text = readFileSync(out.file, 'utf8');
    } catch (err) {
      m.error(
        'file',
        `queues.file ${out.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a queues.conf with [queuename] sections and member => PJSIP/1001 lines`,
      );
    }
    if (text !== null) {
      const parsed = parseQueuesConf(text, out.file);
      m.issues.list.push(...parsed.issues);
      out.conf = { general: parsed.general, queues: parsed.queues };
    }
  }
  m.done();
  return out;
}
