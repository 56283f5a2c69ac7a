// test: own process (startB2bua swaps process.env for a plain copy, which plain-environment.test.ts checks from scratch)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { startB2bua } from '../../../src/b2bua/index.js';

/**
 * A control-protocol server that does only what the b2bua's start and stop need: it answers `authenticate` with
 * OK (or never answers), counts the sessions that are open, and can drop them. drachtio-srf is the client.
 */
function controlServer(answer: boolean) {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (;;) {
        const hash = buffered.indexOf('#');
        if (hash < 0) return;
        const length = Number(buffered.slice(0, hash));
        if (buffered.length < hash + 1 + length) return;
        const frame = buffered.slice(hash + 1, hash + 1 + length);
        buffered = buffered.slice(hash + 1 + length);
        const [msgId, verb] = frame.split('|');
        if (verb === 'authenticate' && answer) {
          const reply = `r${accepted}|response|${msgId}|OK|udp/127.0.0.1:5060`;
          socket.write(`${Buffer.byteLength(reply)}#${reply}`);
        }
      }
    });
  });
  return {
    server,
    open,
    get accepted() {
      return accepted;
    },
    dropAll: () => {
      for (const s of open) s.destroy();
    },
  };
}

async function listening(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function until(what: string, check: () => boolean, withinMs: number): Promise<void> {
  const end = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an engine that never answers the secret gives ERR_B2BUA_CONNECT and its session is ended', async () => {
  const engine = controlServer(false);
  const port = await listening(engine.server);
  try {
    await assert.rejects(
      startB2bua({ engine: { host: '127.0.0.1', port, secret: 's' }, target: '127.0.0.1:5090', connectTimeoutMs: 300 }),
      { code: 'ERR_B2BUA_CONNECT' },
    );
    assert.equal(engine.accepted, 1);
    await until('the unanswered session is closed by the app', () => engine.open.size === 0, 2000);
  } finally {
    engine.dropAll();
    engine.server.close();
  }
});

test('a b2bua closed while srf waits to reconnect ends the session that reconnect opens, and opens no other', async () => {
  const engine = controlServer(true);
  const port = await listening(engine.server);
  try {
    const b2bua = await startB2bua({ engine: { host: '127.0.0.1', port, secret: 's' }, target: '127.0.0.1:5090' });
    assert.equal(engine.open.size, 1);
    // The engine drops the session; srf schedules its reconnect (its first delay is about 250 ms) and says so.
    const reconnecting = once(b2bua.srf, 'reconnecting');
    engine.dropAll();
    await reconnecting;
    await b2bua.close();
    // The scheduled attempt still connects to the listening engine, authenticates, and is ended by the app.
    await until('the scheduled reconnect reached the engine', () => engine.accepted === 2, 3000);
    await until('the session opened after close is ended by the app', () => engine.open.size === 0, 2000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(engine.accepted, 2, 'no further reconnect after close');
    assert.equal(engine.open.size, 0);
  } finally {
    engine.dropAll();
    engine.server.close();
  }
});
