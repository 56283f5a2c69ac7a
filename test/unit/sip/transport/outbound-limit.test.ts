import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { ManualClock } from '../../../../src/common/clock.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { OutboundLimit, type OutboundRefusal } from '../../../../src/sip/transport/outbound-limit.js';
import type { OutboundSocket, StreamTransportUser } from '../../../../src/sip/transport/stream-transport.js';
import { TcpTransport } from '../../../../src/sip/transport/tcp-transport.js';
import type { SendTarget } from '../../../../src/sip/transport/types.js';

/** A TCP transport whose sockets never connect (no kernel involved): each attempt waits for its timeout. */
class StalledTcp extends TcpTransport {
  failOpen = false;
  readonly opened: Socket[] = [];
  protected override openSocket(): OutboundSocket {
    if (this.failOpen) throw new Error('no socket');
    const socket = new Socket();
    this.opened.push(socket);
    return { socket, readyEvent: 'connect' };
  }
}

const user: StreamTransportUser = {
  onOpen: () => undefined, onClose: () => undefined, onFrame: () => undefined, onPing: () => undefined,
  onSendBufferFull: () => undefined, onFrameError: () => undefined, onHandshakeError: () => undefined,
};

function make(max: number) {
  const clock = new ManualClock(0);
  const refused: OutboundRefusal[] = [];
  const limit = new OutboundLimit(max, (r) => refused.push(r));
  let n = 0;
  const t = new StalledTcp({
    id: 'tcp', host: '127.0.0.1', port: 0, user, clock, log: silentLogger(), connectTimeoutMs: 1_000,
    idleTimeoutMs: 60_000, unusedTimeoutMs: 60_000, keepAliveMs: 30_000, nextId: () => `tcp-${++n}`, outbound: limit,
  });
  return { clock, limit, refused, t };
}

const target = (port: number): SendTarget => ({ protocol: 'tcp', address: '127.0.0.1', port });
const tick = () => new Promise((r) => setImmediate(r));

test('past the bound a connect rejects with ERR_SIP_TRANSPORT_OUTBOUND_LIMIT, reported once, and no socket is made', async () => {
  const { limit, refused, t } = make(2);
  const a = t.connect(target(5001), 'a');
  const b = t.connect(target(5002), 'b');
  a.catch(() => undefined);
  b.catch(() => undefined);
  assert.equal(limit.open, 2);
  await assert.rejects(t.connect(target(5003), 'c'), { code: 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT' });
  assert.deepEqual(refused, [{ address: '127.0.0.1', port: 5003, protocol: 'tcp' }]);
  assert.equal(t.opened.length, 2);
  await t.close();
  await tick();
  assert.equal(limit.open, 0, 'closing the transport gives back the slots of its attempts');
});

test('a connect that times out gives its slot back', async () => {
  const { clock, limit, t } = make(1);
  const a = t.connect(target(5001), 'a');
  await assert.rejects(t.connect(target(5002), 'b'), { code: 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT' });
  clock.advance(1_000);
  await assert.rejects(a, { code: 'ERR_SIP_TRANSPORT_CONNECT_TIMEOUT' });
  await tick();
  assert.equal(limit.open, 0);
  const c = t.connect(target(5002), 'b');
  c.catch(() => undefined);
  assert.equal(limit.open, 1, 'a new target takes the freed slot');
  await t.close();
});

test('a connect that fails before its socket exists gives its slot back', async () => {
  const { limit, t } = make(1);
  t.failOpen = true;
  await assert.rejects(t.connect(target(5001), 'a'), { code: 'ERR_SIP_TRANSPORT_TLS_CONFIG' });
  assert.equal(limit.open, 0);
  await t.close();
});
