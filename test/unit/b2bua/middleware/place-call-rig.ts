// What the place-call tests share: an SRTP offer, a call started through placeCall on a scripted srf, and its CDR.
import assert from 'node:assert/strict';
import { placeCall, type B2buaPolicy, type PlaceCallDeps } from '../../../../src/b2bua/index.js';
import { selectDialPeers } from '../../../../src/policy/index.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';

export const offer = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AAAA', 'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:BBBB',
  'a=crypto:3 AEAD_AES_256_GCM inline:CCCC', '',
].join('\r\n');

export function start(number: string, tenantIn = 'pbx', body = offer, extra: Partial<PlaceCallDeps> = {}, p: B2buaPolicy = policy) {
  const d = deps(p);
  const srf = new ScriptedSrf();
  const req = fakeInvite({ body });
  req.locals = {
    callId: 'c1', startedAt: d.clock.now(), log: d.deps.log, identities: [], tenantIn, transportIn: 'udp',
    calledNumber: number, category: 'international', maxForwards: 69,
    dialPeers: selectDialPeers(number, tenantIn, p.dialPeers),
  };
  const res = new FakeRes();
  placeCall({ ...d.deps, srf, ...extra })(req, res, () => assert.fail('place-call is the last step'));
  return { ...d, srf, req, res };
}

export const cdrOf = (lines: Array<Record<string, unknown>>) => lines.find((l) => l.msg === 'cdr')?.cdr as Record<string, unknown> | undefined;

