// An inbound TLS connection carries requests back toward its peer only for the tenant it belongs to: a carrier SBC
// that two tenants share, connected in as tenant alpha, does not carry tenant beta's calls (what it sent back on that
// connection would be taken as alpha's). Without a tenant on either side, the old rules alone decide.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mayReuseInbound } from '../../../../src/sip/transport/flow-rules.js';
import type { StreamConnection } from '../../../../src/sip/transport/stream-connection.js';
import type { SendTarget } from '../../../../src/sip/transport/types.js';

const conn = (tenant?: string) => ({
  info: { protocol: 'tls', tlsProfile: 'carrier', ...(tenant !== undefined ? { tenant } : {}), tls: { authorized: true, identities: ['dns:sbc.example'] } },
}) as unknown as StreamConnection;
const target = (tenant?: string): SendTarget => ({ protocol: 'tls', address: '127.0.0.1', port: 5061, tlsProfile: 'carrier', ...(tenant !== undefined ? { tenant } : {}) });

test('an inbound TLS connection is reused for its own tenant, not for another', () => {
  assert.equal(mayReuseInbound(conn('alpha'), target('alpha')), true);
  assert.equal(mayReuseInbound(conn('alpha'), target('beta')), false);
  assert.equal(mayReuseInbound(conn('alpha'), target()), true, 'a target naming no tenant');
  assert.equal(mayReuseInbound(conn(), target('beta')), true, 'a connection of no tenant');
});
