// A trunk's 503 with Retry-After keeps the next calls off it (RFC 3261 §21.5.4): the first call fails over to the
// second dial peer, the second call goes there at once; trunk 1 gets exactly one INVITE. Real engine and b2bua on
// loopback; the trunks are mini UAs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, sdp, ua, type Ua } from '../support/mini-ua.js';

const withTag = (m: string, tag: string) => m.replace(/^(To: [^\r\n]*?)(;tag=[^\r\n]*)?$/m, `$1;tag=${tag}`);

test('failover: after a 503 with Retry-After the next call does not go to that trunk', async (t) => {
  let t1Invites = 0;
  const t1 = await ua(t, (msg, self, from) => {
    if (!msg.startsWith('INVITE ')) return;
    t1Invites++;
    self.send(withTag(answer(msg, '503 Service Unavailable', self.port), 't1tag').replace('Content-Length', 'Retry-After: 300\r\nContent-Length'), from);
  });
  const t2 = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(withTag(answer(msg, '200 OK', self.port, sdp), 't2tag'), from);
  });
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 's' },
  } as never);
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy: B2buaPolicy = {
    tenants: {
      pbx: { transport: 'udp' },
      one: { transport: 'udp', sipServer: `127.0.0.1:${t1.port}` },
      two: { transport: 'udp', sipServer: `127.0.0.1:${t2.port}` },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    tlsPeers: {},
    dialPeers: [
      { id: 'first', destinationPattern: '^\\d+$', tenant: 'one', preference: 0 },
      { id: 'second', destinationPattern: '^\\d+$', tenant: 'two', preference: 1 },
    ],
  };
  const { log } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy, log });
  t.after(() => app.close());
  const uac: Ua = await ua(t);
  for (let n = 1; n <= 2; n++) {
    const callId = `retry-after-${process.pid}-${n}`;
    const lines = [`INVITE sip:5551234@127.0.0.1:${sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKra${n};rport`, 'Max-Forwards: 70',
      `From: <sip:1000@127.0.0.1:${uac.port}>;tag=uac${n}`, `To: <sip:5551234@127.0.0.1:${sipPort}>`,
      `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
      'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp];
    uac.send(lines.join('\r\n'), sipPort);
    const final = await uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d[\\s\\S]*Call-ID: ${callId}`, 'im'));
    assert.match(final, /^SIP\/2\.0 200 /, `call ${n} answered by trunk 2`);
  }
  assert.equal(t1Invites, 1, 'trunk 1 got exactly one INVITE');
});
