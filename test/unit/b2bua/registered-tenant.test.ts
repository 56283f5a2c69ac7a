import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contactOwners, registeredTenant } from '../../../src/b2bua/middleware/registered-tenant.js';
import type { B2buaPolicy } from '../../../src/b2bua/policy-types.js';

const reg = (registrar: string, contactUser: string) => ({ registrar, username: 'u', password: 'p', expires: 60, contactUser, retrySeconds: { min: 1, max: 2 } });

const policy = {
  tenants: {
    pbx: { transport: 'udp', url: 'sip', defaultPermissions: {} },
    carrier: { transport: 'udp', url: 'sip', sipServer: '192.0.2.10:5060', register: reg('192.0.2.20:5060', 'trunk1'), defaultPermissions: {} },
    named: { transport: 'udp', url: 'sip', register: reg('dns:sip.carrier.example', 'trunk2'), defaultPermissions: {} },
  },
} as unknown as B2buaPolicy;

test('a call to a registered contact user is its tenant\'s only from the registrar or the sipServer when they are addresses', () => {
  const owners = contactOwners(policy);
  assert.equal(registeredTenant(owners, 'trunk1', '192.0.2.20', undefined), 'carrier', 'from the registrar');
  assert.equal(registeredTenant(owners, 'trunk1', '192.0.2.10', 'pbx'), 'carrier', 'from the sipServer, on any listener');
  assert.equal(registeredTenant(owners, 'trunk1', '198.51.100.7', undefined), undefined, 'a PBX or anyone else cannot claim the trunk');
  assert.equal(registeredTenant(owners, 'trunk1', '198.51.100.7', 'carrier'), undefined, 'the addresses decide when they are known');
  assert.equal(registeredTenant(owners, 'trunk1', undefined, undefined), undefined);
  assert.equal(registeredTenant(owners, 'someone', '192.0.2.20', undefined), undefined);
  assert.equal(registeredTenant(owners, undefined, '192.0.2.20', undefined), undefined);
});

test('a registrar given by name: only a request the engine already named the trunk\'s tenant for', () => {
  const owners = contactOwners(policy);
  assert.equal(registeredTenant(owners, 'trunk2', '203.0.113.5', 'named'), 'named');
  assert.equal(registeredTenant(owners, 'trunk2', '203.0.113.5', 'pbx'), undefined, 'a peer of another tenant cannot take the trunk\'s');
  assert.equal(registeredTenant(owners, 'trunk2', '203.0.113.5', undefined), undefined, 'nor one the engine named no tenant for');
  assert.equal(contactOwners({ tenants: { pbx: policy.tenants.pbx! } } as unknown as B2buaPolicy).size, 0);
});
