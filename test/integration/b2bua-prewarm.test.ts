// test: own process (it counts the handles this process holds open; scripts/test.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prewarmB2bua } from '../../src/prewarm/b2bua-prewarm.js';
import { startGateway, randomSecret } from '../../src/gateway.js';
import { BUILTIN_CATEGORIES } from '../../src/config/index.js';
import { freePort, udpFree } from '../support/ports.js';
import { Engine } from '../../src/engine/engine.js';
import { captureLog } from '../support/log-capture.js';

/** Handles (sockets, servers, timers) this process holds: the warm-up must leave none of its own behind. */
const handles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

/** A gateway on a free UDP port running the policy pipeline with no dial peer, its log captured. */
async function warmedGateway(o: { prewarmCalls: number; apps?: number }) {
  const sipPort = await freePort();
  const { log, records } = captureLog();
  const gw = await startGateway({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: randomSecret() },
    policy: {
      tenants: { pbx: { transport: 'udp' } }, listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
      categories: BUILTIN_CATEGORIES, tlsPeers: {}, dialPeers: [],
    },
    ...o, log, logLevel: 'silent',
  });
  return { gw, records, sipPort };
}

for (const kind of ['policy', 'plain'] as const) {
  test(`the b2bua warm-up (${kind}) carries every synthetic call end to end and leaves nothing open`, async () => {
    const before = handles();
    const r = await prewarmB2bua({ calls: 60, kind, concurrency: 8 });
    assert.equal(r.calls, 60);
    assert.equal(r.completed, 60, 'INVITE, 200, ACK, BYE and its 200 for each call, through a throwaway engine and app');
    // Closed sockets leave the handle list on the next turn of the loop.
    for (let i = 0; i < 50 && handles() > before; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(handles(), before, 'its engine, app and user agents are all closed');
  });
}

test('the warm-up stops starting calls at its time limit', async () => {
  const r = await prewarmB2bua({ calls: 100_000, kind: 'plain', maxMs: 300 });
  assert.ok(r.calls < 100_000, `${r.calls} calls started`);
  assert.equal(r.completed, r.calls, 'the calls it started all ended');
});

test('a gateway started with a pre-warm takes no warm-up call into its own counters, and logs its warm-up', async () => {
  const { gw, records, sipPort } = await warmedGateway({ prewarmCalls: 40 });
  try {
    const warm = records.find((r) => r.msg === 'b2bua: call path warmed before the engine opens its listeners');
    assert.ok(warm, 'the b2bua warm-up is logged');
    assert.deepEqual([warm.calls, warm.completed], [40, 40]);
    assert.equal(gw.b2bua.stats().attempted, 0, 'the real b2bua saw none of the warm-up calls');
    const snap = await gw.engineSnapshot();
    assert.equal(JSON.stringify(snap).includes('prewarm'), false, 'the real engine has no trace of the warm-up listener');
    assert.equal(gw.addresses.sip[0]?.port, sipPort);
  } finally {
    await gw.close();
  }
});

test('an engine given listenWhen opens its listeners only once it settles', async () => {
  const sipPort = await freePort();
  let open!: () => void;
  const engine = new Engine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }],
    control: { host: '127.0.0.1', port: 0, secret: randomSecret() },
    listenWhen: new Promise<void>((r) => { open = r; }),
  });
  const started = engine.start();
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await udpFree(sipPort, '127.0.0.1'), true, 'no listener while the app thread warms up');
    open();
    await started;
    assert.equal(await udpFree(sipPort, '127.0.0.1'), false, 'the listener is open');
  } finally {
    await started.catch(() => undefined);
    await engine.close();
  }
});

test('with app workers, each warms up before it connects, and the pool says so', async () => {
  const { gw, records } = await warmedGateway({ apps: 2, prewarmCalls: 30 });
  try {
    const warm = records.find((r) => r.msg === 'b2bua: app worker warmed before it connects');
    assert.ok(warm, `the worker's warm-up is logged: ${records.map((r) => r.msg).join(' | ')}`);
    assert.deepEqual([warm.app, warm.calls, warm.completed], [1, 30, 30]);
    assert.equal(gw.b2bua.stats().attempted, 0, 'no warm-up call is counted by the pool');
  } finally {
    await gw.close();
  }
});

test('a warm-up not over by its deadline is given up with ERR_B2BUA_PREWARM, and closes itself in the background', async () => {
  const before = handles();
  await assert.rejects(prewarmB2bua({ calls: 100_000, kind: 'plain', maxMs: 5_000, deadlineMs: 200 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_B2BUA_PREWARM');
    return true;
  });
  for (let i = 0; i < 250 && handles() > before; i++) await new Promise((res) => setTimeout(res, 20));
  // At most as many as before: this file may share its process with others, whose own handles can close meanwhile.
  assert.ok(handles() <= before, `its engine, app and user agents were closed after it stopped starting calls: ${handles()} handles, ${before} before`);
});

test('an app worker whose warm-up fails says so with ERR_B2BUA_PREWARM and connects without it', async () => {
  const { startAppPool } = await import('../../src/b2bua/workers/app-pool.js');
  const { Engine: E } = await import('../../src/engine/engine.js');
  const secret = randomSecret();
  const engine = new E({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { host: '127.0.0.1', port: 0, secret, maxApps: 2 } });
  const a = await engine.start();
  const { log, records } = captureLog();
  const pool = await startAppPool({
    engine: { host: a.control.host, port: a.control.port, secret }, apps: 2, logLevel: 'silent', log,
    policy: { tenants: {}, categories: BUILTIN_CATEGORIES, tlsPeers: {}, dialPeers: [] },
    prewarm: { module: new URL('./no-such-warm-up.js', import.meta.url).href, calls: 10, maxMs: 1_000 },
  });
  try {
    const failed = records.find((r) => r.code === 'ERR_B2BUA_PREWARM');
    assert.ok(failed, 'the failed warm-up is logged with its code');
    assert.equal(failed.app, 1);
    assert.equal(records.some((r) => r.msg === 'b2bua: app worker warmed before it connects'), false);
  } finally {
    await pool.close();
    await engine.close();
  }
});
