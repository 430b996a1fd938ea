// Two IAX2 endpoints on loopback UDP: registration through the call-token
// round and the MD5 challenge, a call with voice and DTMF both ways and a
// hangup with its cause, the same refusal for an unknown account and a
// wrong secret, and opening frames without a valid token left without state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Iax2Engine } from './iax2-engine.js';
import type { Iax2Clock } from './iax2-session.js';
import { Iax2Server, type Iax2Account, type Iax2AuthReport } from './iax2-server.js';
import { Iax2Registration } from './iax2-registration.js';
import { Iax2Call } from './iax2-call.js';
import { Cause, FrameType, Format, Ie, IaxCmd } from './iax2-constants.js';
import { buildFull, IeBuilder, Ies, parseFrame, type FullFrame } from './iax2-frame.js';
import type { Ies as IesT } from './iax2-frame.js';

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const ACCOUNTS: Record<string, Iax2Account> = {
  '1001': { username: '1001', secret: 'Gx7pRq2mZk9vWt4s', kind: 'extension', name: '1001', context: 'internal' },
};

async function server(requireToken = true) {
  const engine = new Iax2Engine({ address: '127.0.0.1', port: 0, admit: () => true, requireCallToken: () => requireToken });
  await engine.listen();
  const reports: Iax2AuthReport[] = [];
  const registered: Array<{ account: string; refresh: number }> = [];
  const calls: Array<{ call: Iax2Call; account: Iax2Account; ies: IesT }> = [];
  new Iax2Server({
    engine,
    account: (u) => ACCOUNTS[u],
    registered: (a, _r, refresh) => registered.push({ account: a.username, refresh }),
    authOutcome: (r) => reports.push(r),
    incoming: (call, account, ies) => calls.push({ call, account, ies }),
    refresh: { min: 10, max: 60 },
  });
  return { engine, reports, registered, calls };
}

test('registration: call token, REGAUTH with MD5, REGACK with the refresh clamped to the maximum; REGREL releases it', async () => {
  const srv = await server();
  const cli = new Iax2Engine({ address: '127.0.0.1', port: 0, admit: () => true, requireCallToken: () => true });
  await cli.listen();
  try {
    const reg = new Iax2Registration(cli, { remote: { address: '127.0.0.1', port: srv.engine.localPort }, username: '1001', secret: ACCOUNTS['1001']!.secret, refresh: 300 });
    reg.start();
    await until(() => reg.status.state === 'registered');
    assert.equal(reg.status.refresh, 60);
    assert.deepEqual(srv.registered, [{ account: '1001', refresh: 60 }]);
    assert.equal(srv.engine.counters.tokenIssued, 1, 'the first REGREQ got a token');
    assert.deepEqual(
      srv.reports.map((r) => [r.ok, r.method, r.account]),
      [[true, 'REGREQ', '1001']],
    );
    // released: REGREL through the same token and challenge rounds, the server forgets the binding (refresh 0)
    assert.equal(await reg.release(), true);
    assert.deepEqual(srv.registered.at(-1), { account: '1001', refresh: 0 });
    assert.equal(srv.engine.counters.tokenIssued, 2, 'the REGREL got a token of its own');
    assert.deepEqual(
      srv.reports.map((r) => [r.ok, r.method]),
      [
        [true, 'REGREQ'],
        [true, 'REGREL'],
      ],
    );
    assert.equal(await reg.release(), false, 'nothing left to release');
    await until(() => srv.engine.sessions === 0 && cli.sessions === 0);
  } finally {
    cli.close();
    srv.engine.close();
  }
});

/**
 * a client registering to the server at `srvPort` as `username`: `watch` sees
 * each frame it sends or receives (with the registration) until `done` holds
 */
