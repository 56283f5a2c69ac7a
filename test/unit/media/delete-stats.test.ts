import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

const unreported = { lost: null, lossPercent: null, jitterMs: null, mos: null };

test('the delete reply gives each leg what rtpengine received from it, RTP and RTCP apart, over every media section', () => {
  assert.deepEqual(legTotals(reply, 'fa', 'tb'), {
    a: { packets: 50, bytes: 8600, errors: 0, rtcpPackets: 2, ...unreported },
    b: { packets: 51, bytes: 10000, errors: 1, rtcpPackets: 1, ...unreported },
  });
});

test('a leg that never answered, or a reply without tags, counts zero', () => {
  assert.deepEqual(legTotals(reply, 'fa', undefined).b, { packets: 0, bytes: 0, errors: 0, rtcpPackets: 0, ...unreported });
  assert.deepEqual(legTotals({ result: 'ok' }, 'fa', 'tb').a, { packets: 0, bytes: 0, errors: 0, rtcpPackets: 0, ...unreported });
});

// A delete answer captured from rtpengine 10.5.3.5 (test/interop/rtpengine/delete-quality.test.ts with
// TG_CAPTURE_DELETE): two plain RTP endpoints sent sender reports with reception blocks; the caller (SSRC a1a1a1a1,
// tag a-tag) left out 15 of its 200 packets and the called side (b2b2b2b2, b-tag) 1 of 200.
const captured = JSON.parse(readFileSync(new URL('./rtpengine-delete-rtcp.json', import.meta.url), 'utf8')) as Record<string, unknown>;

test('a captured delete answer: each leg gets the loss, jitter and MOS its own endpoint reported about what it received', () => {
  assert.deepEqual(legTotals(captured, 'a-tag', 'b-tag'), {
    // The caller received the called side's 199 of 200 and said so: 1 lost, no fraction worth a percent.
    a: { packets: 185, bytes: 31820, errors: 0, rtcpPackets: 5, lost: 1, lossPercent: 0, jitterMs: 1, mos: 4.4 },
    // The called side missed 15, 10 of them in one second, and was sent unevenly.
    b: { packets: 199, bytes: 34228, errors: 0, rtcpPackets: 5, lost: 15, lossPercent: 9, jitterMs: 5, mos: 3.3 },
  });
});

test('an SSRC the reply names no figures for, or a leg with several SSRCs: the loss adds up, the worst jitter, loss and MOS are kept', () => {
  const ssrcStream = (ssrc: number) => ({ flags: ['RTP'], SSRC: ssrc, stats: { packets: 10, bytes: 1720, errors: 0 } });
  const r = {
    tags: { x: { medias: [{ streams: [ssrcStream(1), ssrcStream(2), ssrcStream(3)] }] } },
    SSRC: {
      1: { 'cumulative loss': 4, 'average MOS': { MOS: 41, jitter: 3, 'packet loss': 2 } },
      2: { 'cumulative loss': 6, 'average MOS': { MOS: 36, jitter: 9, 'packet loss': 1 } },
    },
  };
  assert.deepEqual(legTotals(r, 'x', undefined).a, { packets: 30, bytes: 5160, errors: 0, rtcpPackets: 0, lost: 10, lossPercent: 2, jitterMs: 9, mos: 3.6 });
});
