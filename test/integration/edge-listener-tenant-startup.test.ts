/**
 * A tenant's listener judges by its tenant's trusted sources from the moment it is bound. Listeners bind one after
 * the other and each receives as soon as it is bound (src/sip/transport/transport-layer.ts `start`), while the
 * engine's start is still under way: a request that arrives then must not be taken as one on a shared listener,
 * admitted because another tenant trusts its source and attributed to that tenant. Real UDP on loopback: the request
 * is sent and answered inside the transport's start, before the engine goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { udpPeer } from '../support/udp-peer.js';
import { until } from '../support/until.js';

test('a request on tenant A\'s listener while the engine still starts is judged by A\'s sources, not admitted for B', async (t) => {
  const e = new Engine({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0, id: 'a-udp', tenant: 'a' },
      { transport: 'udp', host: '127.0.0.1', port: 0, id: 'shared-udp' },
    ],
    control: { host: '127.0.0.1', port: 0, secret: 'lt' },
    trust: {
      defaultTenant: 'b', tenants: [
        { name: 'b', transport: 'udp', sources: ['127.0.0.1'], hosts: [], restrictTls: false },
        { name: 'a', transport: 'udp', sources: ['127.0.0.9'], hosts: [], restrictTls: false },
      ],
    },
  });
  t.after(() => e.close());
  const peer = await udpPeer(t, '127.0.0.1');
  const start = e.transport.start.bind(e.transport);
  e.transport.start = async () => {
    const listeners = await start();
    const a = listeners.find((l) => l.id === 'a-udp')!;
    peer.s.send(`OPTIONS sip:127.0.0.1:${a.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKearly\r\nMax-Forwards: 70\r\n`
      + `From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1:${a.port}>\r\nCall-ID: early@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, a.port, '127.0.0.1');
    await until(() => peer.got.length >= 1, 'the answer while the engine starts');
    return listeners;
  };
  await e.start();
  assert.match(peer.got[0]!, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.match(peer.got[0]!, /\r\nReason: SIP;cause=403;text="untrusted source"\r\n/);
  assert.deepEqual(e.trust!.stats().byListener, { 'a-udp untrusted-source': 1 });
});
