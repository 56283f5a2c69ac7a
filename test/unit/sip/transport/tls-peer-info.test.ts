import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { certificateIdentities, tlsPeerInfo } from '../../../../src/sip/transport/tls-peer-info.js';

test('SAN entries become typed identities; other URI schemes and types are ignored', () => {
  assert.deepEqual(
    certificateIdentities({ subjectaltname: 'DNS:PBX.Example.com, URI:sip:pbx.example.com, IP Address:127.0.0.1, email:a@b, URI:https://x', subject: { CN: 'ignored' } as never }),
    ['dns:pbx.example.com', 'sip:pbx.example.com', 'ip:127.0.0.1'],
  );
});

test('quoted SAN values with commas stay whole; a sip: URI with a user part is no identity (RFC 5922 §7.1)', () => {
  assert.deepEqual(certificateIdentities({ subjectaltname: 'URI:"sip:a,b.example", URI:"sip:a,b@x.example", DNS:y.example', subject: {} as never }), [
    'sip:a,b.example',
    'dns:y.example',
  ]);
});

test('the CN is reported only when there is no SAN', () => {
  assert.deepEqual(certificateIdentities({ subjectaltname: undefined as never, subject: { CN: 'legacy.example' } as never }), ['cn:legacy.example']);
  assert.deepEqual(certificateIdentities({ subjectaltname: undefined as never, subject: {} as never }), []);
});

test('version and suite an inbound check read are taken as they are; otherwise they are read from the socket', () => {
  const reads: string[] = [];
  const socket = {
    getProtocol: () => (reads.push('protocol'), 'TLSv1.3'),
    getCipher: () => (reads.push('cipher'), { name: 'TLS_AES_256_GCM_SHA384', standardName: 'TLS_AES_256_GCM_SHA384' }),
    getPeerCertificate: () => (reads.push('cert'), {}),
    authorized: false,
  } as unknown as TLSSocket;
  const given = tlsPeerInfo(socket, { inbound: true, identities: [], authorized: false, negotiated: { version: 'TLSv1.2', cipher: { name: 'ECDHE-RSA-AES128-GCM-SHA256' } } });
  assert.deepEqual([given.version, given.cipher, reads], ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', []]);
  const read = tlsPeerInfo(socket, { inbound: true, identities: [], authorized: false });
  assert.deepEqual([read.version, read.cipher, reads], ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', ['protocol', 'cipher']]);
});
