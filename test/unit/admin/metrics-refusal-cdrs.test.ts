// The CDRs of INVITEs the engine refused are exported from its snapshot: one counter series per outcome, written
// and dropped (past gateway.limits.refusalCdrsPerSecond); none without an engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayMetrics, type MetricsInput } from '../../../src/admin/metrics.js';
import { parsePromText } from '../../support/prom-text.js';

const b2bua = { attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0 };

test('trunkgate_refusal_cdrs_total: the records written and those dropped past the rate', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const input = {
    b2bua,
    engine: {
      connections: [], tls: { failures: [], profiles: [], version: 1 }, transport: { messagesIn: 0, messagesOut: 0, drops: {} }, transactions: {},
      apps: 1, listenersDown: [], control: {}, refusalRecords: { perSecond: 50, written: 12, dropped: 340, retransmissions: 3 },
    },
  } as unknown as MetricsInput;
  const prom = parsePromText(await m.render(input));
  assert.equal(prom.types.get('trunkgate_refusal_cdrs_total'), 'counter');
  assert.equal(prom.value('trunkgate_refusal_cdrs_total', { outcome: 'written' }), 12);
  assert.equal(prom.value('trunkgate_refusal_cdrs_total', { outcome: 'dropped' }), 340);
  const external = parsePromText(await new GatewayMetrics({ processMetrics: false }).render({ b2bua } as unknown as MetricsInput));
  assert.equal(external.value('trunkgate_refusal_cdrs_total', { outcome: 'written' }), undefined, 'no engine, no series');
});

test('trunkgate_b2bua_refusal_cdrs_total: the b2bua\'s refusals before any B leg, beside the engine\'s series as they were', async () => {
  const input = {
    b2bua: { ...b2bua, refusalCdrs: { written: 100, dropped: 1_899 } },
    engine: {
      connections: [], tls: { failures: [], profiles: [], version: 1 }, transport: { messagesIn: 0, messagesOut: 0, drops: {} }, transactions: {},
      apps: 1, listenersDown: [], control: {}, refusalRecords: { perSecond: 50, written: 12, dropped: 340, retransmissions: 3 },
    },
  } as unknown as MetricsInput;
  const prom = parsePromText(await new GatewayMetrics({ processMetrics: false }).render(input));
  assert.equal(prom.types.get('trunkgate_b2bua_refusal_cdrs_total'), 'counter');
  assert.equal(prom.value('trunkgate_b2bua_refusal_cdrs_total', { outcome: 'written' }), 100);
  assert.equal(prom.value('trunkgate_b2bua_refusal_cdrs_total', { outcome: 'dropped' }), 1_899);
  assert.equal(prom.value('trunkgate_refusal_cdrs_total', { outcome: 'dropped' }), 340, 'the engine\'s series unchanged');
  // Against drachtio-server there is no engine, and the b2bua's count is still there.
  const external = parsePromText(await new GatewayMetrics({ processMetrics: false }).render({ b2bua: input.b2bua } as unknown as MetricsInput));
  assert.equal(external.value('trunkgate_b2bua_refusal_cdrs_total', { outcome: 'dropped' }), 1_899);
});
