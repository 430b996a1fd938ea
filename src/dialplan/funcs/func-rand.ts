// RAND([min][,max]) — a random integer, 0..2147483647 by default (func_rand.c).
import { randomInt } from 'node:crypto';
import { splitArgs } from '../app-args.js';
import type { DialplanFunction } from './func-types.js';

export const funcRand: DialplanFunction = {
  name: 'RAND',
  synopsis: 'RAND([min][,max]): a random integer between min and max inclusive',
  read(_env, raw) {
    const [a = '', b = ''] = splitArgs(raw);
    let min = a.trim() === '' ? 0 : Math.trunc(Number(a));
    let max = b.trim() === '' ? 2147483646 : Math.trunc(Number(b));
    if (!Number.isFinite(min)) min = 0;
    if (!Number.isFinite(max)) max = 2147483646;
    if (max < min) [min, max] = [max, min];
    return String(randomInt(min, max + 1));
  },
};
