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

test('a proxied request over TLS to a host name sends that name as SNI and checks the certificate against it, not the address', async () => {
  const h = setup(undefined, { lookup: async () => '192.0.2.7' });
  await proxy(h, 'sip:SBC.Carrier.Example.:5061;transport=tls', 'X-Trunkgate-Route: tenant=carrier;profile=edge\r\n');
  await flush();
  const sent = h.transport.sent.find((s) => s.target.address === '192.0.2.7');
  assert.ok(sent);
  assert.deepEqual([sent.target.protocol, sent.target.servername, sent.target.tlsProfile, sent.target.tenant], ['tls', 'sbc.carrier.example', 'edge', 'carrier']);
});

test("the route's domain= names the server over the host of the URI", async () => {
  const h = setup(undefined, { lookup: async () => '192.0.2.7' });
  await proxy(h, 'sip:edge1.carrier.example:5061;transport=tls', 'X-Trunkgate-Route: profile=edge;domain=sbc.carrier.example\r\n');
  await flush();
  const sent = h.transport.sent.find((s) => s.target.address === '192.0.2.7');
  assert.equal(sent?.target.servername, 'sbc.carrier.example');
});

test('a proxied request over TLS to an IP address sends no SNI', async () => {
  for (const dest of ['sip:127.0.0.3:5061;transport=tls', 'sip:[2001:db8::3]:5061;transport=tls']) {
    const h = setup();
    await proxy(h, dest, 'X-Trunkgate-Route: profile=edge\r\n');
    const sent = h.transport.sent.find((s) => s.target.protocol === 'tls');
    assert.ok(sent, dest);
    assert.equal(sent.target.servername, undefined, dest);
  }
});
