import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import Srf from 'drachtio-srf';
import { useSlotTables } from '../../../src/b2bua/srf-tables.js';
import { SlotMap } from '../../../src/common/index.js';

const CONNECTION_TABLES = ['pendingRequests', 'pendingSipRequests', 'pendingSipAuthRequests', 'pendingNetworkInvites', 'pendingAckOrPrack'];

interface Insides {
  _dialogs: unknown;
  _app: { client: { mapServer: Map<unknown, Record<string, unknown>> } };
}

// Fails when a drachtio-srf upgrade moves the tables: the b2bua would then run with srf's own Maps, which
// promote every call's objects (src/b2bua/srf-tables.ts), and this is where that shows.
test('drachtio-srf as installed keeps its dialogs and each connection\'s pending tables in SlotMaps', async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const srf = new Srf();
  srf.on('error', () => undefined);
  try {
    const accepted = once(server, 'connection');
    srf.connect({ host: '127.0.0.1', port, secret: 's' });
    assert.deepEqual(useSlotTables(srf), { dialogs: true, connections: true });
    await accepted;
    const insides = srf as unknown as Insides;
    for (let i = 0; i < 50 && insides._app.client.mapServer.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(insides._dialogs instanceof SlotMap);
    const tables = [...insides._app.client.mapServer.values()];
    assert.equal(tables.length, 1);
    for (const name of CONNECTION_TABLES) assert.ok(tables[0]![name] instanceof SlotMap, `${name} is a SlotMap`);
    // srf has already put its authenticate request in the table it reads the answer from
    assert.equal((tables[0]!.pendingRequests as SlotMap<string, unknown>).size, 1);
  } finally {
    srf.disconnect();
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('an srf of another shape, or tables already in use, are left as they are', () => {
  assert.deepEqual(useSlotTables({}), { dialogs: false, connections: false });
  const inUse = new Map([['d', 1]]);
  const other = { _dialogs: inUse };
  assert.deepEqual(useSlotTables(other), { dialogs: false, connections: false });
  assert.equal(other._dialogs, inUse);
});
