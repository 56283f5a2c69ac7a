import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyTlsFailure, formatCubeText, sipxText, TlsStats, type TlsFailureReason } from '../../../src/tls/index.js';

test('codes classify into stable reasons', () => {
  const table: [string, TlsFailureReason, boolean][] = [
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown-ca', false],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'unknown-ca', false],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'unknown-ca', false],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'unknown-ca', true],
    ['CERT_HAS_EXPIRED', 'expired', false],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'expired', true],
    ['CERT_NOT_YET_VALID', 'not-yet-valid', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'name-mismatch', false],
    ['ERR_TLS_NAME_MISMATCH', 'name-mismatch', false],
    ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'no-client-certificate', false],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'no-client-certificate', true],
    ['ERR_TLS_NO_CLIENT_CERT', 'no-client-certificate', false],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'protocol-version', false],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'protocol-version', true],
    ['ERR_SSL_NO_SHARED_CIPHER', 'no-shared-cipher', false],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'no-shared-cipher', true],
    ['ERR_TLS_UNKNOWN_SNI', 'unknown-sni', false],
    ['ERR_SSL_TLSV1_UNRECOGNIZED_NAME', 'unknown-sni', true],
    ['CERT_REVOKED', 'revoked', false],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED', 'revoked', true],
    ['ECONNRESET', 'other', false],
  ];
  for (const [code, reason, peer] of table) {
    const f = classifyTlsFailure(Object.assign(new Error('x'), { code }));
    assert.equal(f.reason, reason, code);
    assert.equal(f.peerReported, peer, code);
    assert.equal(f.code, code);
  }
  assert.equal(classifyTlsFailure('CERT_HAS_EXPIRED').reason, 'expired', 'authorizationError strings');
  assert.equal(classifyTlsFailure(new Error('routines:no shared cipher')).reason, 'no-shared-cipher');
  assert.equal(classifyTlsFailure(undefined).reason, 'other');
});

test('name mismatch keeps expected vs presented, and texts follow CUBE and sipXbridge', () => {
  const f = classifyTlsFailure({ code: 'ERR_TLS_NAME_MISMATCH', message: 'm', details: { expected: ['a.example'], presented: ['dns:b.example'] } });
  assert.deepEqual(f.expected, ['a.example']);
  assert.deepEqual(f.presented, ['dns:b.example']);
  const text = formatCubeText(f, { direction: 'client', tenant: 'acme', remoteAddress: '127.0.0.1', remotePort: 5061 });
  assert.match(text, /^%SIP-2-TLS_HANDSHAKE_FAILED: TLS handshake failure - identity check failed, direction=client, remote_addr=127\.0\.0\.1, remote_port=5061, tenant=acme, expected=a\.example, presented=dns:b\.example, code=ERR_TLS_NAME_MISMATCH$/);
  assert.equal(sipxText(f, 'client'), 'Certificate identity does not match requested domain');
  assert.equal(sipxText(f, 'server'), 'No matching TLS Peer found for dns:b.example');
  assert.equal(sipxText(classifyTlsFailure('CERT_HAS_EXPIRED'), 'client'), undefined);
});

test('stats count per tenant, direction and reason', () => {
  const s = new TlsStats();
  s.recordFailure('acme', 'server', 'unknown-ca');
  s.recordFailure('acme', 'server', 'unknown-ca');
  s.recordFailure('acme', 'client', 'name-mismatch');
  s.recordFailure(undefined, 'server', 'unknown-sni');
  s.recordSuccess('acme', 'server');
  assert.equal(s.failures('acme', 'server', 'unknown-ca'), 2);
  assert.equal(s.failures('acme', 'client', 'unknown-ca'), 0);
  assert.equal(s.successes('acme', 'server'), 1);
  assert.deepEqual(s.snapshot(), [
    { tenant: '-', direction: 'server', reason: 'unknown-sni', count: 1 },
    { tenant: 'acme', direction: 'client', reason: 'name-mismatch', count: 1 },
    { tenant: 'acme', direction: 'server', reason: 'unknown-ca', count: 2 },
  ]);
});
