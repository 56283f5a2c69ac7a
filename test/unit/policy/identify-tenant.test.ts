import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identifyTenant, type ReceivedOn, type TenantListener } from '../../../src/policy/index.js';

const listeners: TenantListener[] = [
  { transport: 'udp', host: '127.0.0.1', port: 5060 },
  { transport: 'tcp', host: '127.0.0.1', port: 5060 },
  { transport: 'tls', host: '127.0.0.1', port: 5061, tenant: 'carrier' },
  { transport: 'tls', host: '0.0.0.0', port: 5062, tenant: 'acme' },
  { transport: 'tls', host: '127.0.0.1', port: 5062, tenant: 'acme-local' },
  { transport: 'udp', host: '::', port: 5070, tenant: 'pbx' },
  { transport: 'tls', host: '127.0.0.1', port: 5065 },
];
const opts = { sniTenants: { 'gw-beta.example.com': 'beta' }, defaultTenant: 'pbx-default' };

test('identifyTenant: listener, then SNI, then the default', () => {
  const table: [ReceivedOn, string | undefined][] = [
    [{ transport: 'udp', address: '127.0.0.1', port: 5060 }, 'pbx-default'],
    [{ transport: 'tcp', address: '127.0.0.1', port: 5060 }, 'pbx-default'],
    [{ transport: 'tls', address: '127.0.0.1', port: 5061 }, 'carrier'],
    [{ transport: 'tls', address: '127.0.0.1', port: 5061, servername: 'gw-beta.example.com' }, 'carrier'], // the listener's tenant wins
    [{ transport: 'tls', address: '127.0.0.1', port: 5062 }, 'acme-local'], // exact address beats wildcard
    [{ transport: 'tls', address: '127.0.0.2', port: 5062 }, 'acme'],
    [{ transport: 'udp', address: '::1', port: 5070 }, 'pbx'],
    [{ transport: 'tcp', address: '::1', port: 5070 }, 'pbx-default'], // no tcp listener there
    [{ transport: 'tls', address: '127.0.0.1', port: 5065, servername: 'GW-BETA.example.com.' }, 'beta'],
    [{ transport: 'tls', address: '127.0.0.1', port: 5065, servername: 'other.example' }, 'pbx-default'],
    [{ transport: 'udp', address: '127.0.0.1', port: 5065, servername: 'gw-beta.example.com' }, 'pbx-default'], // SNI only on TLS
  ];
  for (const [r, want] of table) assert.equal(identifyTenant(r, listeners, opts), want, JSON.stringify(r));
  assert.equal(identifyTenant({ transport: 'udp', address: '127.0.0.1', port: 5060 }, listeners), undefined);
});

test('an SNI is read as a DNS name: ASCII case and a trailing dot fold, a look-alike non-ASCII letter does not', () => {
  const received = { transport: 'tls' as const, address: '10.0.0.1', port: 5061 };
  assert.equal(identifyTenant({ ...received, servername: 'GW-Beta.Example.com.' }, [], opts), 'beta');
  // U+212A KELVIN SIGN lower-cases to an ASCII k in JavaScript: it must not name the tenant of "k…".
  const kelvin = { sniTenants: { 'karrier.example': 'k' }, defaultTenant: 'pbx-default' };
  assert.equal(identifyTenant({ ...received, servername: '\u212Aarrier.example' }, [], kelvin), 'pbx-default');
});
