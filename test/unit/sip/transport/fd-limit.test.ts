import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONNECTION_LIMITS } from '../../../../src/sip/transport/connection-gate.js';
import { fileReserve, fitConnectionLimits, readOpenFilesLimit } from '../../../../src/sip/transport/fd-limit.js';
import { DEFAULT_MAX_OUTBOUND_CONNECTIONS } from '../../../../src/sip/transport/outbound-limit.js';
import { TransportLayer } from '../../../../src/sip/transport/transport-layer.js';
import { captureLog } from '../../../support/log-capture.js';

test('the reserve is an eighth of the open-files limit, between 128 and 1,024', () => {
  assert.deepEqual([256, 1_024, 4_096, 20_000, 1_048_576].map(fileReserve), [128, 128, 512, 1_024, 1_024]);
});

test('inbound and outbound connections together fit the limit less the reserve; a limit with room leaves them as configured', () => {
  // 1,024: 896 usable; the outbound 1,024 gives way first, to a quarter (224), inbound gets the other 672.
  const at1024 = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 1_024, DEFAULT_MAX_OUTBOUND_CONNECTIONS);
  assert.equal(at1024.lowered, true);
  assert.deepEqual([at1024.usable, at1024.limits.maxConnections, at1024.maxOutbound], [896, 672, 224]);
  assert.equal(at1024.limits.maxHandshakes, 128, 'handshakes already fit');
  const at512 = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 512);
  assert.deepEqual([at512.limits.maxConnections, at512.maxOutbound, at512.limits.maxHandshakes], [288, 96, 128]);
  assert.equal(at512.limits.maxConnectionsPerSource, 64, 'the per-source caps are not touched');
  const roomy = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 65_536);
  assert.deepEqual(roomy, { limits: DEFAULT_CONNECTION_LIMITS, maxOutbound: 1_024, lowered: false, usable: 64_512 });
  assert.deepEqual(fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, undefined, 50),
    { limits: DEFAULT_CONNECTION_LIMITS, maxOutbound: 50, lowered: false });
});

test('an outbound limit within a quarter of the usable descriptors is kept and only inbound gives way', () => {
  const fit = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 1_024, 64);
  assert.deepEqual([fit.limits.maxConnections, fit.maxOutbound, fit.lowered], [832, 64, true]);
});

test('a small inbound limit leaves the outbound limit more than a quarter: only outbound is lowered, to what inbound leaves free', () => {
  const small = { ...DEFAULT_CONNECTION_LIMITS, maxConnections: 100, maxHandshakes: 16 };
  const fit = fitConnectionLimits(small, 1_024, 2_000);
  assert.deepEqual([fit.limits.maxConnections, fit.maxOutbound], [100, 796]);
  assert.equal(fit.limits, small, 'inbound kept as configured');
  const tiny = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 64);
  assert.deepEqual([tiny.usable, tiny.limits.maxConnections, tiny.maxOutbound], [1, 1, 1], 'each keeps one connection');
});

test('the transport layer logs one ERR_SIP_TRANSPORT_FD_RESERVE line naming both, and /stats shows the fitted outbound max', () => {
  const c = captureLog();
  const layer = new TransportLayer({ listeners: [], log: c.log, openFilesLimit: 1_024 });
  const warned = c.records.filter((r) => r.code === 'ERR_SIP_TRANSPORT_FD_RESERVE');
  assert.equal(warned.length, 1);
  assert.deepEqual([warned[0]!.configured, warned[0]!.maxConnections, warned[0]!.configuredOutbound, warned[0]!.maxOutboundConnections],
    [4_096, 672, 1_024, 224]);
  assert.match(String(warned[0]!.msg), /room for 672 inbound and 224 outbound connections, not the 4096 and 1024 configured/);
  assert.equal(layer.stats().outboundSocketsMax, 224);
  const roomy = captureLog();
  const layer2 = new TransportLayer({ listeners: [], log: roomy.log, openFilesLimit: 65_536, maxOutboundConnections: 2_000 });
  assert.equal(roomy.records.length, 0);
  assert.equal(layer2.stats().outboundSocketsMax, 2_000);
});

test('the soft open-files limit is read from /proc/self/limits; unlimited or unreadable gives none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fd-limit-'));
  const file = (soft: string) => {
    const p = join(dir, soft);
    writeFileSync(p, `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95691                95691                processes \nMax open files            ${soft}                 524288               files     \n`);
    return p;
  };
  assert.equal(readOpenFilesLimit(file('1024')), 1_024);
  assert.equal(readOpenFilesLimit(file('unlimited')), undefined);
  assert.equal(readOpenFilesLimit(join(dir, 'missing')), undefined);
  assert.ok((readOpenFilesLimit() ?? 0) > 0, 'this Linux process has a limit');
});
