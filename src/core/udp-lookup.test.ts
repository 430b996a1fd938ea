import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { literalLookup } from './udp-lookup.js';

test('an IP literal is answered at once, with its own family', () => {
  const got: Array<[string, number]> = [];
  literalLookup('127.0.0.1', 4, (err, address, family) => {
    assert.equal(err, null);
    got.push([address, family]);
  });
  literalLookup('::1', 6, (_e, address, family) => got.push([address, family]));
  // dns.lookup would call back only after this line (a tick later)
  assert.deepEqual(got, [
    ['127.0.0.1', 4],
    ['::1', 6],
  ]);
});

test('a host name still goes to the resolver', async () => {
  let sync = true;
  const answer = await new Promise<[NodeJS.ErrnoException | null, string, number]>((resolve) => {
    literalLookup('localhost', 4, (err, address, family) => resolve([err, address, family]));
    sync = false;
  });
  assert.equal(sync, false, 'a name is resolved a tick later, as by dns.lookup');
  assert.deepEqual(answer, [null, '127.0.0.1', 4]);
});

test('a socket given it asks it for each send, and the datagram arrives', async () => {
  const asked: string[] = [];
  const spy: typeof literalLookup = (address, family, callback) => {
    asked.push(address);
    literalLookup(address, family, callback);
  };
  const rx = dgram.createSocket('udp4');
  const tx = dgram.createSocket({ type: 'udp4', lookup: spy });
  try {
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<string>((r) => rx.once('message', (m) => r(m.toString())));
    asked.length = 0; // bind asked too, for its own address
    tx.send(Buffer.from('hello'), rx.address().port, '127.0.0.1');
    assert.equal(await got, 'hello');
    assert.deepEqual(asked, ['127.0.0.1']);
  } finally {
    rx.close();
    tx.close();
  }
});
