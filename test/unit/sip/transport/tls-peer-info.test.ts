import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateIdentities } from '../../../../src/sip/transport/tls-peer-info.js';

test('SAN entries become typed identities; other URI schemes and types are ignored', () => {
  assert.deepEqual(
    certificateIdentities({ subjectaltname: 'DNS:PBX.Example.com, URI:sip:pbx.example.com, IP Address:127.0.0.1, email:a@b, URI:https://x', subject: { CN: 'ignored' } as never }),
    ['dns:pbx.example.com', 'sip:pbx.example.com', 'ip:127.0.0.1'],
  );
});

test('quoted SAN values with commas stay whole', () => {
  assert.deepEqual(certificateIdentities({ subjectaltname: 'URI:"sip:a,b@x.example", DNS:y.example', subject: {} as never }), [
    'sip:a,b@x.example',
    'dns:y.example',
  ]);
});

test('the CN is reported only when there is no SAN', () => {
  assert.deepEqual(certificateIdentities({ subjectaltname: undefined as never, subject: { CN: 'legacy.example' } as never }), ['cn:legacy.example']);
  assert.deepEqual(certificateIdentities({ subjectaltname: undefined as never, subject: {} as never }), []);
});
