import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareCallSdp, type CallSdp } from '../../../src/b2bua/call-sdp.js';
import { closeMediaPools, mediaPool, mediaPoolStats } from '../../../src/b2bua/media-pools.js';
import type { MediaRelayPolicy } from '../../../src/b2bua/policy-types.js';
import { ManualClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';

// A reload that changes the relay settings closes the old pool once nothing of a call is on it. A late-offer call
// that is still ringing has no session yet, but its 200 will need the pool it was prepared on.

const relay = (port: number): MediaRelayPolicy => ({ rtpengines: [{ host: '127.0.0.1', port }], timeoutMs: 200, pingIntervalMs: 60_000 });
const media = { mode: 'flow-through', srtp: 'off' } as const;

test('a reload keeps the old pool while a late-offer call prepared on it is ringing, and closes it once that call ended', async (t) => {
  t.after(() => closeMediaPools());
  const clock = new ManualClock(0);
  const old = mediaPool(relay(29001), silentLogger(), clock);
  const ringing = await prepareCallSdp({
    body: '', callId: 'late-1', from: '<sip:1001@pbx>;tag=ft', pool: old,
    tenantIn: { name: 'pbx', policy: { media } }, tenantOut: { name: 'carrier', policy: { media } },
  }) as CallSdp;
  assert.ok(ringing.ok);
  mediaPool(relay(29002), silentLogger(), clock);
  assert.equal(mediaPoolStats().length, 2, 'the ringing call\'s pool is kept');
  await ringing.end();
  mediaPool(relay(29003), silentLogger(), clock);
  assert.deepEqual(mediaPoolStats().map((s) => s.instances[0]!.address), ['127.0.0.1:29003'], 'idle pools are closed at the next reload');
});
