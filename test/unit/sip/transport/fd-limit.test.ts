import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONNECTION_LIMITS } from '../../../../src/sip/transport/connection-gate.js';
import { fileReserve, fitConnectionLimits, readOpenFilesLimit } from '../../../../src/sip/transport/fd-limit.js';

test('the reserve is an eighth of the open-files limit, between 128 and 1,024', () => {
  assert.deepEqual([256, 1_024, 4_096, 20_000, 1_048_576].map(fileReserve), [128, 128, 512, 1_024, 1_024]);
});

test('inbound connections are lowered to fit the limit less the reserve; a limit with room leaves them as configured', () => {
  const at1024 = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 1_024);
  assert.equal(at1024.lowered, true);
  assert.equal(at1024.limits.maxConnections, 896);
  assert.equal(at1024.limits.maxHandshakes, 128, 'handshakes already fit');
  const at512 = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 512);
  assert.deepEqual([at512.limits.maxConnections, at512.limits.maxHandshakes], [384, 128]);
  assert.equal(at512.limits.maxConnectionsPerSource, 64, 'the per-source caps are not touched');
  const roomy = fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, 65_536);
  assert.deepEqual(roomy, { limits: DEFAULT_CONNECTION_LIMITS, lowered: false, usable: 64_512 });
  assert.deepEqual(fitConnectionLimits(DEFAULT_CONNECTION_LIMITS, undefined), { limits: DEFAULT_CONNECTION_LIMITS, lowered: false });
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
