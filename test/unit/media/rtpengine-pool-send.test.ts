// A request the socket will not send (an SDP too large for one datagram) fails that request only: the instance never
// saw it, so it is not marked down and the call does not fail over to the next one (which would refuse it the same way).
import { strict as assert } from 'node:assert';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { createNgTransport, NgSendFailed, type NgTransport } from '../../../src/media/ng-transport.js';
import { RtpenginePool } from '../../../src/media/rtpengine-pool.js';
import { captureLog } from '../../support/log-capture.js';
import { FAKE_SDP, fakeNgTransport } from '../../support/fake-ng-transport.js';

const [A, B] = [22301, 22302];
const big = `${FAKE_SDP}${'a=x-pad:'.padEnd(80, 'y')}\r\n`;

test('the ng transport tells a request the socket refused (EMSGSIZE) from one that went unanswered', async (t) => {
  const sink = createSocket('udp4');
  sink.bind(0, '127.0.0.1');
  await once(sink, 'listening');
  t.after(() => sink.close());
  const ng = createNgTransport({ timeoutMs: 5_000 });
  t.after(() => ng.close());
  const port = sink.address().port;
  await assert.rejects(ng.send({ host: '127.0.0.1', port }, 'offer', { sdp: 'v=0\r\n'.padEnd(66_000, 'x'), 'call-id': 'c1', 'from-tag': 'f' }),
    (err: unknown) => err instanceof NgSendFailed && err.code === 'EMSGSIZE');
});

test('a request the socket refused: no instance marked down, no failover, counted as `send` with one coded line', async () => {
  const fake = fakeNgTransport({});
  const refusing: NgTransport = {
    send: (to, command, params = {}) => (String(params.sdp ?? '').length > 60_000
      ? Promise.reject(new NgSendFailed(Object.assign(new Error('send EMSGSIZE'), { code: 'EMSGSIZE', syscall: 'send' })))
      : fake.transport.send(to, command, params)),
    close: () => undefined,
  };
  const cap = captureLog();
  const pool = new RtpenginePool({ instances: [{ host: '127.0.0.1', port: A }, { host: '127.0.0.1', port: B }], transport: refusing, clock: new ManualClock(0), log: cap.log });
  await assert.rejects(pool.offer({ callId: 'big-1', fromTag: 'fa' }, big.padEnd(65_300, 'x'), {}), { code: 'ERR_MEDIA_SEND_FAILED' });
  const s = pool.stats;
  assert.deepEqual(s.instances.map((i) => i.up), [true, true], 'every instance is still up');
  assert.equal(s.failovers, 0, 'not tried on the next instance');
  assert.deepEqual(s.failures, { timeout: 0, refused: 0, unavailable: 0, send: 1, tooLarge: 0 });
  assert.equal(s.orphans.noted, 0, 'nothing was sent, so nothing can be left on the instance');
  assert.equal(cap.records.filter((l) => l.code === 'ERR_MEDIA_SEND_FAILED').length, 1);
  const { session } = await pool.offer({ callId: 'normal-1', fromTag: 'fa' }, FAKE_SDP, {});
  assert.equal(pool.stats.sessionsOpen, 1, 'an ordinary call right after is anchored');
  await session.delete();
  pool.close();
});
