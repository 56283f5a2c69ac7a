import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareCallSdp, type CallSdp, type CallSdpInput } from '../../../src/b2bua/call-sdp.js';
import { systemClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createNgTransport, RtpenginePool } from '../../../src/media/index.js';
import { ngListCalls, startRtpengine } from '../../support/rtpengine.js';

const plain = (port: number, pad = 0) => ['v=0', 'o=side 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`,
  'a=rtpmap:0 PCMU/8000', ...Array.from({ length: pad }, (_, i) => `a=fmtp:0 x${i}=${'y'.repeat(80)}`), 'a=sendrecv', ''].join('\r\n');
const media = { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } as const;
const bRes = (tag: string) => ({ get: (n: string) => (n === 'To' ? `<sip:b@x>;tag=${tag}` : undefined) });

test('a 200 that crosses the give-up of its attempt opens no session on rtpengine, and the next attempt of the call is a session of its own', async (t) => {
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const pool = new RtpenginePool({ instances: [rtpe.ng], transport: createNgTransport({ timeoutMs: 2_000 }), clock: systemClock, log: silentLogger() });
  t.after(() => pool.close());
  await pool.start();
  const input: CallSdpInput = { body: plain(40000), callId: 'late-200', from: '<sip:a@x>;tag=at', pool,
    tenantIn: { name: 'A', policy: { media } }, tenantOut: { name: 'B', policy: { media } } };
  const first = await prepareCallSdp(input) as CallSdp;
  await first.end(); // the attempt is given up (no answer in time), its session deleted
  const second = await prepareCallSdp(input) as CallSdp; // the same caller's Call-ID and From tag
  await assert.rejects(Promise.resolve(first.opts.localSdpA(plain(41000), bRes('b1'))), /given up/);
  await second.end();
  assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), [], 'nothing left on rtpengine');

  const third = await prepareCallSdp({ ...input, attempt: 1 }) as CallSdp;
  const fourth = await prepareCallSdp({ ...input, attempt: 2 }) as CallSdp;
  assert.deepEqual((await ngListCalls(rtpe.ng.host, rtpe.ng.port)).sort(), ['late-200;tg-try2', 'late-200;tg-try2;tg-hop2', 'late-200;tg-try3', 'late-200;tg-try3;tg-hop2']);
  await third.end();
  assert.ok(await fourth.opts.localSdpA(plain(41002), bRes('b4')), 'the attempt still under way is answered through its own sessions');
  await fourth.end();
  assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), []);
});

test('an SDP as large as a SIP message can carry: that call is refused 488 and every rtpengine stays up for the next call; an ng request too large to send fails alone', async (t) => {
  const [r1, r2] = [await startRtpengine(), await startRtpengine()];
  t.after(() => Promise.all([r1.stop(), r2.stop()]));
  const pool = new RtpenginePool({ instances: [r1.ng, r2.ng], transport: createNgTransport({ timeoutMs: 1_000 }), clock: systemClock, log: silentLogger(), pingIntervalMs: 60_000 });
  t.after(() => pool.close());
  await pool.start();
  const input = (body: string, callId: string): CallSdpInput => ({ body, callId, from: '<sip:a@x>;tag=at', pool, source: '192.0.2.1',
    tenantIn: { name: 'A', policy: { media } }, tenantOut: { name: 'B', policy: { media } } });
  const big = plain(40000, 680);
  assert.ok(Buffer.byteLength(big) > 65_000);
  const refused = await prepareCallSdp(input(big, 'big-1'));
  assert.ok(!refused.ok && refused.refusal.status === 488 && refused.refusal.cause === 'sdp-size');
  // The pool itself, handed such a body: the socket will not send it, which fails that offer only.
  await assert.rejects(pool.offer({ callId: 'big-2', fromTag: 'at' }, big.padEnd(65_600, ' '), {}), { code: 'ERR_MEDIA_SEND_FAILED' });
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [true, true], 'every instance is still up');
  assert.deepEqual([pool.stats.failovers, pool.stats.failures.timeout, pool.stats.failures.send, pool.stats.failures.tooLarge], [0, 0, 1, 1]);
  const next = await prepareCallSdp(input(plain(40002), 'normal-1'));
  assert.ok(next.ok && next.anchored, 'an ordinary call right after is anchored');
  await next.end();
});
