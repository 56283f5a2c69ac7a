// A call ringing past the engine's final-answer time for the app (gateway.limits.appFinalTimeoutMs, carried to the
// b2bua with gateway.calls) is ended by the b2bua first: the ringing trunk is cancelled, the caller gets 480 with a
// Reason (not the engine's 503 with Retry-After), no other dial peer is tried, and the CDR says no-answer, released by
// the gateway, never by the caller. Real engine and b2bua on loopback; the trunks are mini UAs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy, type CallLimitsPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';

const withTag = (m: string, tag: string) => m.replace(/^(To: [^\r\n]*?)(;tag=[^\r\n]*)?$/m, `$1;tag=${tag}`);

test('failover: a call ringing past the engine\'s final-answer time gets 480 from the b2bua, its CDR no-answer by the gateway', async (t) => {
  let invite = '';
  const t1 = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) {
      invite = msg;
      self.send(withTag(answer(msg, '180 Ringing', self.port), 't1tag'), from);
    }
    if (msg.startsWith('CANCEL ')) {
      self.send(answer(msg, '200 OK', self.port), from);
      self.send(withTag(answer(invite, '487 Request Terminated', self.port), 't1tag'), from);
    }
  });
  const t2 = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(withTag(answer(msg, '200 OK', self.port, sdp), 't2tag'), from);
  });
  const appFinalTimeoutMs = 3_000;
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 's' },
    limits: { appFinalTimeoutMs },
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
    calls: { appFinalTimeoutMs } as CallLimitsPolicy,
  };
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy, log });
  t.after(() => app.close());
  const uac: Ua = await ua(t);

  const callId = `setup-limit-${process.pid}`;
  const lines = [`INVITE sip:5551234@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKsetup1;rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${uac.port}>;tag=uac1`, `To: <sip:5551234@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp];
  uac.send(lines.join('\r\n'), sipPort);
  const final = await uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d[\\s\\S]*Call-ID: ${callId}`, 'im'));
  assert.match(final, /^SIP\/2\.0 480 /, 'the b2bua answered before the engine');
  assert.match(header(final, 'Reason'), /^SIP;cause=480;text="No answer within/);
  assert.equal(header(final, 'Retry-After'), '', 'not the engine\'s 503');
  await t1.next(/^CANCEL /);
  // The record is written as the call fails; it is waited for, never a time.
  for (let i = 0; i < 100 && !cdrs.some((c) => c.callId === callId); i++) await new Promise((ok) => setTimeout(ok, 20));
  const cdr = cdrs.find((c) => c.callId === callId);
  assert.ok(cdr, 'a CDR was written');
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.attempts], [480, 'no-answer', 'gateway', 1], 'no other dial peer is tried');
  assert.equal(t2.received.filter((m) => m.startsWith('INVITE ')).length, 0);
});
