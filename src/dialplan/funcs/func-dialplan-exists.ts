// DIALPLAN_EXISTS(context[,extension[,priority]]) — 1 if the context (and
// extension, matched with patterns and includes, and priority number or
// label) exists, else 0. Lets a menu check a typed number before a Goto,
// which would end the call if the target were missing.
import { splitArgs } from '../app-args.js';
import type { DialplanFunction } from './func-types.js';

export const funcDialplanExists: DialplanFunction = {
  name: 'DIALPLAN_EXISTS',
  synopsis: 'DIALPLAN_EXISTS(context[,extension[,priority]]): 1 if it exists',
  read(env, raw) {
    const [ctx = '', exten, prio] = splitArgs(raw).map((s) => s.trim());
    if (!env.dialplanExists || ctx === '') return '0';
    return env.dialplanExists(ctx, exten || null, prio || null) ? '1' : '0';
  },
};
