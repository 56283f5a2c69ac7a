import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterCrypto } from '../../../src/b2bua/index.js';

const sdp = (...media: string[]) => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', ...media, ''].join('\r\n');
const audio = ['m=audio 4000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', 'a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:A',
  'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:B', 'a=crypto:3 AEAD_AES_256_GCM inline:C', 'a=sendrecv'];
const cryptoLines = (text: string) => text.split('\r\n').filter((l) => l.startsWith('a=crypto'));

const cases: Array<{ name: string; input: string; suites?: string[]; crypto?: string[]; changed?: boolean; refused?: boolean }> = [
  { name: 'no policy: unchanged', input: sdp(...audio), crypto: cryptoLines(sdp(...audio)), changed: false },
  { name: 'no a=crypto: unchanged', input: sdp('m=audio 4000 RTP/AVP 0'), suites: ['AEAD_AES_256_GCM'], crypto: [], changed: false },
  {
    name: 'filtered and ordered by the tenant', input: sdp(...audio), suites: ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'],
    crypto: ['a=crypto:3 AEAD_AES_256_GCM inline:C', 'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:B'], changed: true,
  },
  {
    name: 'the same order kept is no change', input: sdp(...audio),
    suites: ['AES_CM_128_HMAC_SHA1_32', 'AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_256_GCM'], crypto: cryptoLines(sdp(...audio)), changed: false,
  },
  { name: 'none left: 488', input: sdp(...audio), suites: ['AEAD_AES_128_GCM'], refused: true },
  {
    name: 'a refused stream (port 0) is left alone', input: sdp('m=video 0 RTP/SAVP 96', 'a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:V'),
    suites: ['AEAD_AES_256_GCM'], crypto: ['a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:V'], changed: false,
  },
  {
    name: 'each media section on its own', input: sdp(...audio, 'm=video 5000 RTP/SAVP 96', 'a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:V'),
    suites: ['AES_CM_128_HMAC_SHA1_80'], crypto: ['a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:B', 'a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:V'], changed: true,
  },
];

for (const c of cases) {
  test(`filterCrypto: ${c.name}`, () => {
    const r = filterCrypto(c.input, c.suites);
    if (c.refused) {
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.status, 488);
        assert.equal(r.reasonHeader, 'SIP;cause=488;text="No acceptable SRTP crypto suite for audio"');
      }
      return;
    }
    assert.ok(r.ok);
    assert.deepEqual(cryptoLines(r.sdp), c.crypto);
    assert.equal(r.changed, c.changed);
    // everything but the crypto lines is kept in place
    const rest = (t: string) => t.split('\r\n').filter((l) => !l.startsWith('a=crypto'));
    assert.deepEqual(rest(r.sdp), rest(c.input));
  });
}

test('filterCrypto keeps bare LF line ends', () => {
  const lf = 'v=0\nm=audio 1 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:A\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:B\n';
  const r = filterCrypto(lf, ['AES_CM_128_HMAC_SHA1_80']);
  assert.ok(r.ok);
  assert.equal(r.sdp, 'v=0\nm=audio 1 RTP/SAVP 0\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:B\n');
});
