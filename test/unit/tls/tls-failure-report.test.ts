import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/rate-limited-log.js';
import { reportTlsFailure } from '../../../src/sip/transport/tls-failure-report.js';
import { TlsStats } from '../../../src/tls/index.js';

type Line = { level: number; msg: string; code?: string; remote?: string; local?: string; listener?: string; tenant?: string; event?: string; suppressed?: number };
function capture() {
  const lines: Line[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line); cb(); } });
  return { log: pino({ level: 'info' }, dest), lines };
}

test('a TLS failure line names the remote address and port, the listener and its address, and the tenant', () => {
  const { log, lines } = capture();
  const stats = new TlsStats();
  const limiter = new RateLimitedLog(log, new ManualClock(0));
  reportTlsFailure(stats, limiter, 'server', { code: 'UNABLE_TO_GET_ISSUER_CERT' }, {
    listenerId: 'tls-edge', localAddress: '::1', localPort: 5061, remoteAddress: '::1', remotePort: 40001, tenant: 'acme',
  });
  reportTlsFailure(stats, limiter, 'server', { code: 'ERR_TLS_NO_CLIENT_CERT' }, {
    listenerId: 'tls-shared', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '127.0.0.2', remotePort: 40002,
  });
  assert.deepEqual(lines.map((l) => [l.code, l.remote, l.local, l.listener, l.tenant]), [
    ['UNABLE_TO_GET_ISSUER_CERT', '[::1]:40001', '[::1]:5061', 'tls-edge', 'acme'],
    ['ERR_TLS_NO_CLIENT_CERT', '127.0.0.2:40002', '127.0.0.1:5061', 'tls-shared', '-'],
  ]);
  assert.match(lines[0]!.msg, /remote_addr=::1, remote_port=40001, local_addr=::1, local_port=5061, tenant=acme/);
});

test('a handshake flood from one source writes one line per code and a summary, while every failure is counted', () => {
  const { log, lines } = capture();
  const clock = new ManualClock(0);
  const stats = new TlsStats();
  const limiter = new RateLimitedLog(log, clock, { summaries: true });
  for (let i = 0; i < 1_000; i++) {
    reportTlsFailure(stats, limiter, 'server', { code: 'ERR_SSL_NO_SHARED_CIPHER' }, {
      listenerId: 'tls', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '127.0.0.9', remotePort: 30_000 + i, tenant: 'acme',
    });
  }
  assert.equal(stats.failures('acme', 'server', 'no-shared-cipher'), 1_000, 'counters stay exact');
  assert.equal(lines.length, 1);
  clock.advance(60_000);
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.event, 'LOG_LINES_LEFT_OUT');
  assert.equal(lines[1]!.suppressed, 999);
  assert.equal(lines[1]!.code, 'ERR_SSL_NO_SHARED_CIPHER');
});
