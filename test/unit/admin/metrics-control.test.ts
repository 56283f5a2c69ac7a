// The control port's counters from the engine snapshot are exported: one counter series per event, the apps
// connected left to /stats (a level, not a count).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayMetrics, type MetricsInput } from '../../../src/admin/metrics.js';
import { parsePromText } from '../../support/prom-text.js';

test('trunkgate_control_events_total: a series per control-port counter, appsConnected left out', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const control = { appsConnected: 2, appsRefused: 1, appSendBufferOverflows: 0, controlErrors: 7, controlConnectionsRefused: 3, controlListenerErrors: 0 };
  const input = {
    b2bua: { attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0 },
    engine: { connections: [], tls: { failures: [], profiles: [], version: 1 }, transport: { messagesIn: 0, messagesOut: 0, drops: {} }, transactions: {}, apps: 2, listenersDown: [], control },
  } as unknown as MetricsInput;
  const prom = parsePromText(await m.render(input));
  assert.equal(prom.types.get('trunkgate_control_events_total'), 'counter');
  assert.equal(prom.value('trunkgate_control_events_total', { event: 'controlErrors' }), 7);
  assert.equal(prom.value('trunkgate_control_events_total', { event: 'controlConnectionsRefused' }), 3);
  assert.equal(prom.value('trunkgate_control_events_total', { event: 'appsConnected' }), undefined);
});
