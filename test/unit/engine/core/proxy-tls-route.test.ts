import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, invite, setup } from './core-harness.js';

/** The app's proxy command for the last request handed to it, with extra header lines in its SIP text. */
async function proxy(h: ReturnType<typeof setup>, dest: string, extra: string): Promise<void> {
  h.fromNet(invite());
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px1', transactionId: h.hub.sips.at(-1)!.meta.transactionId, remainInDialog: false, fullResponse: true,
    followRedirects: false, simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: [dest],
    sip: `INVITE ${dest} SIP/2.0\r\n${extra}\r\n`,
  });
  await flush();
}

test('a proxied request over TLS takes the TLS profile, tenant and name the app gave in X-Trunkgate-Route; the header never leaves', async () => {
  const h = setup();
  await proxy(h, 'sip:127.0.0.3:5061;transport=tls', 'X-Trunkgate-Route: tenant=carrier;profile=edge;domain=sbc.carrier.example\r\n');
  const sent = h.transport.sent.find((s) => s.target.address === '127.0.0.3');
  assert.ok(sent);
  assert.deepEqual([sent.target.protocol, sent.target.tlsProfile, sent.target.tenant, sent.target.servername], ['tls', 'edge', 'carrier', 'sbc.carrier.example']);
  assert.equal(header(sent.msg, 'x-trunkgate-route'), undefined);
});

test('over UDP or TCP the header is read and dropped; no TLS fields are set', async () => {
  const h = setup();
  await proxy(h, 'sip:127.0.0.3:5060', 'X-Trunkgate-Route: tenant=carrier;profile=edge\r\n');
  const sent = h.transport.sent.find((s) => s.target.address === '127.0.0.3');
  assert.ok(sent);
  assert.deepEqual([sent.target.tlsProfile, sent.target.tenant, sent.target.servername], [undefined, undefined, undefined]);
  assert.equal(header(sent.msg, 'x-trunkgate-route'), undefined);
});
