import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { ManualClock } from '../../../../src/common/clock.js';
import { GatewayError } from '../../../../src/common/gateway-error.js';
import { silentLogger } from '../../../../src/log/logger.js';
import type { OutboundSocket, StreamTransportUser } from '../../../../src/sip/transport/stream-transport.js';
import { TlsFailures } from '../../../../src/sip/transport/tls-failures.js';
import { TlsTransport } from '../../../../src/sip/transport/tls-transport.js';
import type { SendTarget } from '../../../../src/sip/transport/types.js';
import { captureLog } from '../../../support/log-capture.js';

// A TLS peer that accepts the TCP connection and never answers the ClientHello: the attempt ends at the connect
// timeout as a failed handshake (classified, counted for the tenant as client, one log line), not as a connect timeout.

/** A TLS transport whose sockets are plain ones the test drives: 'connect' is TCP up, 'secureConnect' never comes. */
class StalledTls extends TlsTransport {
  readonly opened: Socket[] = [];
  protected override openSocket(_address: string, _port: number, target: SendTarget): OutboundSocket {
    const socket = new Socket();
    this.opened.push(socket);
    return { socket, readyEvent: 'secureConnect', servername: 'sbc.carrier.example', tlsProfile: 'edge', ...(target.tenant ? { tenant: target.tenant } : {}) };
  }
}

const user: StreamTransportUser = {
  onOpen: () => undefined, onClose: () => undefined, onFrame: () => undefined, onPing: () => undefined,
  onSendBufferFull: () => undefined, onFrameError: () => undefined, onHandshakeError: () => undefined,
};

function make() {
  const clock = new ManualClock(0);
  let n = 0;
  const t = new StalledTls({
    id: 'tls', host: '127.0.0.1', port: 0, user, clock, log: silentLogger(), connectTimeoutMs: 1_000,
    idleTimeoutMs: 60_000, unusedTimeoutMs: 60_000, keepAliveMs: 30_000, nextId: () => `tls-${++n}`,
    tls: {}, clientOptions: () => ({}),
  });
  return { clock, t };
}

const target: SendTarget = { protocol: 'tls', address: '192.0.2.9', port: 5061, tenant: 'carrier' };

test('a TLS connect whose TCP is up but whose handshake never finishes fails as a handshake that timed out', async () => {
  const { clock, t } = make();
  const p = t.connect(target, 'k');
  p.catch(() => undefined);
  t.opened[0]!.emit('connect');
  clock.advance(1_000);
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof GatewayError);
  assert.equal(err.code, 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE');
  assert.equal((err.cause as { code?: string }).code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
  assert.deepEqual([err.details?.['tenant'], err.details?.['tlsProfile'], err.details?.['servername']], ['carrier', 'edge', 'sbc.carrier.example']);
  await t.close();
});

test('a TLS connect whose TCP never comes up is still a connect timeout', async () => {
  const { clock, t } = make();
  const p = t.connect(target, 'k');
  p.catch(() => undefined);
  clock.advance(1_000);
  await assert.rejects(p, { code: 'ERR_SIP_TRANSPORT_CONNECT_TIMEOUT' });
  await t.close();
});

test('the stalled handshake is counted for its tenant as a client failure and logged once, rate-limited', async () => {
  const { clock, t } = make();
  const cap = captureLog('warn');
  const counted: string[] = [];
  const failures = new TlsFailures({ log: cap.log, clock, count: (c) => counted.push(c), emit: () => undefined });
  for (let i = 0; i < 3; i++) {
    const p = t.connect(target, `k${i}`);
    p.catch(() => undefined);
    t.opened[i]!.emit('connect');
    clock.advance(1_000);
    failures.connectFailed(await p.then(() => undefined, (e: unknown) => e));
  }
  assert.equal(failures.stats.failures('carrier', 'client', 'other'), 3);
  const lines = cap.records.filter((r) => r['event'] === 'TLS_HANDSHAKE_FAILED');
  assert.equal(lines.length, 1, 'one line for the same code and target');
  assert.match(String(lines[0]!['msg']), /direction=client.*tenant=carrier.*code=ERR_TLS_HANDSHAKE_TIMEOUT/);
  await t.close();
});
