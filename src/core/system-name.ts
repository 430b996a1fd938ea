// The node's name in identifiers that must be unique across the nodes of a
// cluster, as Asterisk's `systemname` is: CDR uniqueids are
// "EPOCH.SEQUENCE" with a per-process sequence, so two nodes writing to one
// database would otherwise issue the same uniqueid in the same second (and
// the second insert would be refused). Empty for a node alone: identifiers
// stay as they always were. Set once at start, before calls arrive, by the
// module that knows the node's name (the cluster module).
//
// Several workers of one server (sip.workers > 1) share one database too, and
// each has its own sequence: their identifiers carry the worker as well,
// "wINDEX-" (after the node's name, if any).
import { thisWorker } from './workers.js';

let prefix = '';
const workerPart = thisWorker !== null && thisWorker.count > 1 ? `w${thisWorker.index}-` : '';

export function setSystemName(name: string): void {
  prefix = name ? `${name}-` : '';
}

/** "", "NODE-", "wINDEX-" or both: put in front of a uniqueid or channel id */
export function systemPrefix(): string {
  return prefix + workerPart;
}

/** the node's name ("" for a node alone) */
export function systemName(): string {
  return prefix.slice(0, -1);
}
