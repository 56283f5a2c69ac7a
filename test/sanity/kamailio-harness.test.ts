// The kamailio harness against a bare Node TLS server: what kamailio sends (client certificate, SNI per
// destination profile) and what it logs about the requests it receives over TLS.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { startKamailio } from '../support/kamailio.js';
import { createTestCa } from '../support/test-certs.js';

/** Answers each SIP request on the socket with 200, echoing the headers a response must carry. */
function answerRequests(socket: TLSSocket, seen: string[]): void {
  let buf = '';
  socket.on('data', (d: Buffer) => {
    buf += d.toString();
    let end: number;
    while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      if (!/^[A-Z]+ /.test(head)) continue;
      seen.push(head);
      const keep = head.split('\r\n').filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq):/i.test(l));
      socket.write(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'));
    }
  });
  socket.on('error', () => undefined);
}

test('kamailio relays UDP to TLS: presents its client certificate and sends the destination profile\'s SNI', async (t) => {
  const kamCa = await createTestCa({ cn: 'kamailio test CA' });
  const gwCa = await createTestCa({ cn: 'gateway test CA' });
  t.after(() => kamCa.cleanup());
  t.after(() => gwCa.cleanup());
  const kamLeaf = await kamCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'IP:127.0.0.1'] });
  const gwLeaf = await gwCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });

  const requests: string[] = [];
  const handshakes: Array<{ servername: string | false; authorized: boolean; cn: string | undefined }> = [];
  const server = createServer({ key: gwLeaf.key, cert: gwLeaf.cert, ca: gwCa.cert + kamCa.cert, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      const peer = socket.getPeerCertificate();
      handshakes.push({ servername: (socket as TLSSocket & { servername: string | false }).servername, authorized: socket.authorized, cn: String(peer.subject?.CN ?? "") || undefined });
      answerRequests(socket, requests);
    });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const tlsPort = (server.address() as { port: number }).port;

  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: kamLeaf.cert, privateKey: kamLeaf.key, caList: gwCa.cert,
      destinations: [{ host: '127.0.0.1', port: tlsPort, serverName: 'gw.trunkgate.test' }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: tlsPort, transport: 'tls' } },
  });
  t.after(() => kam.stop());

  const udp = createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  t.after(() => udp.close());
  const me = udp.address().port;
  const kamUdp = kam.port('udp');
  udp.send([`OPTIONS sip:ping@127.0.0.1:${kamUdp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-harness-1;rport`,
    'Max-Forwards: 70', `From: <sip:probe@127.0.0.1:${me}>;tag=h1`, `To: <sip:ping@127.0.0.1:${kamUdp}>`,
    'Call-ID: harness-options-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'), kamUdp, '127.0.0.1');
  const [reply] = (await once(udp, 'message', { signal: AbortSignal.timeout(8000) }).catch((e: unknown) => {
    throw new Error(`no reply through kamailio (${String(e)}):\n${kam.logs().slice(-3000)}`);
  })) as [Buffer];

  assert.match(reply.toString(), /^SIP\/2\.0 200 /);
  assert.equal(requests.length, 1);
  assert.match(requests[0]!, /^OPTIONS sip:ping@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(requests[0]!, /^Via: SIP\/2\.0\/TLS 127\.0\.0\.1:\d+/im, 'kamailio added its TLS Via');
  assert.equal(handshakes.length, 1);
  assert.equal(handshakes[0]!.authorized, true, 'kamailio presented a certificate our CA list verifies');
  assert.equal(handshakes[0]!.cn, 'sbc.carrier.test');
  assert.equal(handshakes[0]!.servername, 'gw.trunkgate.test', 'SNI from the [client:127.0.0.1:port] profile');
  assert.deepEqual((await kam.waitForRequests((r) => r.length >= 1)).map((r) => `${r.method}/${r.proto}`), ['OPTIONS/udp']);
});

test('kamailio as TLS server logs the SNI, the verified client certificate and answers per its route', async (t) => {
  const ca = await createTestCa({ cn: 'kamailio test CA' });
  t.after(() => ca.cleanup());
  const kamLeaf = await ca.issue({ cn: 'pbx.remote.test', sans: ['DNS:localhost', 'IP:127.0.0.1'] });
  const clientLeaf = await ca.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test'] });
  const kam = await startKamailio({
    listen: [{ proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: kamLeaf.cert, privateKey: kamLeaf.key, caList: ca.cert, requireCertificate: true },
    route: { kind: 'reply', status: 486, reason: 'Busy Here' },
  });
  t.after(() => kam.stop());

  const socket = connect({ host: '127.0.0.1', port: kam.port('tls'), servername: 'localhost', ca: ca.cert, key: clientLeaf.key, cert: clientLeaf.cert });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  assert.equal(socket.authorized, true, String(socket.authorizationError));
  const local = `127.0.0.1:${socket.localPort}`;
  socket.write([`INVITE sip:100@127.0.0.1:${kam.port('tls')};transport=tls SIP/2.0`, `Via: SIP/2.0/TLS ${local};branch=z9hG4bK-harness-2;rport`,
    'Max-Forwards: 70', `From: <sip:gw@${local}>;tag=h2`, `To: <sip:100@127.0.0.1>`, 'Call-ID: harness-invite-2', 'CSeq: 1 INVITE',
    `Contact: <sip:gw@${local};transport=tls>`, 'Content-Length: 0', '', ''].join('\r\n'));
  let text = '';
  const signal = AbortSignal.timeout(8000);
  while (!/SIP\/2\.0 486/.test(text) && !signal.aborted) {
    const chunk = await once(socket, 'data', { signal }).catch(() => null);
    if (chunk) text += String((chunk as [Buffer])[0]);
  }
  assert.match(text, /^SIP\/2\.0 486 Busy Here/m, kam.logs().slice(-3000));
  const seen = await kam.waitForRequests((r) => r.length >= 1);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.proto, 'tls');
  assert.equal(seen[0]!.sni, 'localhost');
  assert.equal(seen[0]!.verified, '1');
  assert.equal(seen[0]!.peerCn, 'gw.trunkgate.test');
});
