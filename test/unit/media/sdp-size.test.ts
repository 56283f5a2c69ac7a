import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCallSdp, MAX_ANCHORED_SDP_BYTES, MAX_ANCHORED_SECTIONS, sdpTooLarge } from '../../../src/media/index.js';

const body = (sections: number, pad = 0) => ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
  ...Array.from({ length: sections }, (_, i) => `m=audio ${4000 + 2 * i} RTP/AVP 0`), ...Array.from({ length: pad }, (_, i) => `a=x-pad:${i}${'y'.repeat(80)}`), ''].join('\r\n');
const through = { mode: 'flow-through', srtp: 'optional', name: 'pbx' } as const;
const around = { mode: 'flow-around', srtp: 'optional', name: 'carrier' } as const;

test('an SDP body over the bytes or media sections one ng request can carry is too large for the relay; an ordinary one fits', () => {
  assert.equal(sdpTooLarge(body(2), 'offer'), undefined);
  const big = body(1, 800);
  assert.ok(Buffer.byteLength(big) > MAX_ANCHORED_SDP_BYTES);
  assert.equal(sdpTooLarge(big, 'offer'), `The offer is too large for the media relay: ${Buffer.byteLength(big)} bytes of SDP, at most ${MAX_ANCHORED_SDP_BYTES}`);
  assert.equal(sdpTooLarge(body(MAX_ANCHORED_SECTIONS), 'answer'), undefined);
  assert.match(sdpTooLarge(body(MAX_ANCHORED_SECTIONS + 1), 'answer')!, /^The answer has too many media sections for the media relay: 17, at most 16$/);
});

test('checkCallSdp refuses a body too large for the relay on an anchored call only (488, cause sdp-size)', () => {
  const big = body(1, 800);
  assert.deepEqual(checkCallSdp(big, through, around, 'offer'), { status: 488, reason: sdpTooLarge(big, 'offer'), cause: 'sdp-size' });
  assert.equal(checkCallSdp(big, { ...through, mode: 'flow-around' }, around, 'offer'), undefined, 'flow-around: rtpengine never sees it');
});
