// An in-process Palisade with a test dialplan (DialplanRunner) and
// registered baresip phones, for channel interop tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baresip, findFreePort, type BaresipOptions } from './baresip.js';
import { makeToneWav } from './audio.js';
import { freeEvenPorts, freeLocalPorts } from './sipp.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { parseConfig } from '../../src/security/config/load-config.js';
import { startPalisade, type DialplanRunner } from '../../src/main.js';
import { askServer } from '../../src/admin/control-client.js';

export interface Site {
  dir: string;
  sipPort: number;
  secrets: Record<string, string>;
  logs: Array<Record<string, unknown>>;
  /** ask the running server over its control socket (as the CLI does) */
  ask(cmd: string, args?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

/** `rtpPairs`: RTP/RTCP port pairs in Palisade's range (default 49) */
export async function startSite(plan: DialplanRunner, numbers: string[], rtpPairs = 49): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'channel-baresip-'));
  const [sipPort] = await freeLocalPorts(1);
  const rtpMin = await freeEvenPorts(2 * rtpPairs);
  const secrets: Record<string, string> = {};
  for (const n of numbers) secrets[n] = generateSecret({ extension: n, name: `U${n}` });
  const yaml = [
    'sip:',
    `  listen: ["udp:127.0.0.1:${sipPort}"]`,
    '  domain: 127.0.0.1',
    'rtp:',
    `  ports: ${rtpMin}-${rtpMin + 2 * rtpPairs - 1}`,
    '  address: 127.0.0.1',
    'storage:',
    '  driver: sqlite',
    `  path: ${join(dir, 'p.db')}`,
    'control:',
    `  socket: ${join(dir, 'c.sock')}`,
    'extensions:',
    ...numbers.map((n) => `  - { number: "${n}", name: U${n}, secret: "${secrets[n]}", context: internal }`),
    '',
  ].join('\n');
  const cfg = parseConfig(yaml, join(dir, 'palisade.yaml'));
  const logs: Array<Record<string, unknown>> = [];
  const app = await startPalisade(cfg, {
    dialplan: plan,
    logSink: { write: (line) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return {
    dir,
    sipPort: sipPort!,
    secrets,
    logs,
    ask: (cmd, args = {}) => askServer({ socket: join(dir, 'c.sock') }, () => ({ control: { socket: join(dir, 'c.sock') } }), cmd, args),
    stop: async () => {
      await app.stop('test');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function phone(
  site: Site,
  name: string,
  user: string,
  tone: number | string,
  rtp: number,
  codecs = 'PCMU',
  codecModules: string[] = [],
  answerMode: 'auto' | 'manual' = 'auto',
  extra: Partial<BaresipOptions> = {},
): Promise<Baresip> {
  let audio: string;
  if (typeof tone === 'number') {
    audio = join(site.dir, `${name}.wav`);
    makeToneWav(audio, tone, 30, 0.3);
  } else audio = tone;
  const b = new Baresip({
    name,
    baseDir: site.dir,
    user,
    domain: `127.0.0.1:${site.sipPort}`,
    password: site.secrets[user],
    regint: 600,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: audio,
    rtpPorts: [rtp, rtp + 99],
    codecs,
    codecModules,
    answerMode,
    maxLifetimeSec: 60,
    ...extra,
  });
  await b.start();
  await b.waitRegistered(5000);
  return b;
}
