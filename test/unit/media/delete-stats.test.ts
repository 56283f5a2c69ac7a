import assert from 'node:assert/strict';
import { test } from 'node:test';
import { legTotals } from '../../../src/media/index.js';

const stream = (flag: 'RTP' | 'RTCP', packets: number, bytes: number, errors = 0) => ({ flags: [flag, 'filled'], stats: { packets, bytes, errors } });
// The shape of rtpengine 10.5's `delete` reply, trimmed to what is read.
const reply = {
  result: 'ok',
  tags: {
    fa: { tag: 'fa', medias: [{ type: 'audio', streams: [stream('RTP', 50, 8600), stream('RTCP', 2, 160)] }] },
    tb: { tag: 'tb', medias: [{ type: 'audio', streams: [stream('RTP', 48, 9100, 1), stream('RTCP', 1, 80)] }, { type: 'video', streams: [stream('RTP', 3, 900)] }] },
  },
  totals: { RTP: { packets: 101, bytes: 18600, errors: 1 } },
};

test('the delete reply gives each leg what rtpengine received from it, RTP and RTCP apart, over every media section', () => {
  assert.deepEqual(legTotals(reply, 'fa', 'tb'), {
    a: { packets: 50, bytes: 8600, errors: 0, rtcpPackets: 2 },
    b: { packets: 51, bytes: 10000, errors: 1, rtcpPackets: 1 },
  });
});

test('a leg that never answered, or a reply without tags, counts zero', () => {
  assert.deepEqual(legTotals(reply, 'fa', undefined).b, { packets: 0, bytes: 0, errors: 0, rtcpPackets: 0 });
  assert.deepEqual(legTotals({ result: 'ok' }, 'fa', 'tb').a, { packets: 0, bytes: 0, errors: 0, rtcpPackets: 0 });
});
