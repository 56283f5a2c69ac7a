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

test('/metrics carries the 423s of a registration trunk, the registration relay\'s refusals by cause and in-dialog refusals by status', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const input = {
    engine: { connections: [], tls: { failures: [], profiles: [], version: 1 }, transport: { messagesIn: 0, messagesOut: 0, drops: {} }, transactions: {}, apps: 1, listenersDown: [] },
    b2bua: {
      attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0,
      registrations: [{ tenant: 'carrier', registrar: '192.0.2.20:5060', aor: 'sip:t@c', contactUser: 't', state: 'failed', failures: 2, registers: 4, intervalTooBrief: 3 }],
      registerRelay: { relayed: 0, accepted: 0, refusedNoRelay: 7, refusedFull: 0, routed: 0, refusedToken: 2, refusedSource: 1, refusedFlowFailed: 6, refusedNoBinding: 5, bindings: 0 },
      inDialogRefused: { 488: 4, 500: 1 },
      digestRefused: { realm: 2, challenge: 1, unsupported: 0 },
    },
    configReloads: { signal: { applied: 3, ERR_CONFIG_FILE_EMPTIED: 1 } },
  } as unknown as MetricsInput;
  const text = await m.render(input);
  assert.match(text, /^trunkgate_registration_interval_too_brief_total\{tenant="carrier",registrar="192\.0\.2\.20:5060"\} 3$/m);
  assert.match(text, /^trunkgate_register_relay_refused_total\{cause="no-relay"\} 7$/m);
  assert.match(text, /^trunkgate_register_relay_refused_total\{cause="token"\} 2$/m);
  assert.match(text, /^trunkgate_register_relay_refused_total\{cause="no-binding"\} 5$/m);
  assert.match(text, /^trunkgate_register_relay_refused_total\{cause="flow-failed"\} 6$/m);
  assert.match(text, /^trunkgate_digest_challenges_refused_total\{cause="realm"\} 2$/m);
  assert.match(text, /^trunkgate_digest_challenges_refused_total\{cause="challenge"\} 1$/m);
  assert.match(text, /^trunkgate_config_reloads_total\{trigger="signal",outcome="ERR_CONFIG_FILE_EMPTIED"\} 1$/m);
  assert.match(text, /^trunkgate_config_reloads_total\{trigger="signal",outcome="applied"\} 3$/m);
  assert.match(text, /^trunkgate_calls_in_dialog_refused_total\{status="488"\} 4$/m);
  assert.match(text, /^trunkgate_calls_in_dialog_refused_total\{status="500"\} 1$/m);
});

test('/metrics carries the rtpengine pool\'s orphaned sessions: noted, deleted, dropped, the deletes sent and those waiting', async () => {
  const m = new GatewayMetrics({ processMetrics: false });
  const b2bua = {
    attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0,
    media: {
      requests: { offer: 4, answer: 2, delete: 6, query: 0, ping: 9 }, failures: { timeout: 2, refused: 0, unavailable: 0 }, failovers: 2, strayReplies: 0,
      sessionsOpened: 2, sessionsOpen: 0, orphans: { noted: 5, deletesSent: 7, deleted: 3, dropped: 1, pending: 1 },
    },
  };
  const text = await m.render({ b2bua } as unknown as MetricsInput);
  assert.match(text, /^# TYPE trunkgate_media_orphans_total counter$/m);
  assert.match(text, /^trunkgate_media_orphans_total\{event="noted"\} 5$/m);
  assert.match(text, /^trunkgate_media_orphans_total\{event="deleted"\} 3$/m);
  assert.match(text, /^trunkgate_media_orphans_total\{event="dropped"\} 1$/m);
  assert.match(text, /^trunkgate_media_orphan_deletes_total 7$/m);
  assert.match(text, /^# TYPE trunkgate_media_orphans_pending gauge$/m);
  assert.match(text, /^trunkgate_media_orphans_pending 1$/m);
  // No media relay in use: no event rows, as for the other media counters (a metric without labels reads 0).
  const none = await m.render({ b2bua: { ...b2bua, media: undefined } } as unknown as MetricsInput);
  assert.doesNotMatch(none, /^trunkgate_media_orphans_total\{/m);
  assert.match(none, /^trunkgate_media_orphans_pending 0$/m);
});
