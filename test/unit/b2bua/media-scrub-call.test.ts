import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareCallSdp, type CallSdp, type CallSdpInput } from '../../../src/b2bua/call-sdp.js';
import type { RtpenginePool } from '../../../src/media/index.js';

// An anchored call: what reaches one side names nothing of the other, whatever rtpengine passes through.

/** What one side writes: its names and addresses outside the lines rtpengine rewrites, and an MSRP section rtpengine passes on as it is. */
const chatty = (who: string, net: string) => [
  'v=0', `o=${who}-admin 1 1 IN IP4 ${net}.5`, `s=${who} ${who}01.corp.internal`, `i=trunk to ${net}.5`, `u=http://${net}.5/`, `e=admin@${who}.internal`,
  `c=IN IP4 ${net}.5`, 't=0 0', `a=x-host:${net}.5`,
  'm=audio 4000 RTP/AVP 0', `a=x-media-origin:${net}.8`, `a=candidate:1 1 UDP 2130706431 ${net}.7 4000 typ host`, `a=ssrc:1 cname:${who}@${net}.5`,
  'a=rtpmap:0 PCMU/8000',
  'm=message 7000 TCP/MSRP *', `c=IN IP4 ${net}.11`, `a=path:msrp://${net}.11:7000/abc;tcp`,
  '',
].join('\r\n');

/** rtpengine as it behaves: the origin, connections and relayed ports are its own, everything else passes through. */
function rewrite(body: string): string {
  return body.replace(/^o=(\S+) (\S+) (\S+) IN IP4 \S+/m, 'o=$1 $2 $3 IN IP4 192.0.2.200').replace(/^c=IN IP4 (?!0\.0\.0\.0)\S+$/gm, 'c=IN IP4 192.0.2.200')
    .replace(/^m=audio \d+/m, 'm=audio 30000');
}

function fakePool() {
  const seen: string[] = [];
  const through = async (...a: unknown[]) => {
    const body = a.find((x): x is string => typeof x === 'string' && x.startsWith('v=0'))!;
    seen.push(body);
    return rewrite(body);
  };
  const session = { answer: through, reoffer: through, reanswer: through, delete: async () => undefined };
  // A late offer holds the pool until its session is made (RtpenginePool.hold).
  const pool = { offer: async (_k: unknown, body: string) => ({ sdp: await through(body), session }), hold: () => () => undefined };
  return { pool: pool as unknown as RtpenginePool, seen };
}

const input = (pool: RtpenginePool, o: Partial<CallSdpInput> = {}): CallSdpInput => ({
  body: chatty('pbx', '10.0.0'), callId: 'c1', from: '<sip:1001@pbx>;tag=ft', pool,
  tenantIn: { name: 'pbx', policy: { media: { mode: 'flow-through', srtp: 'off' } } },
  tenantOut: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: 'off' } } }, ...o,
});

/** Whatever of `who`'s names and addresses is left in `body`. */
const traces = (body: string, who: string, net: string) => [...body.matchAll(new RegExp(`${net.replace(/\./g, '\\.')}\\.\\d+|${who}`, 'g'))].map((m) => m[0]);

test('the offer to the carrier and the answer to the PBX carry no name or address of the other side', async () => {
  const { pool, seen } = fakePool();
  const r = (await prepareCallSdp(input(pool))) as CallSdp;
  const toCarrier = String(r.opts.localSdpB);
  assert.deepEqual(traces(toCarrier, 'pbx', '10.0.0'), []);
  assert.match(toCarrier, /^s=-$/m);
  assert.match(toCarrier, /^m=message 0 TCP\/MSRP \*$/m, 'the MSRP section rtpengine cannot relay is disabled');
  assert.match(toCarrier, /^a=rtpmap:0 PCMU\/8000$/m, 'what media needs is kept');
  assert.match(seen[0]!, /^m=message 0 TCP\/MSRP \*\r\nc=IN IP4 0\.0\.0\.0$/m, 'disabled before rtpengine saw it');
  assert.doesNotMatch(seen[0]!, /a=candidate|a=x-/, 'rtpengine gets no candidate to send checks to');

  const toPbx = await r.opts.localSdpA(chatty('carrier', '172.16.0'), { get: () => '<sip:x@y>;tag=bt' });
  assert.deepEqual(traces(String(toPbx), 'carrier', '172.16.0'), []);
});

test('in the dialog and on a late offer, the same holds each way', async () => {
  const { pool } = fakePool();
  const r = (await prepareCallSdp(input(pool))) as CallSdp;
  assert.deepEqual(traces(await r.inDialog!.offer('B', chatty('carrier', '172.16.0')), 'carrier', '172.16.0'), []);
  assert.deepEqual(traces(await r.inDialog!.answer('B', chatty('pbx', '10.0.0')), 'pbx', '10.0.0'), []);

  const late = (await prepareCallSdp(input(pool, { body: '' }))) as CallSdp;
  const toPbx = await late.opts.localSdpA(chatty('carrier', '172.16.0'), { get: () => '<sip:x@y>;tag=bt' });
  assert.deepEqual(traces(String(toPbx), 'carrier', '172.16.0'), []);
  const ack = await (late.opts.localSdpB as (s: string) => Promise<string>)(chatty('pbx', '10.0.0'));
  assert.deepEqual(traces(ack, 'pbx', '10.0.0'), []);
});

test('a call whose media flows around the gateway passes its SDP as it came', () => {
  const r = prepareCallSdp({ ...input(undefined as unknown as RtpenginePool), tenantIn: { name: 'pbx', policy: {} }, tenantOut: { name: 'carrier', policy: {} } });
  assert.ok(!(r instanceof Promise) && r.ok);
  if (r instanceof Promise || !r.ok) return;
  assert.equal(r.opts.localSdpA(chatty('carrier', '172.16.0')), chatty('carrier', '172.16.0'));
});
