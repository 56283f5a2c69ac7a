// What gateway.outbound kept DNS answers from reaches /metrics: the call pipeline's refusals and cuts, and the
// addresses the OPTIONS pings and registration trunks refused, one family by event and sender. The engine core's
// lookup counters ride on trunkgate_engine_events_total; the lookups in flight are a level, not a count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayMetrics, type MetricsInput } from '../../../src/admin/metrics.js';
import { parsePromText } from '../../support/prom-text.js';

const policy = {
  deniedByCategory: {}, unknownPeerRejected: 0, unknownPeerAllowed: 0, noRoute: 0, tooManyHops: 0,
  cryptoRejected: 0, noTenant: 0, peerHeaderIgnored: 0, failovers: 0, skippedDown: 0, dnsFailures: 0, refusedAtTenantLimit: 0,
  skippedAtLimit: 0, refusedAtTargetLimit: 0, refusedOverTenantRate: 0, skippedOverRate: 0, refusedOverTargetRate: 0,
};
const calls = { attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0 };
const registration = (tenant: string, resolvedRefused?: number) => ({
  tenant, registrar: `dns:${tenant}.example`, aor: `sip:u@${tenant}.example`, contactUser: 'u', state: 'failed', failures: 1, registers: 0, intervalTooBrief: 0,
  ...(resolvedRefused !== undefined ? { resolvedRefused } : {}),
});

test('trunkgate_outbound_dns_total: the pipeline\'s outbound counters by event, and the pings\' and registrations\' refusals', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const input = {
    b2bua: {
      ...calls,
      policy: { ...policy, outbound: { resolvedRefused: 3, srvRecordsCapped: 4, addressesCapped: 5, targetsCapped: 6, resolveDeadline: 7 } },
      trunks: { trunks: [], wentDown: 1, cameUp: 0, pings: 2, pingFailures: 2, resolvedRefused: 8 },
      registrations: [registration('a', 2), registration('b'), registration('c', 1)],
    },
  } as unknown as MetricsInput;
  const prom = parsePromText(await m.render(input));
  const row = (event: string, sender: string) => prom.value('trunkgate_outbound_dns_total', { event, sender });
  assert.equal(prom.types.get('trunkgate_outbound_dns_total'), 'counter');
  assert.equal(row('resolvedRefused', 'call'), 3);
  assert.equal(row('srvRecordsCapped', 'call'), 4);
  assert.equal(row('addressesCapped', 'call'), 5);
  assert.equal(row('targetsCapped', 'call'), 6);
  assert.equal(row('resolveDeadline', 'call'), 7);
  assert.equal(row('resolvedRefused', 'ping'), 8);
  assert.equal(row('resolvedRefused', 'register'), 3, 'summed over the registration trunks');
});

test('trunkgate_outbound_dns_total: zero rows before anything was refused; none for a sender that does not run', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const prom = parsePromText(await m.render({ b2bua: { ...calls, policy } } as unknown as MetricsInput));
  for (const event of ['resolvedRefused', 'srvRecordsCapped', 'addressesCapped', 'targetsCapped', 'resolveDeadline']) {
    assert.equal(prom.value('trunkgate_outbound_dns_total', { event, sender: 'call' }), 0, event);
  }
  assert.equal(prom.value('trunkgate_outbound_dns_total', { event: 'resolvedRefused', sender: 'ping' }), undefined);
  assert.equal(prom.value('trunkgate_outbound_dns_total', { event: 'resolvedRefused', sender: 'register' }), undefined);
});

test('the engine core\'s name lookups: timeouts and stale answers are events; the lookups in flight are a table size', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const input = {
    b2bua: calls,
    engine: {
      connections: [], tls: { failures: [], profiles: [], version: 1 }, transport: { messagesIn: 0, messagesOut: 0, drops: {} }, transactions: {}, apps: 1, listenersDown: [],
      core: { dialogs: 0, nameLookupsInFlight: 2, nameLookupsRefused: 1, nameLookupTimeouts: 4, nameLookupsStale: 9 },
    },
  } as unknown as MetricsInput;
  const prom = parsePromText(await m.render(input));
  assert.equal(prom.value('trunkgate_engine_events_total', { event: 'nameLookupTimeouts' }), 4);
  assert.equal(prom.value('trunkgate_engine_events_total', { event: 'nameLookupsStale' }), 9);
  assert.equal(prom.value('trunkgate_engine_events_total', { event: 'nameLookupsRefused' }), 1);
  assert.equal(prom.value('trunkgate_engine_events_total', { event: 'nameLookupsInFlight' }), undefined, 'a level goes down: not a counter');
  assert.equal(prom.value('trunkgate_engine_table_size', { table: 'nameLookupsInFlight' }), 2);
});
