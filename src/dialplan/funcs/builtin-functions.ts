// The dialplan functions Palisade ships, put in each DialplanRegistry
// (../dialplan-registry.ts). Only pure read functions are provided: nothing
// here runs a program, opens a file or a socket.
import type { DialplanFunction } from './func-types.js';
import { funcCallerId } from './func-callerid.js';
import { funcLen } from './func-len.js';
import { funcIf } from './func-if.js';
import { funcExists, funcIsNull } from './func-isnull.js';
import { funcStrftime } from './func-strftime.js';
import { funcRand } from './func-rand.js';
import { funcRegex } from './func-regex.js';
import { funcCut } from './func-cut.js';
import { funcToLower, funcToUpper } from './func-case.js';
import { funcDialplanExists } from './func-dialplan-exists.js';
import { funcSha1, funcSha256 } from './func-hash.js';
import { funcTimeout } from './func-timeout.js';

export const BUILTIN_FUNCTIONS: readonly DialplanFunction[] = [
  funcCallerId,
  funcLen,
  funcIf,
  funcIsNull,
  funcExists,
  funcStrftime,
  funcRand,
  funcRegex,
  funcCut,
  funcToUpper,
  funcToLower,
  funcDialplanExists,
  funcSha1,
  funcSha256,
  funcTimeout,
];
