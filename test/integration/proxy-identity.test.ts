// The identity a load balancer in front of the gateway vouches for (issue 13, item 2): kamailio terminates the
// carrier's mutual TLS and puts the certificate's names in X-Carrier-Identity. The gateway, started as `npm start`
// starts it, believes that header only on the tenant that names it and only from the proxy's address; from another
// source it is removed, ignored and counted. The caller's permissions follow: tenant carrier refuses unknown peers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../support/sipp.js';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { profilesDir, startTrunkgate } from '../support/trunkgate-process.js';

function invite(from: UdpPeer, host: string, gwPort: number, n: number, identity?: string): string {
  const branch = `z9hG4bK-pi-${n}-${Date.now()}`;
  return [
    `INVITE sip:+442071234567@127.0.0.1:${gwPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${from.port};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <sip:carrier@${host}>;tag=pi${n}`,
    `To: <sip:+442071234567@127.0.0.1>`,
    `Call-ID: proxy-identity-${n}-${Date.now()}@${host}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:carrier@${host}:${from.port}>`,
    ...(identity !== undefined ? [`X-Carrier-Identity: ${identity}`] : []),
    'Content-Length: 0', '', '',
  ].join('\r\n');
}

async function finalStatus(peer: UdpPeer, callN: number): Promise<number> {
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((ok) => setTimeout(ok, 25))) {
    const final = peer.got.find((m) => m.includes(`proxy-identity-${callN}-`) && /^SIP\/2\.0 [2-6]\d\d/.test(m));
    if (final) return Number(final.slice(8, 11));
  }
  throw new Error(`no final response to call ${callN}: ${peer.got.join('\n---\n')}`);
}

test('a proxy identity header gives the TLS peer\'s permissions from the proxy\'s address only', { timeout: 60_000 }, async (t) => {
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: carrier
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  carrier:
    transport: udp
    trustedSources: [127.0.0.0/8]
    unknownPeer: reject
    defaultPermissions: { international: true }
    proxyIdentity: { header: X-Carrier-Identity, trustedFrom: [127.0.0.1/32] }
tlsPeers:
  sbc.carrier.test: { permissions: { international: true }, tenants: [carrier] }
`);
  const gw = await startTrunkgate(t, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  const proxy = await udpPeer(t, '127.0.0.1');
  const other = await udpPeer(t, '127.0.0.2');
  const send = (p: UdpPeer, host: string, n: number, id?: string): void => { p.s.send(invite(p, host, sipPort, n, id), sipPort, '127.0.0.1'); };

  // From the proxy: the named peer's permissions apply; the call passes them and finds no dial peer (404).
  send(proxy, '127.0.0.1', 1, 'sbc.carrier.test');
  assert.equal(await finalStatus(proxy, 1), 404);
  // From the proxy without the header, and from another loopback address with it: an unknown peer, refused.
  send(proxy, '127.0.0.1', 2);
  assert.equal(await finalStatus(proxy, 2), 403);
  send(other, '127.0.0.2', 3, 'sbc.carrier.test');
  assert.equal(await finalStatus(other, 3), 403);

  await gw.waitFor(() => gw.lines.filter((l) => l.msg === 'cdr').length >= 3, 10_000);
  const cdr = gw.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  const byCall = (n: number) => cdr.find((c) => String(c.callId).startsWith(`proxy-identity-${n}-`))!;
  assert.deepEqual([byCall(1).tlsPeer, byCall(1).identityOrigin, byCall(1).identities], ['sbc.carrier.test', 'proxy', ['dns:sbc.carrier.test']]);
  assert.deepEqual([byCall(3).tlsPeer, byCall(3).identityOrigin, byCall(3).identities], [null, null, []]);

  const stats = await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).json() as Record<string, unknown>;
  const text = JSON.stringify(stats);
  assert.match(text, /"proxyIdentityIgnored":1\b/, text.slice(0, 2000));
  assert.match(text, /"proxyIdentityTaken":1\b/);
  assert.ok(gw.lines.some((l) => l.code === 'ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED'), 'logged with its code');
});
