// The text of a TLS failure's log line holds what the peer sent: its SNI and its certificate's names. In the pretty
// log format the text is printed as it is, so a CR or LF there would start a line the peer wrote; each control
// character is printed as `?` (src/common/printable.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCubeText, sipxText, type TlsFailure } from '../../../src/tls/index.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const FORGED = 'x\r\n[2026-01-01 00:00:00.000] INFO: admin: configuration reloaded';

test('an inbound SNI with CR/LF gives one line: sni=x??[2026-01-01 ...', () => {
  const f: TlsFailure = { reason: 'unknown-sni', code: 'ERR_TLS_UNKNOWN_SNI', peerReported: false, detail: 'unknown SNI' };
  const text = formatCubeText(f, { direction: 'server', remoteAddress: '192.0.2.7', remotePort: 40001, servername: FORGED });
  assert.ok(!CONTROL.test(text), JSON.stringify(text));
  assert.match(text, /, sni=x\?\?\[2026-01-01 00:00:00\.000\] INFO: admin: configuration reloaded, code=ERR_TLS_UNKNOWN_SNI$/);
});

test('a long SNI is cut as a record would keep it; the names a certificate presents have no control character either', () => {
  const f: TlsFailure = {
    reason: 'name-mismatch', code: 'ERR_TLS_CERT_ALTNAME_INVALID', peerReported: false, detail: 'mismatch',
    expected: ['sbc.carrier.example'], presented: ['dns:a\u001b[2J', `cn:${FORGED}`],
  };
  const text = formatCubeText(f, { direction: 'server', tenant: 'carrier', servername: `${'s'.repeat(5_000)}\n` });
  assert.ok(!CONTROL.test(text), JSON.stringify(text));
  assert.match(text, new RegExp(`sni=s{256}, expected=sbc\\.carrier\\.example, presented=dns:a\\?\\[2J\\|cn:x\\?\\?\\[2026`));
  const sipx = sipxText(f, 'server')!;
  assert.ok(!CONTROL.test(sipx), JSON.stringify(sipx));
  assert.match(sipx, /^No matching TLS Peer found for dns:a\?\[2J, cn:x\?\?\[2026/);
});
