import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import type { PermissionCategory } from '../../src/policy/index.js';
import { startEngine } from '../../src/engine/index.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';
import { freePort, startSippUas } from '../support/sipp.js';

const categories: PermissionCategory[] = [
  { name: 'international', order: 30, default: false, patterns: ['^011\\d{4,}$', '^\\+(?!1)\\d{4,}$'] },
  { name: 'local', order: 60, default: true, patterns: ['^[2-9]\\d{2}[2-9]\\d{6}$', '^[2-9]\\d{6}$'] },
];

// A forged copy of the engine's header that the b2bua would believe if it arrived: its transport is the one the
// request comes over, and tenant carrier may call international numbers. Only the engine's stripping stops it.
const SPOOF = 'X-Trunkgate-Peer: tenant=carrier;verified=0;transport=udp';

interface Rig {
  sipPort: number;
  uac: Ua;
  capture: Ua;
  cdrs: Array<Record<string, unknown>>;
  warnings: string[];
  stats: () => ReturnType<Awaited<ReturnType<typeof startB2bua>>['stats']>;
}

async function rig(t: TestContext): Promise<Rig> {
  const sippUas = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport: 'u1' });
  t.after(() => sippUas.stop());
  // Nothing listens here: a TCP connect to it is refused, so the trunk is dead.
  const deadPort = await freePort();
  const capture = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
    else if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });

  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'pipeline-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;

  const policy: B2buaPolicy = {
    tenants: {
      pbx: { transport: 'udp', defaultPermissions: { international: false } },
      carrier: { transport: 'udp', sipServer: `127.0.0.1:${sippUas.port}`, defaultPermissions: { international: true } },
      dead: { transport: 'tcp', sipServer: `127.0.0.1:${deadPort}` },
      lab: { transport: 'udp', sipServer: `127.0.0.1:${capture.port}` },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories,
    // Would allow international, if the spoofed identity were believed.
    tlsPeers: { 'trusted.example': { permissions: { international: true } } },
    dialPeers: [
      { id: 'intl', destinationPattern: '^\\+', tenant: 'carrier' },
      { id: 'dead-first', destinationPattern: '^[2-9]\\d{2}[2-9]\\d{6}$', tenant: 'dead', preference: 0 },
      { id: 'carrier-second', destinationPattern: '^[2-9]\\d{2}[2-9]\\d{6}$', tenant: 'carrier', preference: 1 },
      { id: 'lab', destinationPattern: '^5\\d{6}$', tenant: 'lab' },
    ],
  };
  const { log, cdrs, warnings } = captureLog();
  const app = await startB2bua({
    engine: { host: addrs.control.host, port: addrs.control.port, secret: 'pipeline-secret' },
    policy,
    log,
  });
  t.after(() => app.close());
  const uac = await ua(t);
  return { sipPort, uac, capture, cdrs, warnings, stats: () => app.stats() };
}

let seq = 0;

