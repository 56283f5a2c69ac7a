// What `trunkgate show` prints on a terminal may hold a peer's text (a number a URI decoded, an SNI name, a
// certificate name). None of its control characters reach the terminal: each is printed as `?`, whatever the admin
// API answered (an older gateway's list, a field nobody cleaned).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActiveCallRow } from '../../../src/b2bua/active-calls.js';
import { formatCalls, formatConnections } from '../../../src/cli/show-format.js';
import { formatTable } from '../../../src/cli/table.js';
import type { ConnectionInfo } from '../../../src/sip/transport/index.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const TITLE_AND_CLEAR = '\u001b]0;owned\u0007\u001b[2J';

test('show calls: a calling number holding ESC ]0; BEL ESC [2J is printed with ? for each control character', () => {
  const row: ActiveCallRow = {
    id: '0-1a', app: 0, state: 'connected', callIds: ['c1@x'], tenantIn: 'pbx', tenantOut: 'carrier', dialPeer: 'intl',
    callingNumber: `5551234${TITLE_AND_CLEAR}`, calledNumber: '+44\u009b2J', startAt: 0, answerAt: 1_000, durationMs: 5_000,
  };
  const out = formatCalls({ calls: [row], total: 1, count: 1 });
  for (const line of out) assert.ok(!CONTROL.test(line), JSON.stringify(line));
  assert.match(out[1]!, /5551234\?\]0;owned\?\?\[2J {2}\+44\?2J /);
});

test('show connections --detail: an SNI and a peer identity holding CR, LF and ESC are printed with ? in the table and the detail', () => {
  const c: ConnectionInfo = {
    id: 'k1', protocol: 'tls', direction: 'inbound', state: 'open', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '192.0.2.7',
    remotePort: 40001, tenant: 'carrier\u001b[31m', tlsProfile: 'carrier-tls', servername: 'gw.example\r\n[2026-01-01 00:00:00] INFO: forged',
    createdAt: 0, lastActivityAt: 0, bytesIn: 1, bytesOut: 2, messagesIn: 3, messagesOut: 4,
    tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: false, identities: [`dns:${TITLE_AND_CLEAR}`] },
  };
  const out = formatConnections({ count: 1, connections: [c] }, true);
  for (const line of out) assert.ok(!CONTROL.test(line), JSON.stringify(line));
  assert.ok(out.some((l) => l.includes('SNI gw.example??[2026-01-01 00:00:00] INFO: forged')), out.join('\n'));
  assert.ok(out.some((l) => l.includes('peer identities dns:?]0;owned??[2J')), out.join('\n'));
  assert.ok(out.some((l) => l.includes('carrier?[31m')), 'the table\'s TENANT column');
});

test('formatTable: any cell, whatever it holds, prints without a control character and keeps its column width', () => {
  const out = formatTable(['A', 'B'], [['x\u0000\u007f\u0085y', 'end'], ['wide-cell', '2']]);
  assert.deepEqual(out, ['A          B', 'x???y      end', 'wide-cell  2']);
});