async function whileRegistering(
  srvPort: number,
  o: { username: string; secret: string; refresh: number; clock?: Iax2Clock },
  watch: (dir: 'in' | 'out', f: FullFrame, reg: Iax2Registration) => void,
  done: (reg: Iax2Registration) => boolean,
): Promise<void> {
  const cli = new Iax2Engine({ address: '127.0.0.1', port: 0, admit: () => true, requireCallToken: () => true, ...(o.clock ? { clock: o.clock } : {}) });
  await cli.listen();
  const reg = new Iax2Registration(cli, { remote: { address: '127.0.0.1', port: srvPort }, username: o.username, secret: o.secret, refresh: o.refresh });
  cli.tap = (dir, buf) => watch(dir, parseFrame(buf) as FullFrame, reg);
  try {
    reg.start();
    await until(() => done(reg));
  } finally {
    reg.stop();
    cli.close();
  }
}

/** what a client sees when registering: the frames the server sent, as [subclass, IE ids] */
async function registerAndWatch(srvPort: number, username: string, secret: string): Promise<Array<[number, number[]]>> {
  const seen: Array<[number, number[]]> = [];
  await whileRegistering(
    srvPort,
    { username, secret, refresh: 60 },
    (dir, f) => {
      if (dir === 'in' && f.type === FrameType.IAX && f.subclass !== IaxCmd.ACK) seen.push([f.subclass, [...Ies.parse(f.data).map.keys()]]);
    },
    (reg) => reg.status.state === 'rejected',
  );
  return seen;
}

test('an unknown account and a wrong secret get the same frames (REGAUTH, then REGREJ); only the defences learn which it was', async () => {
  const srv = await server();
  try {
    const wrong = await registerAndWatch(srv.engine.localPort, '1001', 'not-the-secret-at-all');
    const unknown = await registerAndWatch(srv.engine.localPort, '7777', 'not-the-secret-at-all');
    assert.deepEqual(wrong, unknown);
    assert.deepEqual(
      wrong.map((w) => w[0]),
      [IaxCmd.CALLTOKEN, IaxCmd.REGAUTH, IaxCmd.REGREJ],
    );
    assert.deepEqual(
      srv.reports.map((r) => [r.ok, r.reason, r.account]),
      [
        [false, 'bad-password', '1001'],
        [false, 'unknown-user', '7777'],
      ],
    );
  } finally {
    srv.engine.close();
  }
});

/** the registration's state each time the client sent a REGREQ, with the long waits (refresh, retry) cut to 30 ms */
async function statesAtEachRegreq(srvPort: number, secret: string, refresh: number, count: number): Promise<string[]> {
  const clock: Iax2Clock = {
    now: () => Date.now(),
    after(ms, fn) {
      const t = setTimeout(fn, ms >= 4000 ? 30 : ms);
      return () => clearTimeout(t);
    },
  };
  const states: string[] = [];
  await whileRegistering(
    srvPort,
    { username: '1001', secret, refresh, clock },
    (dir, f, reg) => {
      // the opening REGREQ of each exchange (the call-token round's first frame has an empty CALLTOKEN)
      if (dir === 'out' && f.type === FrameType.IAX && f.subclass === IaxCmd.REGREQ && Ies.parse(f.data).str(Ie.CALLTOKEN) === '') states.push(reg.status.state);
    },
    () => states.length >= count,
  );
  return states.slice(0, count);
}

test('a refresh stays registered and a retry after a refusal stays rejected while it is under way; only the first attempt shows registering', async () => {
  const srv = await server();
  try {
    assert.deepEqual(await statesAtEachRegreq(srv.engine.localPort, ACCOUNTS['1001']!.secret, 10, 3), ['registering', 'registered', 'registered']);
    assert.deepEqual(await statesAtEachRegreq(srv.engine.localPort, 'not-the-secret-at-all', 10, 3), ['registering', 'rejected', 'rejected']);
  } finally {
    srv.engine.close();
  }
});

