/**
 * `trunkgate start` (engine in its own worker, CDRs to the default JSON-lines file) writes a CDR for each new INVITE
 * its engine refuses before the b2bua sees it: an untrusted source's 403 and a trusted source's 503 past its request
 * rate, each with its status, Reason, cause refused:<code> and source. A flood of refusals writes no more records than
 * gateway.limits.refusalCdrsPerSecond lets through and counts the rest, in /stats and /metrics, with one warn line.
 * 127.0.0.1 and 127.0.0.3 are trusted; 127.0.0.2 and 127.0.0.20-24 stand for untrusted sources.
 */
import assert from 'node:assert/strict';
import { after, test, type TestContext } from 'node:test';
import { readCdrFile } from '../support/cdr-file.js';
import { parsePromText } from '../support/prom-text.js';
import { freePort } from '../support/sipp.js';
import { profilesDir, startTrunkgate, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';

/** Records a second (burst twice that): low, so a flood of 20 passes it. */
const PER_SECOND = 2;

interface Rig { p: TrunkgateProcess; dir: string; sipPort: number; adminPort: number }

// One gateway for the file: each test sends its own Call-IDs from its own sockets; the tests run in order and share
// the records' bucket, which the flood test allows for.
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const fileScope = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
let started: Promise<Rig> | undefined;
const rig = (): Promise<Rig> => (started ??= (async () => {
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const dir = profilesDir(fileScope, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  untrusted: reject
  admin: { enabled: true, host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  limits: { requestsPerSecondPerSource: 1, requestBurstPerSource: 1, refusalCdrsPerSecond: ${PER_SECOND} }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32, 127.0.0.3/32] }
`);
  const p = await startTrunkgate(fileScope, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  await p.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('admin API on'), 10_000);
  return { p, dir, sipPort, adminPort };
})());

let n = 0;
function invite(peer: UdpPeer, host: string): { text: string; callId: string } {
  const i = ++n;
  const callId = `refusal-cdr-${process.pid}-${i}`;
  const text = ['INVITE sip:4000@127.0.0.1 SIP/2.0', `Via: SIP/2.0/UDP ${host}:${peer.port};branch=z9hG4bKrc${process.pid}x${i}`, 'Max-Forwards: 70',
    `From: <sip:1000@${host}>;tag=f${i}`, 'To: <sip:4000@127.0.0.1>', `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:1000@${host}:${peer.port}>`, 'Content-Length: 0', '', ''].join('\r\n');
  return { text, callId };
}

async function until<T>(get: () => T | undefined, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const finalFor = (p: UdpPeer, callId: string): string | undefined => p.got.find((m) => /^SIP\/2\.0 [3-6]\d\d /.test(m) && m.includes(`Call-ID: ${callId}`));
const cdrOf = (dir: string, callId: string) => readCdrFile(dir).find((c) => c['callId'] === callId);

interface RefusalStats { perSecond: number; written: number; dropped: number; retransmissions: number }
async function refusalStats(adminPort: number): Promise<RefusalStats> {
  const r = await fetch(`http://127.0.0.1:${adminPort}/stats`, { signal: AbortSignal.timeout(5_000) });
  return ((await r.json()) as { engine: { refusalRecords: RefusalStats } }).engine.refusalRecords;
}

test('npm start: an untrusted source\'s INVITE gets its 403 and a CDR in the JSON-lines file: status, cause, Reason, source', async (t) => {
  const { dir, sipPort } = await rig();
  const bad = await udpPeer(t, '127.0.0.2');
  const r = invite(bad, '127.0.0.2');
  bad.s.send(r.text, sipPort, '127.0.0.1');
  assert.match(await until(() => finalFor(bad, r.callId), 'the 403'), /^SIP\/2\.0 403 /);
  const cdr = await until(() => cdrOf(dir, r.callId), 'its CDR');
  assert.deepEqual([cdr['status'], cdr['cause'], cdr['reason'], cdr['releasedBy'], cdr['sourceAddress'], cdr['sourcePort'], cdr['transportIn'], cdr['listener']],
    [403, 'refused:ERR_ENGINE_UNTRUSTED_SOURCE', 'SIP;cause=403;text="untrusted source"', 'engine', '127.0.0.2', bad.port, 'udp', `127.0.0.1:${sipPort}`]);
  assert.deepEqual([cdr['callingNumber'], cdr['calledNumber'], cdr['attempts'], cdr['targets']], ['1000', '4000', 0, []]);
});

test('npm start: a trusted source past its request rate gets its 503 and a CDR naming the rate, its source and tenant', async (t) => {
  const { dir, sipPort } = await rig();
  const pbx = await udpPeer(t, '127.0.0.3');
  const first = invite(pbx, '127.0.0.3');
  const second = invite(pbx, '127.0.0.3');
  pbx.s.send(first.text, sipPort, '127.0.0.1');
  pbx.s.send(second.text, sipPort, '127.0.0.1');
  // The first takes the source's one token and reaches the b2bua (no dial peer: its own 404 and CDR); the second is refused at the edge.
  assert.match(await until(() => finalFor(pbx, second.callId), 'the 503'), /^SIP\/2\.0 503 /);
  const cdr = await until(() => cdrOf(dir, second.callId), 'its CDR');
  assert.deepEqual([cdr['status'], cdr['cause'], cdr['reason'], cdr['releasedBy'], cdr['sourceAddress'], cdr['sourcePort'], cdr['tenantIn']],
    [503, 'refused:ERR_ENGINE_SOURCE_RATE', 'SIP;cause=503;text="source over its request rate"', 'engine', '127.0.0.3', pbx.port, 'pbx']);
  const other = await until(() => cdrOf(dir, first.callId), 'the admitted call\'s own CDR');
  assert.notEqual(other['releasedBy'], 'engine', 'the call the b2bua took has the b2bua\'s record');
});

test('npm start: a flood of refusals writes no more CDRs than refusalCdrsPerSecond allows; the rest are counted and logged once', async (t) => {
  const { p, dir, sipPort, adminPort } = await rig();
  const sources = await Promise.all([20, 21, 22, 23, 24].map((i) => udpPeer(t, `127.0.0.${i}`)));
  const before = await refusalStats(adminPort);
  const t0 = Date.now();
  // Four from each source: within the 403s one untrusted source may get a second (5), so each is answered.
  const sent = sources.flatMap((s, i) => Array.from({ length: 4 }, () => ({ s, r: invite(s, `127.0.0.${20 + i}`) })));
  for (const { s, r } of sent) s.s.send(r.text, sipPort, '127.0.0.1');
  for (const { s, r } of sent) assert.match(await until(() => finalFor(s, r.callId), `the 403 to ${r.callId}`), /^SIP\/2\.0 403 /);
  // Each refusal is counted as its 403 is sent: with every 403 in, the counts are final.
  const after = await refusalStats(adminPort);
  const elapsedS = (Date.now() - t0) / 1000;
  const written = after.written - before.written;
  const dropped = after.dropped - before.dropped;
  assert.equal(written + dropped, sent.length, 'every refusal either written or counted');
  // The bucket held at most its burst when the flood began and took its rate a second while it lasted.
  const bound = 2 * PER_SECOND + Math.ceil(PER_SECOND * elapsedS);
  assert.ok(written <= bound, `${written} written, at most ${bound} in ${elapsedS.toFixed(2)} s`);
  assert.ok(dropped >= sent.length - bound, `${dropped} counted without a record`);
  await until(() => (readCdrFile(dir).filter((c) => sent.some(({ r }) => r.callId === c['callId'])).length === written ? true : undefined), `${written} CDRs in the file`);
  const warned = await p.waitFor((l) => l.code === 'ERR_ENGINE_REFUSAL_CDR_RATE', 5_000);
  assert.equal(p.lines.filter((l) => l.code === 'ERR_ENGINE_REFUSAL_CDR_RATE').length, 1, 'one line for the flood');
  assert.equal(warned.line['perSecond'], PER_SECOND);
  const prom = parsePromText(await (await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text());
  assert.equal(prom.types.get('trunkgate_refusal_cdrs_total'), 'counter');
  const now = await refusalStats(adminPort);
  assert.equal(prom.value('trunkgate_refusal_cdrs_total', { outcome: 'dropped' }), now.dropped);
  assert.equal(prom.value('trunkgate_refusal_cdrs_total', { outcome: 'written' }), now.written);
});
