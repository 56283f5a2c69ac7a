import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';

// The caller ID a B leg presents, over the real engine and drachtio-srf's createB2BUA: the gateway's own From, never
// the P-Asserted-Identity drachtio-srf would otherwise read, and a withheld identity stays withheld.

async function rig(t: TestContext) {
  const capture = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
    else if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'caller-id-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy: B2buaPolicy = {
    tenants: { pbx: { transport: 'udp' }, lab: { transport: 'udp', sipServer: `127.0.0.1:${capture.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^5\\d{6}$'] }],
    dialPeers: [{ id: 'lab', destinationPattern: '^5\\d{6}$', tenant: 'lab' }],
  };
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 'caller-id-secret' }, policy, log });
  t.after(() => app.close());
  return { sipPort, capture, cdrs, uac: await ua(t) };
}

let seq = 0;

/** Places a call from `from` with `extra` headers; returns the INVITE the called side got, and ends the call. */
async function bLegInvite(r: { sipPort: number; capture: Ua; uac: Ua }, from: string, extra: string[]): Promise<string> {
  const n = ++seq;
  const callId = `caller-id-${process.pid}-${n}`;
  const common = (branch: string, cseq: string, toTag = '') => [
    `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bK${branch}${n};rport`, 'Max-Forwards: 70', `From: ${from};tag=uac${n}`,
    `To: <sip:5551234@127.0.0.1:${r.sipPort}>${toTag}`, `Call-ID: ${callId}`, `CSeq: ${cseq}`, `Contact: <sip:caller@127.0.0.1:${r.uac.port}>`];
  r.uac.send([`INVITE sip:5551234@127.0.0.1:${r.sipPort} SIP/2.0`, ...common('inv', '1 INVITE'), ...extra,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), r.sipPort);
  const invite = await r.capture.next(/^INVITE /);
  const final = await r.uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  assert.match(final, /^SIP\/2\.0 200 /);
  const toTag = /;tag=([^;>\s]+)/.exec(header(final, 'To'))![1]!;
  r.uac.send([`ACK sip:5551234@127.0.0.1:${r.sipPort} SIP/2.0`, ...common('ack', '1 ACK', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
  r.uac.send([`BYE sip:5551234@127.0.0.1:${r.sipPort} SIP/2.0`, ...common('bye', '2 BYE', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
  await r.uac.next(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*CSeq:\\s*2 BYE`, 'im'));
  return invite;
}

const PAI = 'P-Asserted-Identity: "Alice Smith" <sip:+15551234@pbx>';

test('b2bua caller ID over the real engine: P-Asserted-Identity never sets it; Privacy: id keeps the caller anonymous', async (t) => {
  const r = await rig(t);

  await t.test('an anonymous caller with an asserted identity and Privacy: id goes out anonymous, with its Privacy', async () => {
    const invite = await bLegInvite(r, '"Anonymous" <sip:anonymous@anonymous.invalid>', [PAI, 'Privacy: id']);
    assert.match(header(invite, 'From'), /^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
    assert.equal(header(invite, 'Privacy'), 'id');
    assert.ok(!/15551234|Alice/.test(invite), invite);
  });

  await t.test('a caller\'s asserted identity does not replace its From: the B leg shows the From\'s number and name', async () => {
    const invite = await bLegInvite(r, '"Bob" <sip:2000@127.0.0.1>', [PAI]);
    assert.match(header(invite, 'From'), /^"Bob" <sip:2000@127\.0\.0\.1:\d+>;tag=/, 'at the engine\'s address');
    assert.equal(header(invite, 'Privacy'), '');
    assert.ok(!/15551234|Alice/.test(invite), invite);
    // The record names the number the callee was shown.
    for (let i = 0; i < 50 && r.cdrs.length < 2; i++) await new Promise((ok) => setTimeout(ok, 20));
    assert.deepEqual(r.cdrs.map((c) => c.callingNumber), ['anonymous', '2000']);
  });
});