/** a call from `cli` to the server's number 600, as 1001 (Alice) with its secret */
function place(cli: Iax2Engine, to: Iax2Engine, format: number, capability = format): Iax2Call {
  return Iax2Call.place(
    cli,
    { address: '127.0.0.1', port: to.localPort },
    { called: '600', callingNumber: '1001', callingName: 'Alice', username: '1001', secret: ACCOUNTS['1001']!.secret, capability, format },
  );
}

test('a call: NEW → AUTHREQ/AUTHREP → ACCEPT → RINGING → ANSWER, voice and DTMF both ways, HANGUP with its cause', async () => {
  const srv = await server();
  const cli = new Iax2Engine({ address: '127.0.0.1', port: 0, admit: () => true, requireCallToken: () => true });
  await cli.listen();
  try {
    const call = place(cli, srv.engine, Format.ALAW, Format.ULAW | Format.ALAW);
    const heardByCaller: Buffer[] = [];
    const digitsAtCaller: string[] = [];
    let ended: [number, string, string] | null = null;
    let rang = false;
    let answered = false;
    call.events = {
      ringing: () => (rang = true),
      answered: () => (answered = true),
      voice: (p) => heardByCaller.push(Buffer.from(p)),
      dtmf: (d) => digitsAtCaller.push(d),
      ended: (c, t, by) => (ended = [c, t, by]),
    };
    await until(() => srv.calls.length === 1);
    const inc = srv.calls[0]!;
    assert.equal(inc.account.username, '1001');
    assert.equal(inc.ies.str(Ie.CALLED_NUMBER), '600');
    assert.equal(inc.ies.str(Ie.CALLING_NAME), 'Alice');
    const heardByServer: Buffer[] = [];
    const digitsAtServer: string[] = [];
    let serverEnded: [number, string, string] | null = null;
    inc.call.events = { voice: (p) => heardByServer.push(Buffer.from(p)), dtmf: (d) => digitsAtServer.push(d), ended: (c, t, by) => (serverEnded = [c, t, by]) };
    inc.call.accept(Format.ALAW);
    inc.call.ring();
    await until(() => rang);
    inc.call.answer();
    await until(() => answered);
    assert.equal(call.format, Format.ALAW);
    for (let i = 0; i < 10; i++) {
      call.sendVoice(Buffer.alloc(160, 0x10 + i));
      inc.call.sendVoice(Buffer.alloc(160, 0x50 + i));
      await new Promise((r) => setTimeout(r, 20));
    }
    call.sendDtmf('5');
    inc.call.sendDtmf('#');
    await until(() => heardByServer.length === 10 && heardByCaller.length === 10 && digitsAtServer.length === 1 && digitsAtCaller.length === 1);
    assert.deepEqual(
      heardByServer.map((b) => b[0]),
      Array.from({ length: 10 }, (_, i) => 0x10 + i),
    );
    assert.deepEqual([digitsAtServer, digitsAtCaller], [['5'], ['#']]);
    inc.call.hangup(Cause.USER_BUSY, 'User busy');
    await until(() => ended !== null);
    assert.deepEqual(ended, [Cause.USER_BUSY, 'User busy', 'peer']);
    assert.deepEqual(serverEnded, [Cause.USER_BUSY, 'User busy', 'local']);
    await until(() => srv.engine.sessions === 0 && cli.sessions === 0);
  } finally {
    cli.close();
    srv.engine.close();
  }
});

