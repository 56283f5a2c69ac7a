import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeMediaPools, startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { startFakeNgServer } from '../support/fake-ng-server.js';
import { answer, sdp, ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';

// A caller's CANCEL while the media relay is still making the call's offer, over the real engine and drachtio-srf: the
// engine answers the caller at once, createB2BUA has no INVITE out to pass the CANCEL to, and the gateway must not
// place the B leg once the offer comes back. rtpengine's session for the offer is deleted.

/** Waits for `cond` with a bounded deadline; fails naming `what`. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((ok) => setTimeout(ok, 20));
  assert.ok(cond(), `no ${what}`);
}

test('a CANCEL while rtpengine makes the offer: 487 to the caller, no INVITE to the trunk, the offer deleted, a CDR saying the caller cancelled', async (t) => {
  const ng = await startFakeNgServer('hold');
  t.after(() => ng.close());
  t.after(() => closeMediaPools());
  const capture = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
  });
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'cancel-early-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy: B2buaPolicy = {
    tenants: {
      pbx: { transport: 'udp', media: { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } },
      lab: { transport: 'udp', sipServer: `127.0.0.1:${capture.port}` },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^5\\d{6}$'] }],
    dialPeers: [{ id: 'lab', destinationPattern: '^5\\d{6}$', tenant: 'lab' }],
    media: { rtpengines: [ng.address], timeoutMs: 10_000, pingIntervalMs: 3_600_000 },
  };
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 'cancel-early-secret' }, policy, log });
  t.after(() => app.close());

  const caller = await ua(t);
  const callId = `cancel-early-${process.pid}`;
  const common = (cseq: string) => [
    `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKcancel1;rport`, 'Max-Forwards: 70', `From: <sip:1000@127.0.0.1>;tag=c1`,
    `To: <sip:5551234@127.0.0.1:${sipPort}>`, `Call-ID: ${callId}`, `CSeq: ${cseq}`];
  caller.send([`INVITE sip:5551234@127.0.0.1:${sipPort} SIP/2.0`, ...common('1 INVITE'), `Contact: <sip:1000@127.0.0.1:${caller.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  await until(() => ng.count('offer') === 1, 'offer at rtpengine');

  caller.send([`CANCEL sip:5551234@127.0.0.1:${sipPort} SIP/2.0`, ...common('1 CANCEL'), 'Reason: SIP;cause=487;text="Hung up"',
    'Content-Length: 0', '', ''].join('\r\n'), sipPort);
  await caller.next(/^SIP\/2\.0 200 [\s\S]*CSeq: 1 CANCEL/);
  await caller.next(/^SIP\/2\.0 487 [\s\S]*CSeq: 1 INVITE/);

  // rtpengine's answer to the offer comes now, after the CANCEL.
  ng.mode = 'ok';
  ng.flushHeld();
  // Both tenants may take up SDES, so the call is anchored as a session per side (two offers): each is deleted.
  const offered = () => ng.received.filter((r) => r.command === 'offer').map((r) => r.callId).sort();
  const deleted = () => ng.received.filter((r) => r.command === 'delete').map((r) => r.callId).sort();
  await until(() => offered().length > 0 && JSON.stringify(deleted()) === JSON.stringify(offered()), 'delete of every session the offer made');
  await until(() => cdrs.length === 1, 'CDR');
  assert.deepEqual([cdrs[0]!.status, cdrs[0]!.cause, cdrs[0]!.releasedBy, cdrs[0]!.reasonIn, cdrs[0]!.attempts],
    [487, 'cancelled', 'caller', 'SIP;cause=487;text="Hung up"', 0]);
  assert.deepEqual(capture.received.filter((m) => m.startsWith('INVITE ')), [], 'the trunk got no INVITE');
  assert.equal(app.stats().failed[487], 1);
});
