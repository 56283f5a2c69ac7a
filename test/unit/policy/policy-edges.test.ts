import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPermission, identifyTenant, literalPrefixLength, matchTlsPeer, normalizeNumber, selectDialPeers, type TlsPeer,
} from '../../../src/policy/index.js';
import { compilePattern } from '../../../src/policy/pattern-cache.js';

/** Edges of the policy functions that the main tables leave open. */

const peer = (tenants?: string[]): TlsPeer => ({ permissions: {}, ...(tenants ? { tenants } : {}) });

test('matchTlsPeer: a wildcard covers one label of a name, never an IP literal, a bare TLD or a name peer', () => {
  const cases: [Record<string, TlsPeer>, string, string | undefined][] = [
    [{ '*.com': peer() }, 'dns:example.com', undefined],
    [{ '*.2.3.4': peer() }, 'dns:1.2.3.4', undefined],
    [{ '*.22.33.44': peer() }, 'dns:1.22.33.44', undefined],
    [{ '*.2.3.4': peer() }, 'dns:x1.2.3.4', '*.2.3.4'],
    [{ '*.2.3.4x': peer() }, 'dns:1.2.3.4x', '*.2.3.4x'],
    [{ '*.b.x': peer() }, 'dns:a:1.b.x', undefined],
    [{ '*.b.x': peer() }, 'dns:a.b.x', '*.b.x'],
    [{ 'pbx.remote.example': peer() }, 'dns:a.x.remote.example', undefined],
    [{ 'sip:*.x.example': peer() }, 'dns:a.x.example', undefined],
    [{ 'sip:*.x.example': peer() }, 'sip:a.x.example', 'sip:*.x.example'],
    [{ '*.x.example': peer(), 'dns:*.x.example': peer() }, 'dns:a.x.example', '*.x.example'],
    [{ 'dns:*.x.example': peer(), '*.x.example': peer() }, 'dns:a.x.example', 'dns:*.x.example'],
    [{ 'open.example': peer([]) }, 'dns:open.example', 'open.example'],
    [{ 'PBX.Example.': peer() }, 'DNS: pbx.example', 'PBX.Example.'],
    [{ 'pbx.example': peer(['a']) }, 'dns:pbx.example', undefined],
  ];
  for (const [peers, id, want] of cases) assert.equal(matchTlsPeer([id], peers)?.name, want, `${Object.keys(peers).join(',')} / ${id}`);
  assert.equal(matchTlsPeer(['dns:pbx.example'], { 'pbx.example': peer(['a']) }, 'a')?.name, 'pbx.example');
  assert.equal(matchTlsPeer(['dns:pbx.example'], { 'pbx.example': peer(['a']) }, 'b')?.name, undefined);
});

test('literalPrefixLength: lazy optional elements, exact ranges, classes and escapes in the alternation scan', () => {
  const table: [string, number][] = [
    ['^4?56', 2], ['^1??23', 2], ['^1*?23', 2], ['^1{10}', 10], ['^1{1,23}2', 1], ['^1{2,2}3', 3], ['^1{x}', 0],
    ['^1[|]2', 1], ['^1[a]|2', 0], ['^1\\|2', 3], ['^1(2)|3', 0], ['^1\\', 1], ['^ab+', 2],
  ];
  for (const [p, n] of table) assert.equal(literalPrefixLength(p), n, p);
});

test('compilePattern: a cached pattern is the same object until the bounded cache is cleared', () => {
  const first = compilePattern('^cache-test-a$');
  assert.equal(compilePattern('^cache-test-a$'), first);
  compilePattern('^cache-test-b$');
  assert.equal(compilePattern('^cache-test-a$'), first, 'another pattern does not evict it');
  for (let i = 0; i < 4096; i++) compilePattern(`^fill-${i}$`);
  assert.notEqual(compilePattern('^cache-test-a$'), first, 'after 4,096 others the cache was cleared');
  assert.ok(compilePattern('^cache-test-a$').test('cache-test-a'));
});

test('normalizeNumber keeps a + only at the start; checkPermission strips quotes from the Reason text', () => {
  assert.equal(normalizeNumber('12+'), '12+');
  assert.equal(normalizeNumber(' +1 (555) 123-4567 '), '+15551234567');
  const d = checkPermission('a"b\\c', {});
  assert.equal(!d.ok && d.reasonHeader, 'SIP;cause=403;text="Calls to abc numbers are not permitted"');
  assert.equal(!d.ok && d.reason, 'Calls to a"b\\c numbers are not permitted');
});

test('selectDialPeers keeps configuration order among equals; identifyTenant without SNI tenants', () => {
  const peers = ['p1', 'p2', 'p3'].map((id) => ({ id, destinationPattern: '^1', tenant: 't' }));
  assert.deepEqual(selectDialPeers('123', undefined, peers).map((c) => c.dialPeer.id), ['p1', 'p2', 'p3']);
  const ranked = [{ id: 'late', destinationPattern: '^1', tenant: 't', preference: 2 }, { id: 'early', destinationPattern: '^1', tenant: 't', preference: 1 }];
  assert.deepEqual(selectDialPeers('123', undefined, ranked).map((c) => c.dialPeer.id), ['early', 'late']);
  const received = { transport: 'tls' as const, address: '127.0.0.1', port: 5061, servername: 'x.example' };
  assert.equal(identifyTenant(received, [], { defaultTenant: 'd' }), 'd');
  assert.equal(identifyTenant(received, [], { sniTenants: { 'x.example': 's' } }), 's');
  assert.equal(identifyTenant({ ...received, servername: 'X.Example.' }, [], { sniTenants: { 'x.example': 's' } }), 's');
});
