import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayMetrics, type MetricsInput } from '../../../src/admin/metrics.js';

test('/metrics carries the media counters, the registration trunks and the configuration writes when there are any', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const input = {
    engine: { connections: [], tls: { failures: [], profiles: [], version: 1 }, transport: { messagesIn: 0, messagesOut: 0, drops: {} }, transactions: {}, apps: 1, listenersDown: [] },
    b2bua: {
      attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0,
      media: { requests: { offer: 3, answer: 2, delete: 1, query: 0, ping: 5 }, failures: { timeout: 1, refused: 0, unavailable: 0 }, failovers: 0, strayReplies: 0, sessionsOpened: 3, sessionsOpen: 2 },
      registrations: [{ tenant: 'carrier', registrar: '192.0.2.20:5060', aor: 'sip:t@c', contactUser: 't', state: 'registered', failures: 0, registers: 1 }],
    },
    configWrites: { create: { done: 2, ERR_CONFIG_EXISTS: 1 } },
  } as unknown as MetricsInput;
  const text = await m.render(input);
  assert.match(text, /^trunkgate_media_requests_total\{command="offer"\} 3$/m);
  assert.match(text, /^trunkgate_media_failures_total\{kind="timeout"\} 1$/m);
  assert.match(text, /^trunkgate_media_sessions_open 2$/m);
  assert.match(text, /^trunkgate_registration_up\{tenant="carrier",registrar="192\.0\.2\.20:5060"\} 1$/m);
  assert.match(text, /^trunkgate_config_writes_total\{operation="create",outcome="ERR_CONFIG_EXISTS"\} 1$/m);
});
