import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { batchControlWrites } from '../../../src/b2bua/control-batching.js';

/** A loopback server that records each chunk it reads and each connection it accepts. */
async function server(): Promise<{ srv: Server; port: number; chunks: string[]; accepted: Socket[] }> {
  const chunks: string[] = [];
  const accepted: Socket[] = [];
  const srv = createServer((s) => {
    accepted.push(s);
    s.on('data', (d) => chunks.push(d.toString()));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { srv, port: (srv.address() as AddressInfo).port, chunks, accepted };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function connected(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1' });
  await once(s, 'connect');
  return s;
}

test('writes made in one loop turn on the control connection are held until the turn ends and leave together; the next turn starts a new batch', async (t) => {
  const { srv, port, chunks } = await server();
  const stop = batchControlWrites(port);
  t.after(() => {
    stop();
    srv.close();
  });
  const s = await connected(port);
  t.after(() => s.destroy());
  s.write('12#first');
  s.write('13#second');
  s.write('12#third');
  assert.equal(s.writableCorked, 1, 'the first write of the turn corks the socket');
  assert.equal(s.writableLength, 'first'.length + 'second'.length + 'third'.length + 9, 'nothing has left yet');
  await turn();
  assert.equal(s.writableCorked, 0, 'the check phase of the same turn uncorks it');
  assert.equal(s.writableLength, 0);
  s.write('x');
  assert.equal(s.writableCorked, 1, 'a later turn corks again');
  await turn();
  assert.equal(s.writableCorked, 0);
  for (let i = 0; i < 50 && chunks.join('') !== '12#first13#second12#thirdx'; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(chunks.join(''), '12#first13#second12#thirdx', 'every byte arrives, in order');
});

test('only sockets to the engine control port are batched, reconnects included; after stop new sockets are left alone', async (t) => {
  const engine = await server();
  const other = await server();
  const stop = batchControlWrites(engine.port);
  t.after(() => {
    engine.srv.close();
    other.srv.close();
  });
  const first = await connected(engine.port);
  const elsewhere = await connected(other.port);
  first.write('a');
  elsewhere.write('b');
  assert.equal(first.writableCorked, 1);
  assert.equal(elsewhere.writableCorked, 0, 'a socket to another port writes at once');
  first.destroy();
  const again = await connected(engine.port);
  again.write('c');
  assert.equal(again.writableCorked, 1, 'a reconnect to the engine is batched too');
  stop();
  const afterStop = await connected(engine.port);
  afterStop.write('d');
  assert.equal(afterStop.writableCorked, 0, 'sockets opened after stop are not watched');
  await turn();
  for (const s of [elsewhere, again, afterStop]) s.destroy();
  for (const s of [...engine.accepted, ...other.accepted]) s.destroy();
});
