// The line of a refused answer carries the refusal's own code: an answer whose media address may not be sent to is
// ERR_MEDIA_ADDRESS_REFUSED, one without an SRTP suite the tenant requires ERR_B2BUA_SRTP_REFUSED, an rtpengine failure
// ERR_MEDIA_REFUSED, so an operator filtering the log by code finds each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnswerRefused } from '../../../src/b2bua/call-sdp.js';
import type { BLegTarget } from '../../../src/b2bua/b-leg-target.js';
import { answerRefusedLine } from '../../../src/b2bua/middleware/call-refusals.js';
import { deps, fakeInvite } from './pipeline-fakes.js';

const refusal = (cause: AnswerRefused['cause'], code: AnswerRefused['code'], status: number) =>
  Object.assign(new Error(`${cause} refused`), { status, cause, code, reasonHeader: `SIP;cause=${status}` }) as unknown as AnswerRefused;

test('answerRefusedLine logs each refused answer under the code the refusal carries', () => {
  const d = deps();
  const target = { dialPeer: 'far-end' } as unknown as BLegTarget;
  for (const [cause, code, status] of [
    ['media-address', 'ERR_MEDIA_ADDRESS_REFUSED', 488], ['srtp', 'ERR_B2BUA_SRTP_REFUSED', 488], ['media-unavailable', 'ERR_MEDIA_REFUSED', 503],
  ] as const) {
    answerRefusedLine(d.deps, fakeInvite({}), target, refusal(cause, code, status));
  }
  assert.deepEqual(d.lines.map((l) => l.code), ['ERR_MEDIA_ADDRESS_REFUSED', 'ERR_B2BUA_SRTP_REFUSED', 'ERR_MEDIA_REFUSED']);
});
