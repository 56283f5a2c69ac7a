// A burst of failed TLS handshakes from one address against an engine listener: each one is counted, but the log gets
// one line per code and per source, naming remote address and port, listener and tenant, and at the end of the window
// one summary of what was left out. The engine's clock is a manual one, so the window ends when the test says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { pino } from 'pino';
import { ManualClock } from '../../src/common/index.js';
import { startEngine } from '../../src/engine/index.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { pingVerdict, profile, until } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'tls log flood CA' });
process.on('exit', () => void ca.cleanup());
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });

type Line = { level: number; msg: string; event?: string; code?: string; remote?: string; local?: string; listener?: string; tenant?: string; suppressed?: number };

test('200 refused handshakes from one source: 200 counted, one line with remote address and port, one summary of 199 left out', { timeout: 60_000 }, async (t) => {
  const lines: Line[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line); cb(); } });
  const clock = new ManualClock(Date.now());
  const e = await startEngine({
    listen: [{ transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'edge', tenant: 'acme' }],
    control: { host: '127.0.0.1', port: 0, secret: 's' },
    tls: { profiles: [profile({ name: 'edge', minVersion: 'TLSv1.3' }, ca, gw)] },
    clock, log: pino({ level: 'info' }, sink),
  });
  t.after(() => e.close());
  const port = e.addresses()!.sip.find((l) => l.protocol === 'tls')!.port;
  const stats = e.transport.tlsStats();
  const ports: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'gw.test', ca: ca.cert, maxVersion: 'TLSv1.2' });
    s.on('connect', () => ports.push(s.localPort!));
    s.on('error', () => undefined);
    await new Promise((r) => s.once('close', r));
  }
  await until(() => stats.failures('acme', 'server', 'protocol-version') === 200, 10_000);
  assert.equal(stats.failures('acme', 'server', 'protocol-version'), 200, 'every refusal counted');
  // A client the profile accepts still gets through during the flood.
  assert.equal((await pingVerdict(port, { servername: 'gw.test', ca: ca.cert })).verdict, 'accepted');

  const failed = lines.filter((l) => l.event === 'TLS_HANDSHAKE_FAILED');
  assert.equal(failed.length, 1, JSON.stringify(failed.slice(0, 3)));
  assert.equal(failed[0]!.remote, `127.0.0.1:${ports[0]}`);
  assert.match(failed[0]!.local!, new RegExp(`^127\\.0\\.0\\.1:${port}$`));
  assert.equal(failed[0]!.tenant, 'acme');
  assert.ok(failed[0]!.listener, 'the listener is named');
  assert.equal(lines.filter((l) => l.event === 'LOG_LINES_LEFT_OUT').length, 0, 'no summary before the window ends');

  clock.advance(60_000);
  const summary = lines.filter((l) => l.event === 'LOG_LINES_LEFT_OUT');
  assert.equal(summary.length, 1);
  assert.equal(summary[0]!.code, failed[0]!.code);
  assert.equal(summary[0]!.suppressed, 199);
});
