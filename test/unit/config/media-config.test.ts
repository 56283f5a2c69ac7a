import assert from 'node:assert/strict';
import { test } from 'node:test';
import { b2buaPolicyFromConfig, parseConfig } from '../../../src/config/index.js';

const tenants = (media: string) => ({ file: 'tenants.yaml', text: `tenants:\n  carrier: { sipServer: "127.0.0.1:5090"${media} }\n` });

test('no media block: the tenant flows around, the gateway lists no rtpengine, and nothing else changes', () => {
  const r = parseConfig([tenants('')]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  if (!r.ok) return;
  assert.equal(r.config.tenants.carrier!.media, undefined);
  assert.deepEqual(r.config.gateway.media, { rtpengines: [], timeoutMs: 1000, pingIntervalSeconds: 5, whenDown: 'reject', rtpTimeoutSeconds: 0 });
});

test('a flow-through tenant with rtpengines listed: defaults fill the media block and the ng port', () => {
  const r = parseConfig([
    { file: 'gateway.yaml', text: 'gateway:\n  media: { rtpengines: [{ host: 127.0.0.1 }, { host: "::1", port: 2223 }] }\n' },
    tenants(', media: { mode: flow-through, srtp: required, suites: [AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_80] }'),
  ]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  if (!r.ok) return;
  assert.deepEqual(r.config.gateway.media.rtpengines, [{ host: '127.0.0.1', port: 22222 }, { host: '::1', port: 2223 }]);
  assert.deepEqual(r.config.tenants.carrier!.media, { mode: 'flow-through', srtp: 'required', suites: ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'] });
});

test('flow-through with no rtpengine, an unknown mode or suite, or a host name are refused with their paths', () => {
  const none = parseConfig([tenants(', media: { mode: flow-through }')]);
  assert.ok(!none.ok);
  if (!none.ok) {
    assert.deepEqual(none.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_TENANT', 'tenants.carrier.media.mode']]);
  }
  const bad = parseConfig([
    { file: 'gateway.yaml', text: 'gateway:\n  media: { rtpengines: [{ host: rtpe.example.com }] }\n' },
    tenants(', media: { mode: through, suites: [AES_999] }'),
  ]);
  assert.ok(!bad.ok);
  if (!bad.ok) {
    const paths = bad.problems.map((p) => `${p.code} ${p.path}`).sort();
    assert.deepEqual(paths, [
      'ERR_CONFIG_SCHEMA gateway.media.rtpengines[0].host',
      'ERR_CONFIG_SCHEMA tenants.carrier.media.mode',
      'ERR_CONFIG_SCHEMA tenants.carrier.media.suites[0]',
    ]);
  }
});

test('the b2bua gets the relay settings and each tenant\'s media policy, suites defaulting to srtpCrypto', () => {
  const r = parseConfig([
    { file: 'gateway.yaml', text: 'gateway:\n  media: { rtpengines: [{ host: 127.0.0.1, port: 2223 }], pingIntervalSeconds: 2, whenDown: flow-around, rtpTimeoutSeconds: 30 }\n' },
    tenants(', srtpCrypto: [AES_CM_128_HMAC_SHA1_80], media: { mode: flow-through, srtp: required }'),
  ]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  if (!r.ok) return;
  const p = b2buaPolicyFromConfig(r.config);
  assert.deepEqual(p.media, { rtpengines: [{ host: '127.0.0.1', port: 2223 }], timeoutMs: 1000, pingIntervalMs: 2000, whenDown: 'flow-around', rtpTimeoutMs: 30_000 });
  assert.deepEqual(p.tenants.carrier!.media, { mode: 'flow-through', srtp: 'required', suites: ['AES_CM_128_HMAC_SHA1_80'] });
  const none = parseConfig([tenants('')]);
  assert.ok(none.ok);
  if (none.ok) assert.equal(b2buaPolicyFromConfig(none.config).media, undefined);
});
