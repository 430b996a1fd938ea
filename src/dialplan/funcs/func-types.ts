// What a dialplan function (${NAME(args)}) sees: variable look-up and the
// channel, nothing else. Functions are pure reads; none runs programs or
// touches files (Asterisk's SHELL()/SYSTEM-class functions are deliberately
// not provided).
import type { Channel } from '../../channel/channel.js';

export interface FuncEnv {
  readonly channel: Channel;
  getVar(name: string): string;
  /** DIALPLAN_EXISTS(): does context / extension / priority exist? (absent outside a call) */
  dialplanExists?(context: string, exten: string | null, priority: string | null): boolean;
}

export interface DialplanFunction {
  readonly name: string;
  readonly synopsis: string;
  /** raw: the argument text after substitution; returns the value */
  read(env: FuncEnv, raw: string): string;
}
