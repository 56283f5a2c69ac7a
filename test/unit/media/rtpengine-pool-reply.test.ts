// An ng reply that is not a dictionary (an empty datagram after a pending request's cookie decodes to null) is a
// refusal of that instance, counted and logged once; the next instance takes the call, and the first gets a delete
// for whatever session the offer may have made there.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { RtpenginePool } from '../../../src/media/rtpengine-pool.js';
import type { NgTransport } from '../../../src/media/ng-transport.js';
import { captureLog } from '../../support/log-capture.js';

test('an offer answered with no dictionary fails over to the next instance, counted, one warn line', async () => {
  const { log, lines } = captureLog();
  const sent: string[] = [];
  const transport: NgTransport = {
    send: async (to, command) => {
      sent.push(`${to.host}:${to.port} ${command}`);
      return (to.port === 22222 && command === 'offer' ? null : { result: 'ok', sdp: 'v=0\r\n' }) as never;
    },
    close: () => undefined,
  };
  const pool = new RtpenginePool({ instances: [{ host: '127.0.0.1', port: 22222 }, { host: '127.0.0.1', port: 22223 }], transport, clock: new ManualClock(0), log });
  const { sdp } = await pool.offer({ callId: 'c1', fromTag: 'f1' }, 'v=0\r\n', {});
  assert.equal(sdp, 'v=0\r\n');
  assert.deepEqual(sent, ['127.0.0.1:22222 offer', '127.0.0.1:22222 delete', '127.0.0.1:22223 offer']);
  const s = pool.stats;
  assert.equal(s.failures.refused, 1, JSON.stringify(s));
  assert.equal(s.failovers, 1);
  assert.equal(lines.filter((l) => l.level === 40 && /answered offer with no dictionary/.test(l.msg)).length, 1, JSON.stringify(lines));
  pool.close();
});
