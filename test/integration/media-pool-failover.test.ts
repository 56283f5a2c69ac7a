import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/common/index.js';
import { createNgTransport, RtpenginePool, type MediaError } from '../../src/media/index.js';
import { startFakeNgServer, type FakeNgServer } from '../support/fake-ng-server.js';

function logLines(): { log: pino.Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      cb();
    },
  });
  return { log: pino({ level: 'info' }, dest), lines, text: () => raw.join('\n') };
}

async function rig(t: import('node:test').TestContext, modes: Array<'ok' | 'refuse' | 'hold'>) {
  const servers: FakeNgServer[] = [];
  for (const m of modes) servers.push(await startFakeNgServer(m));
  const capture = logLines();
  let stray = 0;
  const pool: RtpenginePool = new RtpenginePool({
    instances: servers.map((s) => s.address),
    transport: createNgTransport({ timeoutMs: 150, onStrayReply: (k) => { stray++; pool.strayReply(k); } }),
    clock: systemClock,
    log: capture.log,
    pingIntervalMs: 3_600_000,
  });
  t.after(async () => {
    pool.close();
    await Promise.all(servers.map((s) => s.close()));
  });
  return { servers, pool, capture, stray: () => stray };
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const codes = (lines: Array<Record<string, unknown>>, code: string) => lines.filter((l) => l.code === code).length;

test('an offer the first instance leaves unanswered fails over to the next; answer and delete follow the offer', async (t) => {
  const { servers: [dead, live], pool, capture } = await rig(t, ['hold', 'ok']);
  const { session, sdp } = await pool.offer({ callId: 'c1', fromTag: 'a1' }, SDP, {});
  assert.match(sdp, /c=IN IP4 127\.0\.0\.1/);
  assert.deepEqual(session.instance, live!.address);
  await session.answer('b1', SDP, {});
  await session.delete();
  await session.delete();
  assert.deepEqual(live!.received.map((r) => `${r.command}:${r.callId}`), ['offer:c1', 'answer:c1', 'delete:c1']);
  assert.equal(dead!.count('offer'), 1);
  const s = pool.stats;
  assert.equal(s.failovers, 1);
  assert.equal(s.failures.timeout, 1);
  assert.deepEqual(s.instances.map((i) => i.up), [false, true]);
  assert.equal(s.sessionsOpen, 0);
  assert.equal(codes(capture.lines, 'ERR_MEDIA_INSTANCE_DOWN'), 1);

  // A new call goes straight to the live instance; the dead one gets nothing more.
  const second = await pool.offer({ callId: 'c2', fromTag: 'a2' }, SDP, {});
  assert.deepEqual(second.session.instance, live!.address);
  assert.equal(dead!.count('offer'), 1);
  assert.equal(pool.stats.sessionsOpen, 1);
});

test('a health ping brings an instance back, and new calls are spread over the live ones again', async (t) => {
  const { servers: [a, b], pool } = await rig(t, ['hold', 'ok']);
  await pool.checkNow();
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [false, true]);
  a!.mode = 'ok';
  await pool.checkNow();
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [true, true]);
  for (let i = 0; i < 4; i++) await pool.offer({ callId: `rr${i}`, fromTag: 'x' }, SDP, {});
  assert.equal(a!.count('offer'), 2);
  assert.equal(b!.count('offer'), 2);
});

test('no live instance: the call is refused with ERR_MEDIA_UNAVAILABLE, counted each time, logged once', async (t) => {
  const { pool, capture } = await rig(t, ['hold', 'hold']);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(pool.offer({ callId: `u${i}`, fromTag: 'x' }, SDP, {}), (e: MediaError) => e.code === 'ERR_MEDIA_UNAVAILABLE');
  }
  assert.equal(pool.stats.failures.unavailable, 3);
  assert.equal(pool.stats.failures.timeout, 2);
  assert.equal(codes(capture.lines, 'ERR_MEDIA_UNAVAILABLE'), 1);
});

test('an instance that answers with an error refuses the call without failover and stays up', async (t) => {
  const { servers: [refusing, other], pool } = await rig(t, ['refuse', 'ok']);
  await assert.rejects(pool.offer({ callId: 'r1', fromTag: 'x' }, SDP, {}), (e: MediaError) => e.code === 'ERR_MEDIA_REFUSED');
  assert.equal(other!.count('offer'), 0);
  assert.equal(refusing!.count('offer'), 1);
  assert.equal(pool.stats.failures.refused, 1);
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [true, true]);
});

test('a reply that arrives after its timeout is dropped and counted, and its SDES key reaches no log line', async (t) => {
  const { servers: [slow], pool, capture, stray } = await rig(t, ['hold']);
  await assert.rejects(pool.offer({ callId: 'late', fromTag: 'x' }, SDP, {}), (e: MediaError) => e.code === 'ERR_MEDIA_UNAVAILABLE');
  assert.equal(slow!.flushHeld(), 1);
  const until = Date.now() + 5_000;
  while (stray() < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.equal(stray(), 1);
  assert.equal(pool.stats.strayReplies, 1);
  assert.equal(codes(capture.lines, 'ERR_MEDIA_REPLY'), 1);
  assert.doesNotMatch(capture.text(), /SECRETKEY/);
});
