import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { prepareCallSdp, type CallSdp } from '../../../src/b2bua/call-sdp.js';
import { systemClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createNgTransport, offerParams, RtpenginePool, SPLIT_KEY_SUFFIX, type NgTransport } from '../../../src/media/index.js';
import { ngListCalls, startRtpengine, type RtpengineProcess } from '../../support/rtpengine.js';
import { newInline } from './srtp-packets.js';

// Two real rtpengines on two loopback addresses, as two hosts: a call's sessions stay on one of them, and what a
// failover left on the other (an offer it took but answered too late, the first session of a split-key call) is
// deleted there, so rtpengine's own list (ng `list`) is empty on both once the calls are over.
const sdes = { mode: 'flow-through', srtp: 'required', suites: ['AES_CM_128_HMAC_SHA1_80'], allowedNetworks: ['127.0.0.0/8'] } as const;
const plain = { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } as const;
const sdesBody = (tag = 1) => ['v=0', 'o=side 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 4000 RTP/SAVP 0',
  'a=rtpmap:0 PCMU/8000', `a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 inline:${newInline()}`, 'a=sendrecv', ''].join('\r\n');
const plainBody = 'v=0\r\no=side 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4002 RTP/AVP 0\r\n';

const list = (r: RtpengineProcess) => ngListCalls(r.ng.host, r.ng.port).then((ids) => ids.sort());
const same = (r: RtpengineProcess, to: { host: string; port: number }) => to.host === r.ng.host && to.port === r.ng.port;

/**
 * SIGSTOP, and the wait until the kernel shows the process stopped: a thread of it running on the other core meanwhile
 * would still answer a request sent right after.
 */
async function sigstop(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const state = () => /\)\s+(\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[1];
  for (let i = 0; i < 1_000 && state() !== 'T'; i++) await new Promise((ok) => setTimeout(ok, 1));
  assert.equal(state(), 'T', 'rtpengine stopped');
}

/** Two rtpengines and a pool over them; `stopAfterOffer(id)` stops the first (SIGSTOP) right after it answers that call's offer. */
async function rig(t: TestContext) {
  const a = await startRtpengine({ host: '127.0.0.1' });
  t.after(() => a.stop());
  const b = await startRtpengine({ host: '127.0.0.2' });
  t.after(() => b.stop());
  let stopAfter: string | undefined;
  let stopped = false;
  const cont = () => {
    if (stopped) process.kill(a.pid, 'SIGCONT');
    stopped = false;
  };
  t.after(cont);
  const stop = async () => {
    stopped = true;
    await sigstop(a.pid);
  };
  const real = createNgTransport({ timeoutMs: 300, onStrayReply: (k) => pool.strayReply(k) });
  const transport: NgTransport = {
    send: async (to, command, params) => {
      const reply = await real.send(to, command, params);
      if (command === 'offer' && same(a, to) && params?.['call-id'] === stopAfter) await stop();
      return reply;
    },
    close: () => real.close(),
  };
  const pool: RtpenginePool = new RtpenginePool({ instances: [a.ng, b.ng], transport, clock: systemClock, log: silentLogger(), pingIntervalMs: 3_600_000 });
  t.after(() => pool.close());
  return { a, b, pool, stop, cont, stopAfterOffer: (id: string) => (stopAfter = id) };
}

async function splitKeyCall(pool: RtpenginePool, callId: string): Promise<CallSdp> {
  const r = await prepareCallSdp({
    body: sdesBody(), callId, from: '<sip:100@pbx>;tag=a-tag', tenantIn: { name: 'pbx', policy: { media: sdes } }, tenantOut: { name: 'carrier', policy: { media: sdes } }, pool,
  });
  assert.ok(r.ok && r.anchored, `${callId} is anchored`);
  return r as CallSdp;
}

const answer = (call: CallSdp) => call.opts.localSdpA(sdesBody(), { get: (n) => (n === 'To' ? '<sip:200@carrier>;tag=b-tag' : undefined) });

/** Waits until rtpengine lists no call (a resumed instance works through what was queued for it first). */
async function emptied(r: RtpengineProcess, ms = 3_000): Promise<string[]> {
  const until = Date.now() + ms;
  let ids = await list(r);
  while (ids.length > 0 && Date.now() < until) {
    await new Promise((ok) => setTimeout(ok, 50));
    ids = await list(r);
  }
  return ids;
}

test('two real rtpengines: both sessions of a split-key call are on one of them, and the next call is on the other', async (t) => {
  const { a, b, pool } = await rig(t);
  const one = await splitKeyCall(pool, 'sk-1');
  const two = await splitKeyCall(pool, 'sk-2');
  assert.deepEqual([await list(a), await list(b)], [['sk-1', `sk-1${SPLIT_KEY_SUFFIX}`], ['sk-2', `sk-2${SPLIT_KEY_SUFFIX}`]]);
  assert.ok(await answer(one));
  assert.ok(await answer(two));
  await Promise.all([one.end(), two.end()]);
  assert.deepEqual([await emptied(a), await emptied(b)], [[], []]);
});

test('two real rtpengines: the first stops after a split-key call\'s first session; the whole call goes to the second, and nothing is left on either', async (t) => {
  const { a, b, pool, cont, stopAfterOffer } = await rig(t);
  stopAfterOffer('sk-fo');
  const call = await splitKeyCall(pool, 'sk-fo');
  assert.deepEqual(await list(b), ['sk-fo', `sk-fo${SPLIT_KEY_SUFFIX}`], 'both sessions on the second instance');
  assert.ok(await answer(call), 'the call is answered through the instance that holds it');
  await call.end();
  cont();
  await pool.checkNow();
  assert.deepEqual(pool.stats.instances.map((i) => [i.up, i.sessions, i.orphans]), [[true, 0, 0], [true, 0, 0]]);
  assert.deepEqual(await emptied(a), [], 'the first instance keeps neither the first session nor the offer it took while stopped');
  assert.deepEqual(await emptied(b), []);
});

test('two real rtpengines: an offer the first takes while stopped is deleted there once it runs again', async (t) => {
  const { a, b, pool, stop, cont } = await rig(t);
  await stop();
  const { session } = await pool.offer({ callId: 'late-1', fromTag: 'a' }, plainBody, offerParams(plain, plain));
  assert.ok(same(b, session.instance), 'the call failed over to the second instance');
  cont();
  await pool.checkNow();
  assert.deepEqual(await emptied(a), [], 'rtpengine\'s own list on the first instance');
  assert.deepEqual(await list(b), ['late-1']);
  await session.delete();
  assert.deepEqual(await emptied(b), []);
  const s = pool.stats;
  assert.equal(s.failovers, 1);
  assert.equal(s.orphans.pending, 0);
  assert.ok(s.orphans.deleted >= 1, JSON.stringify(s.orphans));
});
