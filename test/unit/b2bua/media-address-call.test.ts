import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { B2buaPolicy } from '../../../src/b2bua/index.js';
import { answerRefused, prepareCallSdp, type CallSdp, type CallSdpInput } from '../../../src/b2bua/call-sdp.js';
import { b2buaPolicyFromConfig, parseConfig } from '../../../src/config/index.js';
import type { RtpenginePool, TenantMedia } from '../../../src/media/index.js';
import { settle } from './fake-srf.js';
import { cdrOf, start } from './middleware/place-call-rig.js';
import { inDialog, relay } from './pass-through-rig.js';
import { policy } from './pipeline-fakes.js';

// rtpengine sends each side's media where that side's SDP points: an anchored call's SDP may only name addresses
// media may go to, and rtpengine is told where the SIP message came from.

const sdp = (addr: string, extra = '') => `v=0\r\no=- 1 1 IN IP4 ${addr}\r\ns=-\r\nc=IN IP4 ${addr}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n${extra}`;
const relayed = sdp('192.0.2.200');

/** A pool that records each ng request's parameters (never SDP) and answers with `relayed`. */
function fakePool() {
  const asked: Array<{ cmd: string; params: Record<string, unknown> }> = [];
  const rec = (cmd: string) => async (...a: unknown[]) => (asked.push({ cmd, params: a.at(-1) as Record<string, unknown> }), relayed);
  const session = { answer: rec('answer'), reoffer: rec('reoffer'), reanswer: rec('reanswer'), delete: async () => undefined };
  const pool = { offer: async (_k: unknown, _s: string, params: Record<string, unknown>) => (asked.push({ cmd: 'offer', params }), { sdp: relayed, session }) };
  return { pool: pool as unknown as RtpenginePool, asked };
}

const through = (allowedNetworks?: string[]): TenantMedia => ({ mode: 'flow-through', srtp: 'off', ...(allowedNetworks ? { allowedNetworks } : {}) });
const input = (o: Partial<CallSdpInput> = {}): CallSdpInput => ({
  body: sdp('198.51.100.7'), callId: 'c1', from: '<sip:1001@pbx>;tag=ft', source: '203.0.113.5',
  tenantIn: { name: 'pbx', policy: { media: through() } }, tenantOut: { name: 'carrier', policy: { media: through() } }, ...o,
});
const addressRefusal = (text: RegExp) => (e: unknown) => answerRefused(e) && e.status === 488 && e.cause === 'media-address'
  && e.code === 'ERR_MEDIA_ADDRESS_REFUSED' && text.test(e.reasonHeader);

test('a caller\'s offer naming loopback (a port on the relay\'s own host) or a third party outside its networks: 488 before rtpengine is asked', async () => {
  const { pool, asked } = fakePool();
  for (const [body, media, text] of [
    [sdp('127.0.0.1'), through(), /Media address 127\.0\.0\.1 of the offer from tenant pbx is loopback/],
    [sdp('198.51.100.7'), through(['192.0.2.0/24']), /Media address 198\.51\.100\.7 of the offer from tenant pbx is outside its media\.allowedNetworks/],
  ] as const) {
    const r = await prepareCallSdp(input({ pool, body, tenantIn: { name: 'pbx', policy: { media } } }));
    assert.ok(!r.ok);
    if (r.ok) continue;
    assert.deepEqual([r.refusal.status, r.refusal.cause, r.refusal.code], [488, 'media-address', 'ERR_MEDIA_ADDRESS_REFUSED']);
    assert.match(r.refusal.reasonHeader, text);
  }
  assert.deepEqual(asked, []);
});

test('loopback named in the tenant\'s allowedNetworks is taken; rtpengine gets the caller\'s source as received-from and no flag that overrides the SDP', async () => {
  const { pool, asked } = fakePool();
  const r = await prepareCallSdp(input({ pool, body: sdp('127.0.0.2'), tenantIn: { name: 'pbx', policy: { media: through(['127.0.0.0/8']) } } }));
  assert.ok(r.ok);
  assert.deepEqual(asked[0]!.params['received-from'], ['IP4', '203.0.113.5']);
  for (const p of asked) {
    assert.equal(p.params['media address'] ?? p.params['media-address'], undefined);
    assert.ok(!JSON.stringify(p.params).match(/SIP.source|sip-source/i));
  }
});

