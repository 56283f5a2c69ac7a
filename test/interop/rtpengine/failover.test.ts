import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createNgTransport, offerParams, RtpenginePool } from '../../../src/media/index.js';
import { startRtpengine } from '../../support/rtpengine.js';

const offer = (port: number) => `v=0\r\no=- 1 1 IN IP4 127.0.0.77\r\ns=-\r\nc=IN IP4 127.0.0.77\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;
const plain = { mode: 'flow-through', srtp: 'off' } as const;

test('two real rtpengines: one at its session limit passes a new call to the other and stays up; one stopped is marked down and skipped', async (t) => {
  const full = await startRtpengine({ extraArgs: ['--max-sessions=1'] });
  t.after(() => full.stop());
  const spare = await startRtpengine();
  t.after(() => spare.stop());
  const pool = new RtpenginePool({
    instances: [full.ng, spare.ng], transport: createNgTransport({ timeoutMs: 500 }), clock: systemClock, log: silentLogger(),
  });
  t.after(() => pool.close());
  const where = async (n: number) => (await pool.offer({ callId: `fo-${n}`, fromTag: 'a' }, offer(4000 + 2 * n), offerParams(plain, plain))).session.instance.port;

  assert.equal(await where(1), full.ng.port, 'round robin starts at the first instance');
  assert.equal(await where(2), spare.ng.port);
  assert.equal(await where(3), spare.ng.port, 'the first is at its limit: the call goes to the other');
  let s = pool.stats;
  assert.equal(s.failovers, 1);
  assert.equal(s.failures.refused, 1);
  assert.deepEqual(s.instances.map((i) => [i.up, i.sessions]), [[true, 1], [true, 2]]);

  await full.stop();
  assert.equal(await where(4), spare.ng.port);
  assert.equal(await where(5), spare.ng.port);
  s = pool.stats;
  assert.equal(s.failures.timeout, 1, 'the stopped instance was tried once');
  assert.deepEqual(s.instances.map((i) => i.up), [false, true]);
});
