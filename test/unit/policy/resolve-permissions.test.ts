import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_CATEGORIES } from '../../../src/config/default-categories.js';
import {
  categoryDefaults,
  checkPermission,
  matchTlsPeer,
  noMatchingPeerText,
  resolvePermissions,
  type TlsPeer,
} from '../../../src/policy/index.js';

const peers: Record<string, TlsPeer> = {
  'pbx.remote.example': { permissions: { international: false, '900Dialing': false } },
  '*.carrier.example': { permissions: { international: true } },
  'sbc1.carrier.example': { permissions: { international: true, '900Dialing': true } },
  '*.eu.carrier.example': { permissions: { mobile: false } },
  'sip:typed.example': { permissions: { local: false } },
  'cn:legacy-pbx': { permissions: { longDistance: false } },
  'ip:192.0.2.10': { permissions: { tollFree: false } },
  'acme-only.example': { permissions: { international: true }, tenants: ['acme'] },
};

test('matchTlsPeer: first identity wins, exact beats wildcard, typed names match their type only', () => {
  const table: [string[], string | undefined, string | undefined, string?][] = [
    // identities, expected peer, expected identity, tenant
    [['sip:pbx.remote.example'], 'pbx.remote.example', 'sip:pbx.remote.example'],
    [['dns:PBX.Remote.Example.'], 'pbx.remote.example', 'dns:PBX.Remote.Example.'],
    [['cn:pbx.remote.example'], 'pbx.remote.example', 'cn:pbx.remote.example'],
    [['sip:sbc1.carrier.example'], 'sbc1.carrier.example', 'sip:sbc1.carrier.example'],
    [['sip:sbc2.carrier.example'], '*.carrier.example', 'sip:sbc2.carrier.example'],
    [['dns:carrier.example'], undefined, undefined], // *.domain needs one more label
    [['dns:a.b.carrier.example'], undefined, undefined], // ... exactly one
    [['dns:x.eu.carrier.example'], '*.eu.carrier.example', 'dns:x.eu.carrier.example'], // longer suffix wins
    [['dns:unknown.example', 'sip:sbc2.carrier.example'], '*.carrier.example', 'sip:sbc2.carrier.example'],
    [['sip:sbc2.carrier.example', 'dns:pbx.remote.example'], '*.carrier.example', 'sip:sbc2.carrier.example'], // first identity wins over a later exact
    [['sip:typed.example'], 'sip:typed.example', 'sip:typed.example'],
    [['dns:typed.example'], undefined, undefined], // typed peer: sip: only
    [['cn:legacy-pbx'], 'cn:legacy-pbx', 'cn:legacy-pbx'],
    [['dns:legacy-pbx'], undefined, undefined],
    [['ip:192.0.2.10'], 'ip:192.0.2.10', 'ip:192.0.2.10'],
    [['ip:192.0.2.11'], undefined, undefined],
    [['dns:*.carrier.example'], undefined, undefined], // a presented wildcard is no identity of a peer
    [[], undefined, undefined],
    [[''], undefined, undefined],
    [['dns:acme-only.example'], undefined, undefined, 'other'],
    [['dns:acme-only.example'], 'acme-only.example', 'dns:acme-only.example', 'acme'],
    [['dns:acme-only.example'], undefined, undefined], // tenant unknown: restricted peers are skipped
  ];
  for (const [ids, peer, identity, tenant] of table) {
    const m = matchTlsPeer(ids, peers, tenant);
    assert.equal(m?.name, peer, JSON.stringify(ids));
    assert.equal(m?.identity, identity, JSON.stringify(ids));
  }
});

const defaults = categoryDefaults(BUILTIN_CATEGORIES);

test('categoryDefaults takes each category default', () => {
  assert.deepEqual(defaults, { tollFree: true, '900Dialing': false, international: false, mobile: true, longDistance: true, local: true });
});