/** Sends an INVITE for `number` and returns the final response and a function to end the call. */
async function call(r: Rig, number: string, extra: string[] = []) {
  const n = ++seq;
  const callId = `pipeline-${process.pid}-${n}`;
  const common = (branch: string, cseq: string, toTag = '') => [
    `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bK${branch}${n};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${r.uac.port}>;tag=uac${n}`, `To: <sip:${number}@127.0.0.1:${r.sipPort}>${toTag}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq}`, `Contact: <sip:1000@127.0.0.1:${r.uac.port}>`];
  r.uac.send([`INVITE sip:${number}@127.0.0.1:${r.sipPort} SIP/2.0`, ...common('inv', '1 INVITE'), ...extra,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), r.sipPort);
  const final = await r.uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  const status = Number(final.slice(8, 11));
  const hangUp = async () => {
    const toTag = /;tag=([^;>\s]+)/.exec(header(final, 'To'))![1]!;
    r.uac.send([`ACK sip:${number}@127.0.0.1:${r.sipPort} SIP/2.0`, ...common('ack', '1 ACK', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
    r.uac.send([`BYE sip:${number}@127.0.0.1:${r.sipPort} SIP/2.0`, ...common('bye', '2 BYE', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
    const ok = await r.uac.next(new RegExp(`^SIP/2\\.0 \\d+ [\\s\\S]*Call-ID: ${callId}[\\s\\S]*CSeq:\\s*2 BYE|^SIP/2\\.0 \\d+ [\\s\\S]*CSeq:\\s*2 BYE[\\s\\S]*Call-ID: ${callId}`, 'im'));
    return Number(ok.slice(8, 11));
  };
  return { status, final, hangUp, callId };
}

test('the policy pipeline over the real engine: 403 by category despite a spoofed identity, 404, failover, and no internal header leaves', async (t) => {
  const r = await rig(t);

  await t.test('an international number gets 403 naming the category; the spoofed identity header is not believed', async () => {
    const c = await call(r, '+442071234567', [SPOOF]);
    assert.equal(c.status, 403);
    assert.match(header(c.final, 'Reason'), /cause=403;text="Calls to international numbers are not permitted \(category international: permission international denied to tenant pbx/);
    assert.ok(!/x-trunkgate/i.test(c.final), 'no internal header in the response');
  });

  await t.test('an unknown number gets 404', async () => {
    const c = await call(r, '999');
    assert.equal(c.status, 404);
    assert.match(header(c.final, 'Reason'), /cause=404/);
  });

  await t.test('a local number: the first trunk is dead, the second dial peer (sipp) answers 200, and the call ends', async () => {
    const c = await call(r, '2125551234', [SPOOF]);
    assert.equal(c.status, 200, c.final);
    assert.equal(await c.hangUp(), 200);
  });

  await t.test('the B leg carries the called number and neither the spoofed nor any internal header', async () => {
    const c = await call(r, '5551234', [SPOOF]);
    assert.equal(c.status, 200, c.final);
    const invite = await r.capture.next(/^INVITE /);
    assert.match(invite, /^INVITE sip:5551234@127\.0\.0\.1:\d+ SIP\/2\.0/);
    assert.ok(!/x-trunkgate/i.test(invite), invite);
    assert.equal(header(invite, 'Max-Forwards'), '69');
    assert.equal(await c.hangUp(), 200);
  });

  await t.test('counters and CDR lines', async () => {
    const s = r.stats();
    assert.deepEqual(s.policy?.deniedByCategory, { international: 1 });
    assert.equal(s.policy?.noRoute, 1);
    assert.equal(s.policy?.failovers, 1);
    // The engine removed each network copy and put its own: the b2bua never saw a header that was not the engine's.
    assert.equal(s.policy?.peerHeaderIgnored, 0);
    assert.equal(s.connected, 2);
    // Every INVITE that reached the policy is attempted once and counted once under its outcome, refusals included.
    assert.equal(s.attempted, 4);
    assert.deepEqual(s.failed, { 403: 1, 404: 1 });
    assert.equal(s.attempted, s.connected + s.failedTotal);
    const byNumber = new Map(r.cdrs.map((c) => [c.calledNumber, c]));
    assert.equal(byNumber.get('+442071234567')?.cause, 'denied:international');
    assert.equal(byNumber.get('+442071234567')?.tenantIn, 'pbx');
    assert.equal(byNumber.get('999')?.cause, 'no-route');
    // the completed calls' CDRs come when both legs are released
    for (let i = 0; i < 50 && r.cdrs.filter((c) => c.cause === 'normal').length < 2; i++) await new Promise((ok) => setTimeout(ok, 20));
    const local = r.cdrs.find((c) => c.calledNumber === '2125551234');
    assert.equal(local?.dialPeer, 'carrier-second');
    assert.equal(local?.tenantOut, 'carrier');
    assert.equal(local?.attempts, 2);
    assert.equal(local?.status, 200);
    assert.deepEqual([...new Set(r.cdrs.map((c) => c.tenantIn))], ['pbx'], 'no call took the forged tenant');
  });
});
