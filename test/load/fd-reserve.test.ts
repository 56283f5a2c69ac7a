/**
 * File descriptors in reserve: trunkgate (src/main.ts, as `npm start` runs it) started under an open-files limit of
 * 512 lowers its inbound and outbound connection limits to fit together (logged once: 288 inbound, 96 outbound of
 * the 384 usable), and when an attacker holds more connections than that, the surplus is refused at accept while the
 * admin API still answers and a call still goes through.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { profilesDir, startTrunkgate } from '../support/trunkgate-process.js';
import { answeringUa, placeCall } from '../integration/calls-support.js';

test('under an open-files limit of 512, 600 held connections leave the admin API and calls working', { timeout: 90_000 }, async (t) => {
  const far = await answeringUa(t);
  const [sipPort, adminPort, controlPort] = [await freePort(), await freePort(), await freePort()];
  const root = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }, { transport: tcp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: ${controlPort} } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
  far: { transport: udp, sipServer: 127.0.0.1:${far.port} }
dialPeers:
  - { id: local, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`);
  const p = await startTrunkgate(t, root, {
    under: ['prlimit', '--nofile=512:512', '--'],
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  const warned = p.lines.find((l) => l.code === 'ERR_SIP_TRANSPORT_FD_RESERVE');
  assert.ok(warned, 'the lowered limit is logged at start');
  assert.equal(warned.maxConnections, 288);
  assert.equal(warned.maxOutboundConnections, 96);

  const held: Socket[] = [];
  t.after(() => held.forEach((s) => s.destroy()));
  let refused = 0;
  for (let batch = 0; batch < 12; batch++) {
    // 50 from each of 12 sources: within the per-source cap of 64, so only the total limit refuses.
    await Promise.all(Array.from({ length: 50 }, () => new Promise<void>((done) => {
      const s = connect({ host: '127.0.0.1', port: sipPort, localAddress: `127.0.6.${batch + 1}` });
      held.push(s);
      s.on('error', () => undefined);
      s.once('close', () => {
        refused++;
        done();
      });
      s.once('connect', () => setTimeout(done, 20));
    })));
  }
  const health = await fetch(`http://127.0.0.1:${adminPort}/health`);
  assert.equal(health.status, 200, 'the admin API still accepts');
  const stats = (await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).json()) as {
    engine: { transport: { inboundSockets: number; outboundSocketsMax: number; drops: Record<string, number> } };
  };
  assert.equal(stats.engine.transport.inboundSockets, 288, 'inbound connections stopped at the lowered limit');
  assert.equal(stats.engine.transport.outboundSocketsMax, 96, 'the fitted outbound limit, not the 1,024 configured');
  assert.equal(stats.engine.transport.drops.ERR_SIP_TRANSPORT_CONN_LIMIT, 600 - 288);
  assert.equal(refused, 600 - 288, 'the surplus was closed by the gateway at accept');

  const caller = await ua(t);
  const call = await placeCall(caller, sipPort, '3000');
  assert.match(call.final, /^SIP\/2\.0 200 /, 'a call still goes through');
  assert.equal((await fetch(`http://127.0.0.1:${adminPort}/metrics`)).status, 200, 'and so does the metrics scrape');
});
