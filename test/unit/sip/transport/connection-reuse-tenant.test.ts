// An outbound TLS connection carries one tenant: the reuse key names it, so a second tenant calling the same SBC
// with the same profile and SNI gets a connection of its own (connection-table.ts, stream-connector.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTable, outboundKey, type ConnectionInfo } from '../../../../src/sip/transport/connection-table.js';
import { StreamConnector } from '../../../../src/sip/transport/stream-connector.js';
import type { StreamConnection } from '../../../../src/sip/transport/stream-connection.js';
import type { StreamTransport } from '../../../../src/sip/transport/stream-transport.js';
import type { SendTarget } from '../../../../src/sip/transport/types.js';

test('outbound TLS keys differ by tenant; the same tenant, profile and SNI give one key; TCP keys ignore the tenant', () => {
  assert.notEqual(outboundKey('tls', '127.0.0.2', 5061, 'out', 'sbc.example', 'alpha'), outboundKey('tls', '127.0.0.2', 5061, 'out', 'sbc.example', 'beta'));
  assert.notEqual(outboundKey('tls', '127.0.0.2', 5061, 'out', 'sbc.example', 'alpha'), outboundKey('tls', '127.0.0.2', 5061, 'out', 'sbc.example'));
  assert.equal(outboundKey('tls', '127.0.0.2', 5061, 'out', 'sbc.example', 'alpha'), outboundKey('tls', '127.0.0.2', 5061, 'out', 'sbc.example', 'alpha'));
  assert.equal(outboundKey('tcp', '127.0.0.2', 5060, undefined, undefined, 'alpha'), outboundKey('tcp', '127.0.0.2', 5060));
});

/** One TLS listener whose `connect` opens fake connections stamped with the target's tenant, as stream-transport.ts does. */
function rig() {
  const table = new ConnectionTable<StreamConnection>();
  const opened: { key: string; tenant: string | undefined }[] = [];
  const listener = {
    id: 'tls-1', protocol: 'tls', family: 4, info: { id: 'tls-1', protocol: 'tls', address: '127.0.0.1', port: 5061, tlsProfile: 'out' },
    connect(target: SendTarget, reuseKey: string): Promise<StreamConnection> {
      const info: ConnectionInfo = {
        id: table.nextId('tls'), protocol: 'tls', direction: 'outbound', state: 'open', localAddress: '127.0.0.1', localPort: 40000,
        remoteAddress: target.address, remotePort: target.port, createdAt: 0, lastActivityAt: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0,
        messagesOut: 0, ...(target.tenant !== undefined ? { tenant: target.tenant } : {}),
      };
      const conn = { info, reuseKey, isOpen: true } as unknown as StreamConnection;
      table.add(conn);
      opened.push({ key: reuseKey, tenant: target.tenant });
      return Promise.resolve(conn);
    },
  } as unknown as StreamTransport;
  return { table, opened, connector: new StreamConnector(table, [listener]) };
}

const to = (tenant: string): SendTarget => ({ protocol: 'tls', address: '127.0.0.2', port: 5061, tlsProfile: 'out', servername: 'sbc.example', tenant });

test('two tenants to one host, port, profile and SNI get a connection each, stamped with their own tenant; each reuses its own', async () => {
  const { opened, connector } = rig();
  const a = await connector.connectionFor(to('alpha'), 4);
  const b = await connector.connectionFor(to('beta'), 4);
  assert.notEqual(a, b);
  assert.deepEqual([a.info.tenant, b.info.tenant], ['alpha', 'beta']);
  assert.equal(await connector.connectionFor(to('alpha'), 4), a);
  assert.equal(await connector.connectionFor(to('beta'), 4), b);
  assert.equal(opened.length, 2);
});

test('two tenants connecting at once do not share the attempt in progress', async () => {
  const { opened, connector } = rig();
  const [a, b] = await Promise.all([connector.connectionFor(to('alpha'), 4), connector.connectionFor(to('beta'), 4)]);
  assert.deepEqual([a.info.tenant, b.info.tenant], ['alpha', 'beta']);
  assert.deepEqual(opened.map((o) => o.tenant), ['alpha', 'beta']);
});
