import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  anchored, answerParams, callSdpChecker, checkOffer, mediaChecked, FLOW_AROUND, hideOriginUser, mediaSections, needsSplitKeys, offerParams, redactSdp, relayHopParams,
  RTPENGINE_SUITES, sdpAddresses, type TenantMedia,
} from '../../../src/media/index.js';

const sdp = (...media: string[]) => ['v=0', 'o=pbx-host 7 7 IN IP4 10.1.2.3', 's=-', 'c=IN IP4 10.1.2.3', 't=0 0', ...media, ''].join('\r\n');
const plainAudio = ['m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000'];
const srtpAudio = ['m=audio 4000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2Vx'];

const pbx = { name: 'pbx', mode: 'flow-through', srtp: 'off' } as const;
const carrier = { name: 'carrier', mode: 'flow-through', srtp: 'required', suites: ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'] } as const;

test('towards an SRTP-required tenant the offer asks rtpengine for RTP/SAVP with only the tenant\'s SDES suites', () => {
  const p = offerParams(pbx, carrier);
  assert.equal(p['transport-protocol'], 'RTP/SAVP');
  const excluded = (p.SDES as string[]).map((s) => s.replace(/^no-/, ''));
  assert.deepEqual(RTPENGINE_SUITES.filter((s) => !excluded.includes(s)), ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80']);
  assert.ok((p.SDES as string[]).every((s) => s.startsWith('no-')));
});

test('towards an SRTP-off tenant the offer asks for RTP/AVP and no SDES; optional keeps the offer\'s transport', () => {
  const off = offerParams(carrier, pbx);
  assert.equal(off['transport-protocol'], 'RTP/AVP');
  assert.deepEqual(off.SDES, ['off']);
  const optional = offerParams(pbx, { mode: 'flow-through', srtp: 'optional' });
  assert.equal(optional['transport-protocol'], undefined);
  assert.equal(optional.SDES, undefined);
});

test('both directions remove ICE, turn DTLS off and replace the origin and session connection addresses', () => {
  for (const p of [offerParams(pbx, carrier), answerParams(pbx, carrier)]) {
    assert.equal(p.ICE, 'remove');
    assert.equal(p.DTLS, 'off');
    assert.deepEqual(p.replace, ['origin', 'session-connection']);
  }
  assert.deepEqual(offerParams(pbx, carrier)['rtcp-mux'], ['demux']);
});

test('a call is anchored when either tenant is flow-through; no media block means flow-around', () => {
  assert.equal(anchored(FLOW_AROUND, FLOW_AROUND), false);
  assert.equal(anchored(FLOW_AROUND, carrier), true);
  assert.equal(anchored(pbx, FLOW_AROUND), true);
});

const around = (t: TenantMedia & { name: string }) => ({ ...t, mode: 'flow-around' as const });
const checks: Array<{ name: string; sdp: string; from: TenantMedia & { name: string }; to: TenantMedia & { name: string }; ok: boolean }> = [
  { name: 'plain RTP from the PBX to an SRTP-required carrier, anchored: accepted (rtpengine secures it)', sdp: sdp(...plainAudio), from: pbx, to: carrier, ok: true },
  { name: 'plain RTP from an SRTP-required carrier: 488', sdp: sdp(...plainAudio), from: carrier, to: pbx, ok: false },
  { name: 'SDES SRTP from an SRTP-required carrier: accepted', sdp: sdp(...srtpAudio), from: carrier, to: pbx, ok: true },
  { name: 'RTP/SAVP without a=crypto (DTLS or none) from an SRTP-required carrier: 488', sdp: sdp('m=audio 4000 RTP/SAVP 0'), from: carrier, to: pbx, ok: false },
  { name: 'plain RTP towards an SRTP-required carrier with media flowing around: 488', sdp: sdp(...plainAudio), from: around(pbx), to: around(carrier), ok: false },
  { name: 'SDES SRTP towards an SRTP-required carrier with media flowing around: accepted', sdp: sdp(...srtpAudio), from: around(pbx), to: around(carrier), ok: true },
  { name: 'a refused stream (port 0) and T.38 need no SRTP', sdp: sdp(...srtpAudio, 'm=video 0 RTP/AVP 96', 'm=image 4002 udptl t38'), from: carrier, to: pbx, ok: true },
];
for (const c of checks) {
  test(`checkOffer: ${c.name}`, () => {
    const r = checkOffer(c.sdp, c.from, c.to);
    assert.equal(r.ok, c.ok);
    if (!r.ok) {
      assert.equal(r.status, 488);
      assert.match(r.reason, /SRTP \(SDES\) required/);
    }
  });
}

test('SDP helpers: media sections inherit the session address; addresses come from o= and c=', () => {
  const s = sdp(...plainAudio, 'm=video 5000 RTP/SAVP 96', 'c=IN IP4 10.9.9.9', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:X');
  assert.deepEqual(mediaSections(s).map((m) => [m.media, m.port, m.proto, m.sdes, m.address]),
    [['audio', 4000, 'RTP/AVP', false, '10.1.2.3'], ['video', 5000, 'RTP/SAVP', true, '10.9.9.9']]);
  assert.deepEqual(sdpAddresses(s).sort(), ['10.1.2.3', '10.9.9.9']);
});

test('SDES keys are redacted and the o= username is hidden', () => {
  const s = sdp(...srtpAudio);
  const r = redactSdp(s);
  assert.doesNotMatch(r, /WVNfX19zZW1jdGwg/);
  assert.match(r, /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\[redacted\]/);
  assert.match(redactSdp('inline:KEY|2^31|1:1'), /^inline:\[redacted\]\|2\^31\|1:1$/);
  assert.match(hideOriginUser(s), /^o=- 7 7 IN IP4 10\.1\.2\.3$/m);
  assert.doesNotMatch(hideOriginUser(s), /pbx-host/);
});

test('an SDES offer towards a tenant that is not srtp off takes two chained sessions (a key per side); the hop between them is plain RTP', () => {
  const required: TenantMedia = { mode: 'flow-through', srtp: 'required' };
  const optional: TenantMedia = { mode: 'flow-through', srtp: 'optional' };
  const off: TenantMedia = { mode: 'flow-through', srtp: 'off' };
  assert.equal(needsSplitKeys(sdp(...srtpAudio), required), true);
  assert.equal(needsSplitKeys(sdp(...srtpAudio), optional), true);
  assert.equal(needsSplitKeys(sdp(...srtpAudio), off), false, 'SRTP to RTP: rtpengine makes the caller\'s answer key itself');
  assert.equal(needsSplitKeys(sdp(...plainAudio), required), false, 'RTP to SRTP: rtpengine makes the called side\'s key itself');
  assert.equal(needsSplitKeys(sdp('m=audio 0 RTP/SAVP 0', srtpAudio[1]!), required), false, 'a refused section carries no media');
  const hop = relayHopParams();
  assert.equal(hop['transport-protocol'], 'RTP/AVP');
  assert.deepEqual(hop.SDES, ['off']);
});

test('checkOffer: SDES keys towards an srtp: off tenant on a flow-around call are refused 488 (offer and answer); plain RTP, a refused section or an anchored call pass', () => {
  const around = { name: 'pbx', mode: 'flow-around', srtp: 'optional' } as const;
  const offTenant = { name: 'carrier', mode: 'flow-around', srtp: 'off' } as const;
  assert.deepEqual(checkOffer(sdp(...srtpAudio), around, offTenant), {
    ok: false, status: 488, reason: 'SRTP off towards tenant carrier, and media flows around the gateway: the offer has SDES keys in audio RTP/SAVP',
  });
  assert.equal(checkOffer(sdp(...srtpAudio), around, offTenant, 'answer').ok, false);
  assert.deepEqual(checkOffer(sdp(...plainAudio), around, offTenant), { ok: true, anchored: false });
  assert.deepEqual(checkOffer(sdp('m=audio 0 RTP/SAVP 0', srtpAudio[1]!), around, offTenant), { ok: true, anchored: false }, 'a refused section sends nothing');
  assert.deepEqual(checkOffer(sdp(...srtpAudio), offTenant, around), { ok: true, anchored: false }, 'from the off tenant: its own keys');
  assert.deepEqual(checkOffer(sdp(...srtpAudio), around, { ...offTenant, mode: 'flow-through' }), { ok: true, anchored: true }, 'anchored: rtpengine removes them');
});

test('an SDES offer towards an srtp: off tenant is checked on a call between flow-around tenants too (mediaChecked), so whenDown: flow-around does not fall back to it', () => {
  const around = { mode: 'flow-around', srtp: 'optional' } as const;
  assert.equal(mediaChecked(around, { mode: 'flow-around', srtp: 'off' }), true);
  assert.equal(mediaChecked({ mode: 'flow-around', srtp: 'off' }, around), true);
  assert.equal(mediaChecked(around, around), false, 'nothing to refuse between two optional flow-around tenants');
  const check = callSdpChecker({ ...around, name: 'pbx' }, { mode: 'flow-around', srtp: 'off', name: 'carrier' })!;
  assert.equal(check('A', 'offer', sdp(...srtpAudio))?.cause, 'srtp');
  assert.equal(check('A', 'offer', sdp(...plainAudio)), undefined);
});
