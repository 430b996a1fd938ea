// Driving a running Palisade from an office test: a control-socket command,
// and a SIPp "phone" — registered as an extension through Palisade, then
// answering calls with a scenario of its own (busy, answer, no answer) —
// and a baresip phone, a real softphone sending a tone.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { askServer } from '../../src/admin/control-client.js';
import type { PalisadeProcess } from './palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from './sipp.js';
import { sippCsv, type TestUser } from './users.js';
import { Baresip, findFreePort } from './baresip.js';
import { makeToneWav } from './audio.js';

/** one control-socket command of the running server */
export function ask(pal: PalisadeProcess, cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const socket = join(pal.dir, 'control.sock');
  return askServer({ socket }, () => ({ control: { socket } }), cmd, args);
}

/** where and how a SIPp phone runs (several workers: its own source address; over TCP) */
export interface SippPhoneOptions {
  /** its loopback address; 127.0.0.1 by default */
  address?: string;
  /** registers and answers over this transport; UDP by default */
  transport?: 'u1' | 't1';
  extraArgs?: string[];
  /** scenario variables (-set NAME VALUE) */
  set?: Record<string, string>;
  /**
   * the calls it answers before it exits by itself (-m; await finish() on
   * it); omit for a phone that answers until stopped
   */
  calls?: number;
}

/** a SIPp phone registered as `user`, running `scenario` as its answer to every call for `timeoutS` */
export async function sippPhone(pal: PalisadeProcess, dir: string, user: TestUser, scenario: string, timeoutS = 90, o: SippPhoneOptions = {}): Promise<SippProcess> {
  const address = o.address ?? '127.0.0.1';
  const [port] = await freeLocalPorts(1);
  const reg = join(dir, `${user.number}.csv`);
  writeFileSync(reg, sippCsv([user]));
  const r = await runSipp({
    scenario: 'register-auth',
    target: pal.target,
    inf: [reg],
    set: { contact: `${address}:${port}`, expires: '600' },
    calls: 1,
    rate: 10,
    timeoutS: 20,
    dir,
    transport: o.transport,
    extraArgs: ['-i', address],
  });
  assert.equal(r.stats?.successful, 1, `register ${user.number}: ${r.errors}`);
  return startSipp({
    scenario,
    target: address,
    port,
    rtpEcho: true,
    traceMsg: true,
    timeoutS,
    dir,
    transport: o.transport,
    extraArgs: ['-i', address, ...(o.extraArgs ?? [])],
    set: o.set,
    calls: o.calls,
  });
}

export interface PhoneOptions {
  /** the first of its 100 RTP ports */
  rtp: number;
  /** the tone it sends (Hz) and for how long the file runs (s) */
  tone?: number;
  seconds?: number;
  answerMode?: 'auto' | 'manual';
  /** its SIP messages in its log */
  sipTrace?: boolean;
  /** it is killed after this long whatever happens (s) */
  lifetimeS?: number;
}

/** a baresip phone registered as `user` through the running server */
export async function baresipPhone(pal: PalisadeProcess, name: string, user: TestUser, o: PhoneOptions): Promise<Baresip> {
  const audio = join(pal.dir, `${name}.wav`);
  makeToneWav(audio, o.tone ?? 440, o.seconds ?? 40, 0.3);
  const b = new Baresip({
    name,
    baseDir: pal.dir,
    user: user.number,
    domain: pal.target,
    password: user.secret,
    regint: 600,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: audio,
    rtpPorts: [o.rtp, o.rtp + 99],
    maxLifetimeSec: o.lifetimeS ?? 90,
    ...(o.answerMode ? { answerMode: o.answerMode } : {}),
    sipTrace: o.sipTrace ?? false,
  });
  await b.start();
  await b.waitRegistered(5000);
  return b;
}
