// IAX2 through Palisade's defences, against a real `palisade start`: a
// forged NEW from another address without a valid call token opens no call
// and gets no amplified answer (its arrival proven by the call-token
// counters), and a password guesser registering over IAX2 is banned by the
// IDS like a SIP guesser, after which its datagrams are dropped unanswered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPalisade } from '../helpers/palisade-process.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { makeUsers } from '../helpers/users.js';
import { askServer } from '../../src/admin/control-client.js';
import { Iax2Engine } from '../../src/iax2/iax2-engine.js';
import { Iax2Registration } from '../../src/iax2/iax2-registration.js';
import { Format, FrameType, Ie, IaxCmd } from '../../src/iax2/iax2-constants.js';
import { buildFull, IeBuilder, parseFrame, type FullFrame } from '../../src/iax2/iax2-frame.js';

const until = async (cond: () => boolean | Promise<boolean>, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

interface Counters {
  tokenMissing: number;
  tokenInvalid: number;
  gated: number;
  sessions: number;
}

test('forged NEWs open nothing and get no amplified answer; an IAX2 password guesser is banned', { timeout: 90_000 }, async () => {
  const users = makeUsers(1, { first: 1001 });
  const [iaxPort] = await freeLocalPorts(1);
  const pal = await startPalisade({
    users,
    transports: ['udp'],
    extraYaml: ['iax2:', `  listen: ["udp:127.0.0.1:${iaxPort}"]`, '  accounts:', '    - { extension: "1001", secret: "Ix-Vb7Qm3Tz9Kp2Wd5R" }'].join('\n'),
  });
  const sock = join(pal.dir, 'control.sock');
  const ask = (cmd: string, args: Record<string, unknown> = {}) => askServer({ socket: sock }, () => ({ control: { socket: sock } }), cmd, args);
  const counters = async (): Promise<Counters> => ((await ask('show-iax2')) as { counters: Counters[] }).counters[0]!;
  const spoof = createSocket('udp4');
  try {
    // ---- 1. forged NEWs from 127.0.0.2
    await new Promise<void>((r) => spoof.bind(0, '127.0.0.2', r));
    const answers: Buffer[] = [];
    spoof.on('message', (b) => answers.push(b));
    const newFrame = (src: number, token: Buffer | null) => {
      const ies = new IeBuilder().u16(Ie.VERSION, 2).str(Ie.CALLED_NUMBER, '00441234567890').str(Ie.USERNAME, '1001').u32(Ie.FORMAT, Format.ULAW).u32(Ie.CAPABILITY, Format.ULAW);
      if (token) ies.bytes(Ie.CALLTOKEN, token);
      return buildFull({ src, dst: 0, ts: 2, oseq: 0, iseq: 0, type: FrameType.IAX, subclass: IaxCmd.NEW }, ies.build());
    };
    const noToken = newFrame(101, null);
    const forged = newFrame(102, Buffer.from(`${Math.floor(Date.now() / 1000).toString(36)}?AAAAAAAAAAAAAAAA`));
    const before = await counters();
    spoof.send(noToken, iaxPort!, '127.0.0.1');
    spoof.send(forged, iaxPort!, '127.0.0.1');
    await until(async () => {
      const c = await counters();
      return c.tokenMissing === before.tokenMissing + 1 && c.tokenInvalid === before.tokenInvalid + 1;
    }, 5000);
    await new Promise((r) => setTimeout(r, 500));
    const after = await counters();
    assert.equal(after.sessions, 0, 'no call number was taken');
    assert.deepEqual(((await ask('show-iax2')) as { calls: unknown[] }).calls, []);
    assert.equal(answers.length, 1, 'one answer: the bare REJECT to the NEW without a token; nothing to the forged token');
    const rej = parseFrame(answers[0]!) as FullFrame;
    assert.equal(rej.subclass, IaxCmd.REJECT);
    assert.ok(answers[0]!.length <= noToken.length, `${answers[0]!.length} bytes answered to ${noToken.length}`);

    // ---- 2. a guesser at 127.0.0.3 tries secrets for 1001 (the IDS bans after 5 failures by default)
    const cli = new Iax2Engine({ address: '127.0.0.3', port: 0, admit: () => true, requireCallToken: () => true });
    await cli.listen();
    let rejected = 0;
    try {
      for (let i = 0; i < 12; i++) {
        const reg = new Iax2Registration(cli, { remote: { address: '127.0.0.1', port: iaxPort! }, username: '1001', secret: `guess-${i}-Xq9`, refresh: 60 });
        reg.start();
        try {
          await until(() => reg.status.state === 'rejected' || reg.status.state === 'timeout', 1500);
        } catch {
          // no answer at all: the address is banned
        }
        if (reg.status.state === 'rejected') rejected++;
        reg.stop();
        if (reg.status.state !== 'rejected') break;
      }
    } finally {
      cli.close();
    }
    assert.ok(rejected >= 3 && rejected <= 6, `the guesser got ${rejected} refusals before the ban`);
    const bans = (await ask('bans')) as Array<{ address: string }>;
    assert.ok(
      bans.some((b) => b.address === '127.0.0.3'),
      `127.0.0.3 is banned: ${JSON.stringify(bans)}`,
    );
    assert.ok((await counters()).gated > 0, "the banned guesser's datagrams reached the packet gate and were dropped");
    // the security log's Asterisk-format lines name the service, as fail2ban's asterisk filter reads them
    const ast = readFileSync(join(pal.dir, 'var', 'security.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('res_security_log.c') && l.includes('SecurityEvent="InvalidPassword"'));
    assert.ok(ast.length >= 3, `${ast.length} InvalidPassword lines`);
    assert.match(ast[0]!, /Service="IAX2".*AccountID="1001".*RemoteAddress="IPV4\/UDP\/127\.0\.0\.3\/\d+"/);
  } finally {
    spoof.close();
    await pal.stop();
  }
});
