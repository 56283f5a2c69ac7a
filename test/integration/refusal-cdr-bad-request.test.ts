/**
 * A new INVITE the SIP parser refuses (a %-escaped header name) is a refused call: over a real UDP socket on loopback
 * it gets its 400 with a Reason and the engine hands on one refusal record (status 400, the parse error's code, the
 * Reason sent, Call-ID, numbers, source); its retransmission, a malformed OPTIONS and an ACK make none, nor does a
 * 400 the source's 400 rate dropped unanswered. Through `trunkgate start`, that record is a CDR in the JSON-lines file.
 * Each engine run ends with a valid INVITE that no app takes (503, its own record): records come in the order the
 * requests did, so once the probe's is in, any other would be too.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import type { RefusalRecord } from '../../src/engine/refusal-record.js';
import { readCdrFile } from '../support/cdr-file.js';
import { freePort } from '../support/sipp.js';
import { profilesDir, startTrunkgate } from '../support/trunkgate-process.js';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { until } from '../support/until.js';

const BAD_HEADER = '%58-Trunkgate-Peer: x';

async function engine(t: TestContext, badRequestsPerSecondPerSource?: number): Promise<{ e: Engine; port: number; records: RefusalRecord[] }> {
  const records: RefusalRecord[] = [];
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'bad-request-cdr' },
    // Time stands still: no bucket refills while the test runs, however slow the machine.
    clock: new ManualClock(Date.now()),
    ...(badRequestsPerSecondPerSource !== undefined ? { transportLimits: { badRequestsPerSecondPerSource } } : {}),
    onRefusalRecords: (batch) => records.push(...batch),
  });
  t.after(() => e.close());
  return { e, port: e.addresses()!.sip[0]!.port, records };
}

let n = 0;
function request(peer: UdpPeer, o: { method?: string; extra?: string[] } = {}): { text: string; callId: string } {
  const i = ++n;
  const method = o.method ?? 'INVITE';
  const callId = `bad-request-${process.pid}-${i}`;
  const text = [`${method} sip:4000@127.0.0.1 SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbr${process.pid}x${i}`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1>;tag=f${i}`, 'To: <sip:4000@127.0.0.1>', `Call-ID: ${callId}`, `CSeq: 1 ${method}`,
    `Contact: <sip:1000@127.0.0.1:${peer.port}>`, ...(o.extra ?? []), 'Content-Length: 0', '', ''].join('\r\n');
  return { text, callId };
}

const answers = (p: UdpPeer, callId: string, status: number): string[] => p.got.filter((m) => m.startsWith(`SIP/2.0 ${status} `) && m.includes(`Call-ID: ${callId}\r\n`));

/** Sends a valid INVITE no app takes and waits for its record: every record of what was sent before it is in. */
async function probe(peer: UdpPeer, port: number, records: RefusalRecord[]): Promise<string> {
  const p = request(peer);
  peer.s.send(p.text, port, '127.0.0.1');
  await until(() => records.some((r) => r.callId === p.callId), 'the probe\'s record');
  return p.callId;
}

test('a new INVITE the parser refuses gets its 400 and one record; its retransmission, a malformed OPTIONS and an ACK none', async (t) => {
  const { port, records } = await engine(t);
  const peer = await udpPeer(t, '127.0.0.1');
  const bad = request(peer, { extra: [BAD_HEADER] });
  peer.s.send(bad.text, port, '127.0.0.1');
  await until(() => answers(peer, bad.callId, 400).length === 1, 'the 400');
  const reason = /\r\nReason: (.*)\r\n/.exec(answers(peer, bad.callId, 400)[0]!)?.[1];
  assert.match(reason ?? '', /^SIP;cause=400;text=".*%58-Trunkgate-Peer/, 'the 400 says what was wrong');
  peer.s.send(bad.text, port, '127.0.0.1'); // the retransmission: same branch, same Call-ID
  await until(() => answers(peer, bad.callId, 400).length === 2, 'the retransmission\'s 400');
  const options = request(peer, { method: 'OPTIONS', extra: [BAD_HEADER] });
  peer.s.send(options.text, port, '127.0.0.1');
  await until(() => answers(peer, options.callId, 400).length === 1, 'the OPTIONS\' 400');
  peer.s.send(request(peer, { method: 'ACK', extra: [BAD_HEADER] }).text, port, '127.0.0.1');
  const probed = await probe(peer, port, records);

  assert.deepEqual(records.map((r) => r.callId), [bad.callId, probed]);
  const r = records[0]!;
  assert.deepEqual({ ...r, time: 0 }, {
    time: 0, callId: bad.callId, callingNumber: '1000', calledNumber: '4000', sourceAddress: '127.0.0.1', sourcePort: peer.port,
    transport: 'udp', listener: `127.0.0.1:${port}`, tenant: null, status: 400, reason, code: 'ERR_SIP_PARSE_HEADER',
  });
  assert.deepEqual([records[1]!.status, records[1]!.code], [503, 'ERR_ENGINE_NO_APP']);
});

test('a malformed INVITE the source\'s 400 rate drops unanswered gets no record', async (t) => {
  const { e, port, records } = await engine(t, 1); // two 400s, then none: the clock stands still
  const peer = await udpPeer(t, '127.0.0.1');
  const bad = [1, 2, 3].map(() => request(peer, { extra: [BAD_HEADER] }));
  for (const b of bad) peer.s.send(b.text, port, '127.0.0.1');
  await until(() => answers(peer, bad[0]!.callId, 400).length + answers(peer, bad[1]!.callId, 400).length === 2, 'two 400s');
  const probed = await probe(peer, port, records);
  assert.equal(answers(peer, bad[2]!.callId, 400).length, 0, 'the third was dropped unanswered');
  assert.equal(e.transport.stats().drops['ERR_SIP_TRANSPORT_BAD_REQUEST_RATE'], 1);
  assert.deepEqual(records.map((r) => [r.callId, r.status]), [[bad[0]!.callId, 400], [bad[1]!.callId, 400], [probed, 503]]);
});

test('npm start: a new INVITE the parser refuses is a refused call in the CDR file: status 400, cause, Reason, source', async (t) => {
  const sipPort = await freePort();
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  untrusted: reject
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
`);
  await startTrunkgate(t, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  const peer = await udpPeer(t, '127.0.0.1');
  const bad = request(peer, { extra: [BAD_HEADER] });
  peer.s.send(bad.text, sipPort, '127.0.0.1');
  await until(() => answers(peer, bad.callId, 400).length === 1, 'the 400', 8_000);
  await until(() => readCdrFile(dir).some((c) => c['callId'] === bad.callId), 'its CDR', 8_000);
  const cdr = readCdrFile(dir).find((c) => c['callId'] === bad.callId)!;
  assert.deepEqual([cdr['status'], cdr['cause'], cdr['releasedBy'], cdr['sourceAddress'], cdr['sourcePort'], cdr['transportIn'], cdr['listener']],
    [400, 'refused:ERR_SIP_PARSE_HEADER', 'engine', '127.0.0.1', peer.port, 'udp', `127.0.0.1:${sipPort}`]);
  assert.match(String(cdr['reason']), /^SIP;cause=400;text=".*%58-Trunkgate-Peer/);
  assert.deepEqual([cdr['callingNumber'], cdr['calledNumber'], cdr['attempts']], ['1000', '4000', 0]);
});
