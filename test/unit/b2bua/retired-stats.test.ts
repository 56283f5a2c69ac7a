import assert from 'node:assert/strict';
import test from 'node:test';
import type { B2buaStatsSnapshot } from '../../../src/b2bua/start-b2bua.js';
import { retiredStats, sumStats } from '../../../src/b2bua/workers/sum-stats.js';

const app = (open: number, pending: number): B2buaStatsSnapshot => ({
  attempted: 4, connected: 3, completed: 2, failed: {}, failedTotal: 1, active: open, legsUp: 2 * open,
  media: {
    requests: { offer: 6, answer: 6, delete: 4, query: 0, ping: 9 }, failures: { timeout: 1, refused: 0, unavailable: 0 },
    failovers: 1, strayReplies: 0, sessionsOpened: 6, sessionsOpen: open,
    orphans: { noted: 2, deletesSent: 2, deleted: 1, dropped: 0, pending },
  },
} as unknown as B2buaStatsSnapshot);

test('a stopped app reports no media sessions open and no deletes pending; its totals stay', () => {
  const sum = sumStats(app(2, 1), [retiredStats(app(3, 1))]);
  assert.equal(sum.media?.sessionsOpen, 2, 'only the live app holds sessions');
  assert.equal(sum.media?.orphans?.pending, 1, 'only the live app has deletes to send');
  assert.equal(sum.media?.sessionsOpened, 12, 'what both opened is still counted');
  assert.equal(sum.media?.orphans?.noted, 4);
  assert.equal(sum.media?.requests.offer, 12);
  assert.equal(sum.active, 2);
});

test('a stopped app that never anchored media has no media counters added', () => {
  const { media: _none, ...plain } = app(0, 0);
  const retired = retiredStats(plain as B2buaStatsSnapshot);
  assert.equal('media' in retired, false);
});

test('a stopped app keeps no relayed registration flows: bindings are a level, the relayed counts stay totals', () => {
  const relay = (bindings: number): B2buaStatsSnapshot => ({
    ...app(0, 0),
    registerRelay: {
      relayed: 5, accepted: 4, refusedNoRelay: 0, refusedFull: 0, routed: 2, refusedToken: 0, refusedSource: 0,
      refusedFlowFailed: 0, refusedNoBinding: 0, notSent: 0, bindings,
    },
  } as unknown as B2buaStatsSnapshot);
  let retired = retiredStats(relay(4));
  assert.equal(sumStats(relay(3), [retired, relay(0)]).registerRelay?.bindings, 3, 'only the live apps\' flows');
  retired = sumStats(retired, [retiredStats(relay(4))]);
  const sum = sumStats(relay(3), [retired, relay(0)]);
  assert.equal(sum.registerRelay?.bindings, 3, 'after a second stop as well');
  assert.equal(sum.registerRelay?.relayed, 20, 'what every app relayed is still counted');
});
