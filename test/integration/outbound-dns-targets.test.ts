import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import { test } from 'node:test';
import { bLegTargets, type BLegTarget } from '../../src/b2bua/b-leg-target.js';
import { resolveTarget } from '../../src/b2bua/middleware/resolve-target.js';
import { PipelineStats } from '../../src/b2bua/pipeline-stats.js';
import { createRfc3263Resolver } from '../../src/b2bua/rfc3263.js';
import { systemClock } from '../../src/common/index.js';
import { b2buaPolicyFromConfig, parseConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { selectDialPeers } from '../../src/policy/index.js';
import { startDnsServer } from '../support/dns-server.js';

/** The gateway's configuration with one tenant reached by `dns:carrier.test`, and `outbound` as gateway.outbound. */
function policyOf(outbound: string) {
  const r = parseConfig([{ file: 'gateway.yaml', text: `
gateway: { outbound: ${outbound} }
tenants:
  pbx: { sipServer: 127.0.0.1:5080 }
  itsp: { sipServer: "dns:carrier.test" }
dialPeers:
  - { id: out, destinationPattern: "^\\\\+", tenant: itsp }
` }]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return b2buaPolicyFromConfig(r.config);
}

/** Resolves the call's one dns: target through a real DNS server on loopback, as the pipeline does. */
async function resolveCall(outbound: string, port: number) {
  const policy = policyOf(outbound);
  const dns = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  dns.setServers([`127.0.0.1:${port}`]);
  const stats = new PipelineStats();
  const log = silentLogger();
  const dialPeers = selectDialPeers('+442071234567', 'pbx', policy.dialPeers);
  const locals = { callId: 'c1', startedAt: 0, log, identities: [], calledNumber: '+442071234567', dialPeers };
  const target = bLegTargets('+442071234567', dialPeers.map((c) => c.dialPeer), policy.tenants)[0]!;
  const deps = { policy, stats, log, clock: systemClock, resolve: createRfc3263Resolver({ dns }) };
  const out = await resolveTarget(deps, locals, target);
  return { out, stats };
}

const uris = (out: BLegTarget[] | { status: number }) => (Array.isArray(out) ? out.map((t) => t.uri) : out.status);

test('a carrier name whose DNS answers loopback and the metadata address: refused by default, allowed only as gateway.outbound.allowResolved says', async (t) => {
  const server = await startDnsServer({
    '_sip._udp.carrier.test': [{ type: 'SRV', priority: 1, weight: 0, port: 5060, target: 'sbc.carrier.test' }],
    'sbc.carrier.test': [{ type: 'A', address: '127.0.0.1' }, { type: 'A', address: '169.254.169.254' }, { type: 'A', address: '10.20.30.40' }],
  } as never);
  t.after(() => server.close());

  const byDefault = await resolveCall('{}', server.port);
  assert.deepEqual(uris(byDefault.out), ['sip:+442071234567@10.20.30.40:5060'], 'the private address only');
  assert.equal(byDefault.stats.snapshot().outbound?.resolvedRefused, 2);

  const allowed = await resolveCall('{ allowResolved: [127.0.0.0/8] }', server.port);
  assert.deepEqual(uris(allowed.out), ['sip:+442071234567@127.0.0.1:5060', 'sip:+442071234567@10.20.30.40:5060']);
  assert.equal(allowed.stats.snapshot().outbound?.resolvedRefused, 1);
});

test('gateway.outbound: its defaults reach the policy, and a bad entry in allowResolved is a configuration error', () => {
  assert.deepEqual(policyOf('{}').outbound, {
    allowResolved: [], maxSrvRecords: 8, maxAddressesPerName: 8, maxTargetsPerCall: 16, resolveTimeoutMs: 4_000, negativeCacheMs: 30_000,
  });
  const bad = parseConfig([{ file: 'gateway.yaml', text: 'gateway: { outbound: { allowResolved: [localhost], maxTargetsPerCall: 0 } }\n' }]);
  assert.equal(bad.ok, false);
  const paths = bad.ok ? [] : (bad.problems ?? []).map((p: { path: string }) => p.path);
  assert.ok(paths.includes('gateway.outbound.allowResolved[0]'), JSON.stringify(paths));
  assert.ok(paths.includes('gateway.outbound.maxTargetsPerCall'), JSON.stringify(paths));
});
