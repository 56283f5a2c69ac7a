// trunkgate_calls_failed_total counts each failed call once: a policy refusal (403, 404, 483) is in the b2bua's
// failures by status as well as in the policy's counters, so its bridge row is what is left of the status after them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayMetrics, type MetricsInput } from '../../../src/admin/metrics.js';
import { parsePromText } from '../../support/prom-text.js';

const policy = {
  deniedByCategory: { international: 2, premium: 1 }, unknownPeerRejected: 1, unknownPeerAllowed: 0, noRoute: 2, tooManyHops: 1,
  cryptoRejected: 0, noTenant: 1, peerHeaderIgnored: 0, failovers: 0, skippedDown: 0, dnsFailures: 0, refusedAtTenantLimit: 0,
  skippedAtLimit: 0, refusedAtTargetLimit: 0, refusedOverTenantRate: 0, skippedOverRate: 0, refusedOverTargetRate: 0,
};

test('trunkgate_calls_failed_total: a policy refusal counts under stage policy only; attempted is connected plus the rows', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  // 5 refused 403 by the policy and 1 by the far end; 2 refused 404 by the policy; 1 refused 483; 2 busy at the far end.
  const failed = { 403: 6, 404: 2, 483: 1, 486: 2 };
  const input = {
    b2bua: { attempted: 15, connected: 4, completed: 4, failed, failedTotal: 11, active: 0, policy },
  } as unknown as MetricsInput;
  const prom = parsePromText(await m.render(input));
  const row = (status: string, stage: string) => prom.value('trunkgate_calls_failed_total', { status, stage });
  assert.equal(row('403', 'policy'), 5);
  assert.equal(row('403', 'bridge'), 1, 'the far end\'s 403 only');
  assert.equal(row('404', 'policy'), 2);
  assert.equal(row('404', 'bridge'), undefined, 'every 404 was the policy\'s: no bridge row');
  assert.equal(row('483', 'policy'), 1);
  assert.equal(row('483', 'bridge'), undefined);
  assert.equal(row('486', 'bridge'), 2);
  const sum = prom.samples.filter((x) => x.name === 'trunkgate_calls_failed_total').reduce((a, x) => a + x.value, 0);
  assert.equal(sum, 11, 'the rows add up to the b2bua\'s failures');
  assert.equal(prom.value('trunkgate_calls_attempted_total'), (prom.value('trunkgate_calls_connected_total') ?? 0) + sum);
});