test('opening frames without a valid call token open nothing; the only answers are no larger than the request', async () => {
  const srv = await server();
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.2', r));
  const answers: Buffer[] = [];
  sock.on('message', (b) => answers.push(b));
  const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, srv.engine.localPort, '127.0.0.1', () => r()));
  const newFrame = (token: Buffer | null) => {
    const ies = new IeBuilder().u16(Ie.VERSION, 2).str(Ie.CALLED_NUMBER, '0044900123456').str(Ie.USERNAME, '1001').u32(Ie.FORMAT, Format.ULAW);
    if (token) ies.bytes(Ie.CALLTOKEN, token);
    return buildFull({ src: 77, dst: 0, ts: 3, oseq: 0, iseq: 0, type: FrameType.IAX, subclass: IaxCmd.NEW }, ies.build());
  };
  try {
    const none = newFrame(null);
    const forged = newFrame(Buffer.from(`${Math.floor(Date.now() / 1000).toString(36)}?AAAAAAAAAAAAAAAA`));
    const tiny = buildFull({ src: 78, dst: 0, ts: 3, oseq: 0, iseq: 0, type: FrameType.IAX, subclass: IaxCmd.NEW }, new IeBuilder().empty(Ie.CALLTOKEN).build());
    await send(none);
    await send(forged);
    await send(tiny);
    await until(() => srv.engine.counters.tokenMissing === 1 && srv.engine.counters.tokenInvalid === 1 && srv.engine.counters.tokenSmall === 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(srv.engine.sessions, 0, 'no call number was taken');
    assert.equal(srv.calls.length, 0);
    assert.equal(answers.length, 1, 'only the NEW without a token got an answer (a bare REJECT)');
    const rej = parseFrame(answers[0]!) as FullFrame;
    assert.equal(rej.subclass, IaxCmd.REJECT);
    assert.ok(answers[0]!.length <= none.length, `${answers[0]!.length} bytes answered to ${none.length}`);
  } finally {
    sock.close();
    srv.engine.close();
  }
});

test('hold: HOLD naming a music class and UNHOLD both ways, once per change; QUELCH with MUSICONHOLD and UNQUELCH are a hold too', async () => {
  const srv = await server();
  const cli = new Iax2Engine({ address: '127.0.0.1', port: 0, admit: () => true, requireCallToken: () => true });
  await cli.listen();
  try {
    const call = place(cli, srv.engine, Format.ULAW);
    let answered = false;
    const atCaller: Array<[boolean, string]> = [];
    call.events = { answered: () => (answered = true), hold: (h, c) => atCaller.push([h, c]) };
    await until(() => srv.calls.length === 1);
    const inc = srv.calls[0]!.call;
    const atServer: Array<[boolean, string]> = [];
    inc.events = { hold: (h, c) => atServer.push([h, c]) };
    // before the answer a hold means nothing and is not sent
    call.hold(true, 'jazz');
    inc.accept(Format.ULAW);
    inc.answer();
    await until(() => answered);
    call.hold(true, 'jazz');
    call.hold(true, 'jazz');
    await until(() => atServer.length === 1);
    call.hold(false);
    await until(() => atServer.length === 2);
    // the server's party holds without a class; then a class that is not a plain name is not passed on
    inc.hold(true);
    await until(() => atCaller.length === 1);
    inc.hold(false);
    await until(() => atCaller.length === 2);
    inc.session.send(FrameType.CONTROL, 16, Buffer.from('../etc\0', 'latin1'));
    await until(() => atCaller.length === 3);
    inc.session.send(FrameType.CONTROL, 17);
    await until(() => atCaller.length === 4);
    // the older way: QUELCH with MUSICONHOLD holds, QUELCH alone only asks for silence, UNQUELCH resumes
    inc.session.send(FrameType.IAX, IaxCmd.QUELCH);
    inc.session.send(FrameType.IAX, IaxCmd.QUELCH, new IeBuilder().empty(Ie.MUSICONHOLD).build());
    await until(() => atCaller.length === 5);
    inc.session.send(FrameType.IAX, IaxCmd.UNQUELCH);
    await until(() => atCaller.length === 6);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(atServer, [
      [true, 'jazz'],
      [false, ''],
    ]);
    assert.deepEqual(atCaller, [
      [true, ''],
      [false, ''],
      [true, ''],
      [false, ''],
      [true, ''],
      [false, ''],
    ]);
    call.hangup();
    await until(() => srv.engine.sessions === 0 && cli.sessions === 0);
  } finally {
    cli.close();
    srv.engine.close();
  }
});
