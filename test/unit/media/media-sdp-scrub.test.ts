import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relayedSection, scrubSdp } from '../../../src/media/index.js';

// What a PBX writes when it is chatty: names, contacts and addresses of its own outside the lines rtpengine rewrites.
const pbx = [
  'v=0', 'o=pbx-admin 1 1 IN IP4 10.0.0.5', 's=PBX pbx01.corp.internal 10.0.0.5', 'i=internal trunk to 10.0.0.5', 'u=http://10.0.0.5/',
  'e=admin@corp.internal', 'p=+1 555 0100', 'k=clear:secret', 'c=IN IP4 10.0.0.5', 'b=AS:64', 't=0 0', 'a=x-pbx-host:10.0.0.5', 'a=tool:PBX 1.2',
  'm=audio 4000 RTP/AVP 0 101', 'i=line 3', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv',
  'a=rtcp:4001 IN IP4 10.0.0.6', 'a=candidate:1 1 UDP 2130706431 10.0.0.7 4000 typ host', 'a=ice-ufrag:abcd', 'a=ssrc:1 cname:pbx@10.0.0.5',
  'a=x-media-origin:10.0.0.8', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
  'm=message 7000 TCP/MSRP *', 'c=IN IP4 10.0.0.11', 'a=path:msrp://10.0.0.11:7000/abc;tcp', 'a=accept-types:text/plain',
  'm=application 5070 TCP/BFCP *', 'c=IN IP6 fd00::9', 'a=floorctrl:s-only',
  'm=image 6000 udptl t38', 'c=IN IP4 10.0.0.10', 'a=T38FaxVersion:0', 'a=T38FaxRateManagement:transferredTCF', 'a=x-fax:10.0.0.10',
  'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
  '',
].join('\r\n');

test('scrubSdp: sections rtpengine does not relay are disabled, and nothing but media lines and kept attributes is left', () => {
  assert.equal(scrubSdp(pbx), [
    'v=0', 'o=- 1 1 IN IP4 10.0.0.5', 's=-', 'c=IN IP4 10.0.0.5', 'b=AS:64', 't=0 0',
    'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', 'a=rtcp:4001 IN IP4 10.0.0.6',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
    'm=message 0 TCP/MSRP *', 'c=IN IP4 0.0.0.0',
    'm=application 0 TCP/BFCP *', 'c=IN IP6 ::',
    'm=image 6000 udptl t38', 'c=IN IP4 10.0.0.10', 'a=T38FaxVersion:0', 'a=T38FaxRateManagement:transferredTCF',
    'm=video 0 RTP/AVP 96',
    '',
  ].join('\r\n'));
});

test('scrubSdp is idempotent and keeps the number and order of the sections (RFC 3264 §6: an answer matches its offer)', () => {
  const once = scrubSdp(pbx);
  assert.equal(scrubSdp(once), once);
  assert.deepEqual([...once.matchAll(/^m=(\S+)/gm)].map((m) => m[1]), ['audio', 'message', 'application', 'image', 'video']);
});

test('relayedSection: the RTP profiles and T.38 over UDPTL; no TCP protocol, no m=message, nothing unknown', () => {
  const cases: Array<[string, string, boolean]> = [
    ['audio', 'RTP/AVP', true], ['audio', 'RTP/SAVP', true], ['audio', 'RTP/AVPF', true], ['video', 'RTP/SAVPF', true],
    ['audio', 'UDP/TLS/RTP/SAVPF', true], ['image', 'udptl', true], ['image', 'UDPTL', true],
    ['message', 'TCP/MSRP', false], ['message', 'TCP/TLS/MSRP', false], ['message', 'RTP/AVP', false], ['video', 'TCP/RTP/AVP', false],
    ['application', 'TCP/BFCP', false], ['application', 'UDP/DTLS/SCTP', false], ['audio', 'UDP', false],
  ];
  for (const [media, proto, relayed] of cases) assert.equal(relayedSection(media, proto), relayed, `${media} ${proto}`);
});