test('the called side\'s answer naming multicast is refused (488, cause media-address) before rtpengine sees it; a good one carries its source', async () => {
  const { pool, asked } = fakePool();
  const r = (await prepareCallSdp(input({ pool }))) as CallSdp;
  const res = (from: string) => ({ source_address: from, get: (n: string) => (n === 'To' ? '<sip:x@y>;tag=bt' : undefined) });
  await assert.rejects(Promise.resolve(r.opts.localSdpA(sdp('224.0.0.9'), res('192.0.2.50'))), addressRefusal(/224\.0\.0\.9 of the answer from tenant carrier is multicast/));
  assert.deepEqual(asked.map((a) => a.cmd), ['offer']);
  await r.opts.localSdpA(sdp('192.0.2.60'), res('192.0.2.50'));
  assert.deepEqual(asked.map((a) => [a.cmd, a.params['received-from']]), [['offer', ['IP4', '203.0.113.5']], ['answer', ['IP4', '192.0.2.50']]]);
});

test('in the call: hold (c=0.0.0.0, a=sendonly) goes through; a re-offer naming loopback is refused 488 and neither rtpengine nor the other leg sees it', async () => {
  const { pool, asked } = fakePool();
  const call = (await prepareCallSdp(input({ pool }))) as CallSdp;
  assert.equal(await call.inDialog!.offer('A', sdp('0.0.0.0', 'a=sendonly\r\n')), relayed);
  assert.equal(await call.inDialog!.offer('A', sdp('198.51.100.7', 'a=inactive\r\n')), relayed);
  const r = relay({ media: call.inDialog! });
  const sent: Array<{ status: number; reason?: string | undefined }> = [];
  const res = { send: (status: number, o?: { headers?: Record<string, string> }) => void sent.push({ status, reason: o?.headers?.Reason }) };
  r.uas.emit('modify', inDialog(sdp('127.0.0.1'), { 'Content-Type': 'application/sdp' }), res);
  await new Promise((ok) => setImmediate(ok));
  assert.equal(sent[0]?.status, 488);
  assert.match(sent[0]?.reason ?? '', /^SIP;cause=488;text="Media address 127\.0\.0\.1 of the offer from tenant pbx is loopback"$/);
  assert.deepEqual([r.uac.modified, asked.filter((a) => a.cmd === 'reoffer').length], [[], 2]);
  assert.deepEqual([r.coded()[0]?.policy, r.stats.snapshot().inDialogRefused], ['media-address', { 488: 1 }]);
});

test('a call whose media flows around the gateway is not held to media addresses: rtpengine sends nothing there', async () => {
  const r = await prepareCallSdp(input({ body: sdp('127.0.0.1'), tenantIn: { name: 'pbx', policy: {} }, tenantOut: { name: 'carrier', policy: {} } }));
  assert.ok(r.ok);
});

test('place-call: the caller gets 488 with the Reason, an ERR_MEDIA_ADDRESS_REFUSED line, and the CDR cause media-address', async () => {
  const p: B2buaPolicy = {
    ...policy, tenants: { ...policy.tenants, pbx: { ...policy.tenants.pbx!, srtpCrypto: undefined, media: through() }, carrier: { ...policy.tenants.carrier!, srtpCrypto: undefined } },
  };
  const c = start('+442071234567', 'pbx', sdp('127.0.0.1'), {}, p);
  await settle();
  assert.equal(c.srf.attempts.length, 0, 'no B leg placed');
  assert.equal(c.res.status, 488);
  assert.match(c.res.reasonHeader ?? '', /^SIP;cause=488;text="Media address 127\.0\.0\.1 of the offer from tenant pbx is loopback"$/);
  assert.equal(cdrOf(c.lines)?.cause, 'media-address');
  assert.ok(c.lines.some((l) => l.code === 'ERR_MEDIA_ADDRESS_REFUSED' && l.tenantOut === 'carrier'));
  assert.deepEqual(c.stats.calls.snapshot().failed, { 488: 1 });
});

test('config: media.allowedNetworks is checked as addresses and CIDRs and reaches the b2bua\'s policy', () => {
  const tenants = (nets: string) => [
    { file: 'gateway.yaml', text: 'gateway:\n  media: { rtpengines: [{ host: 127.0.0.1 }] }\n' },
    { file: 'tenants.yaml', text: `tenants:\n  pbx: { media: { mode: flow-through, allowedNetworks: ${nets} } }\n` },
  ];
  const good = parseConfig(tenants('[127.0.0.0/8, "2001:db8::/32", 192.0.2.7]'));
  assert.ok(good.ok, good.ok ? '' : good.reason);
  if (good.ok) assert.deepEqual(b2buaPolicyFromConfig(good.config).tenants.pbx!.media?.allowedNetworks, ['127.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
  const bad = parseConfig(tenants('[10.0.0.0/33, pbx.example.com]'));
  assert.ok(!bad.ok);
  if (!bad.ok) assert.deepEqual(bad.problems.map((x) => x.path).sort(), ['tenants.pbx.media.allowedNetworks[0]', 'tenants.pbx.media.allowedNetworks[1]']);
});
