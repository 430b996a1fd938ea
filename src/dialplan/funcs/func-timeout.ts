// TIMEOUT(digit|response) — read the per-call timeouts set with
// Set(TIMEOUT(digit)=5); empty when the defaults are in force.
import type { DialplanFunction } from './func-types.js';

export const funcTimeout: DialplanFunction = {
  name: 'TIMEOUT',
  synopsis: 'TIMEOUT(digit|response): the timeout in seconds set for this call',
  read(env, raw) {
    const which = raw.trim().toLowerCase();
    return which === 'digit' || which === 'response' ? env.getVar(`TIMEOUT(${which})`) : '';
  },
};