test('resolvePermissions layers category defaults, tenant defaults and the TLS peer', () => {
  const tenantDefaults = { longDistance: false, mobile: false };
  const table: { ids: string[]; unknownPeer?: 'allow' | 'reject'; peer?: string; warning?: boolean; rejected?: boolean; expect?: Record<string, boolean> }[] = [
    { ids: ['sip:sbc1.carrier.example'], peer: 'sbc1.carrier.example', expect: { international: true, '900Dialing': true, longDistance: false, local: true } },
    { ids: ['sip:sbc9.carrier.example'], peer: '*.carrier.example', expect: { international: true, '900Dialing': false, mobile: false } },
    { ids: ['dns:pbx.remote.example'], peer: 'pbx.remote.example', expect: { international: false, tollFree: true } },
    { ids: ['dns:stranger.example'], warning: true, expect: { international: false, longDistance: false, local: true } },
    { ids: [], expect: { longDistance: false, local: true } },
    { ids: ['dns:stranger.example'], unknownPeer: 'reject', rejected: true },
    { ids: [], unknownPeer: 'reject', rejected: true },
    { ids: ['sip:sbc1.carrier.example'], unknownPeer: 'reject', peer: 'sbc1.carrier.example', expect: { international: true } },
  ];
  for (const row of table) {
    const r = resolvePermissions({
      identities: row.ids,
      tlsPeers: peers,
      tenant: 'carrier',
      tenantDefaults,
      categoryDefaults: defaults,
      ...(row.unknownPeer ? { unknownPeer: row.unknownPeer } : {}),
    });
    const label = JSON.stringify(row);
    if (row.rejected) {
      assert.equal(r.ok, false, label);
      if (!r.ok) {
        assert.equal(r.code, 'ERR_POLICY_UNKNOWN_PEER');
        assert.equal(r.status, 403);
        assert.ok(r.reason.startsWith('No matching TLS Peer found for'));
      }
      continue;
    }
    assert.ok(r.ok, label);
    if (!r.ok) continue;
    assert.equal(r.peer?.name, row.peer, label);
    assert.equal(r.warning !== undefined, row.warning ?? false, label);
    for (const [k, v] of Object.entries(row.expect ?? {})) assert.equal(r.permissions[k], v, `${label} ${k}`);
    assert.ok(Object.isFrozen(r.permissions));
  }
});

test('the warning names every presented identity', () => {
  const r = resolvePermissions({ identities: ['sip:a.example', 'dns:a.example'], tlsPeers: peers, categoryDefaults: defaults });
  assert.ok(r.ok);
  assert.equal(r.ok && r.warning, 'No matching TLS Peer found for sip:a.example, dns:a.example');
  assert.equal(noMatchingPeerText([]), 'No matching TLS Peer found for (no certificate identities)');
});

test('checkPermission: allowed, denied with a 403 Reason naming the category, unknown categories denied', () => {
  const perms = { international: false, local: true, '900Dialing': false };
  const table: [string | undefined, boolean][] = [
    ['local', true],
    ['international', false],
    ['900Dialing', false],
    ['mobile', false], // absent from the set: denied
    [undefined, true], // no category: allowed
  ];
  for (const [category, allowed] of table) {
    const d = checkPermission(category, perms);
    assert.equal(d.ok, allowed, String(category));
    if (!d.ok) {
      assert.equal(d.code, 'ERR_POLICY_DENIED');
      assert.equal(d.status, 403);
      assert.equal(d.category, category);
      assert.match(d.reasonHeader, new RegExp(`^SIP;cause=403;text="[^"]*${category}[^"]*"$`));
    }
  }
});

test('end to end: identity → permissions → category → verdict', () => {
  const run = (ids: string[], number: string) => {
    const r = resolvePermissions({ identities: ids, tlsPeers: peers, tenant: 'carrier', categoryDefaults: defaults, tenantDefaults: {} });
    assert.ok(r.ok);
    const cat = BUILTIN_CATEGORIES.find((c) => c.patterns.some((p) => new RegExp(p).test(number)))?.name;
    return r.ok ? checkPermission(cat, r.permissions).ok : false;
  };
  assert.equal(run(['dns:pbx.remote.example'], '+442079460018'), false);
  assert.equal(run(['dns:pbx.remote.example'], '2125550100'), true);
  assert.equal(run(['dns:sbc3.carrier.example'], '+442079460018'), true);
  assert.equal(run(['dns:sbc3.carrier.example'], '9005550100'), false);
  assert.equal(run(['dns:sbc1.carrier.example'], '9005550100'), true);
  assert.equal(run(['dns:stranger.example'], '011442079460018'), false);
});
