import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { startGateway } from '../../src/gateway.js';
import { createTestCa } from '../support/test-certs.js';
import { answer, header, sdp, ua } from '../support/mini-ua.js';

/** Reads whole SIP messages from a TLS stream by Content-Length. */
function messages(socket: TLSSocket): { next(re: RegExp): Promise<string> } {
  let buf = '';
  const got: string[] = [];
  const waiters: { re: RegExp; resolve: (m: string) => void }[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/^content-length:\s*(\d+)/im.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const msg = buf.slice(0, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      const w = waiters.findIndex((x) => x.re.test(msg));
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(msg);
      else got.push(msg);
    }
  });
  return {
    next(re) {
      const seen = got.findIndex((m) => re.test(m));
      if (seen >= 0) return Promise.resolve(got.splice(seen, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message matching ${re}`)), 5_000);
        waiters.push({ re, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

test('a call whose A leg arrives over TLS completes through the gateway (engine worker + b2bua)', async (t) => {
  const ca = await createTestCa({ cn: 'gateway test CA' });
  t.after(() => ca.cleanup());
  const server = await ca.issue({ cn: 'gw.test.example', sans: ['DNS:gw.test.example', 'URI:sip:gw.test.example'] });
  const uas = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
    else if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
  const gw = await startGateway({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tls', host: '127.0.0.1', port: 0, tls: { key: server.key, cert: server.cert } },
    ],
    control: { host: '127.0.0.1', port: 0, secret: 'gw-tls-secret' },
    target: `127.0.0.1:${uas.port}`,
    logLevel: 'silent',
  });
  t.after(() => gw.close());
  const tlsPort = gw.addresses.sip.find((l) => l.protocol === 'tls')!.port;

  const socket = connect({ host: '127.0.0.1', port: tlsPort, servername: 'gw.test.example', ca: ca.cert });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  assert.equal(socket.authorized, true, 'the gateway showed a certificate from the test CA');
  const uac = messages(socket);
  const local = `127.0.0.1:${socket.localPort}`;
  const callId = `gw-tls-${process.pid}`;
  const common = (branch: string, cseq: string, toTag = '') => [
    `Via: SIP/2.0/TLS ${local};branch=z9hG4bK${branch};rport`, 'Max-Forwards: 70',
    `From: <sips:1000@${local}>;tag=tlsuac`, `To: <sips:2000@gw.test.example>${toTag}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq}`, `Contact: <sips:1000@${local};transport=tls>`];
  socket.write([`INVITE sips:2000@gw.test.example SIP/2.0`, ...common('tinv', '1 INVITE'), 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'));
  const ok = await uac.next(/^SIP\/2\.0 [2-6]\d\d [\s\S]*CSeq:\s*1 INVITE/im);
  assert.match(ok, /^SIP\/2\.0 200 /);
  assert.match(header(ok, 'Contact'), /transport=tls/i, 'the 200 on a TLS leg names the TLS transport in its Contact');
  const toTag = /;tag=([^;>\s]+)/.exec(header(ok, 'To'))![1]!;
  await uas.next(/^ACK /);
  socket.write([`ACK sips:2000@gw.test.example SIP/2.0`, ...common('tack', '1 ACK', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'));
  socket.write([`BYE sips:2000@gw.test.example SIP/2.0`, ...common('tbye', '2 BYE', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'));
  const byeOk = await uac.next(/^SIP\/2\.0 \d+ [\s\S]*CSeq:\s*2 BYE/im);
  assert.match(byeOk, /^SIP\/2\.0 200 /);
  await uas.next(/^BYE /);
  assert.equal(gw.b2bua.stats().connected, 1);
});
