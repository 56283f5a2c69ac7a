import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { ManualClock } from '../../../../src/common/clock.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { DEFAULT_MAX_OUTBOUND_CONNECTIONS_PER_ADDRESS, OutboundLimit, outboundLimit, type OutboundRefusal } from '../../../../src/sip/transport/outbound-limit.js';
import { RefusedInputLog } from '../../../../src/sip/transport/input-log.js';
import { captureLog } from '../../../support/log-capture.js';
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

function make(max: number, maxPerAddress?: number) {
  const clock = new ManualClock(0);
  const refused: OutboundRefusal[] = [];
  const limit = new OutboundLimit(max, (r) => refused.push(r), maxPerAddress);
  let n = 0;
  const t = new StalledTcp({
    id: 'tcp', host: '127.0.0.1', port: 0, user, clock, log: silentLogger(), connectTimeoutMs: 1_000,
    idleTimeoutMs: 60_000, unusedTimeoutMs: 60_000, keepAliveMs: 30_000, nextId: () => `tcp-${++n}`, outbound: limit,
  });
  return { clock, limit, refused, t };
}

const target = (port: number, address = '127.0.0.1'): SendTarget => ({ protocol: 'tcp', address, port });
const tick = () => new Promise((r) => setImmediate(r));

test('past the bound a connect rejects with ERR_SIP_TRANSPORT_OUTBOUND_LIMIT, reported once, and no socket is made', async () => {
  const { limit, refused, t } = make(2);
  const a = t.connect(target(5001), 'a');
  const b = t.connect(target(5002), 'b');
  a.catch(() => undefined);
  b.catch(() => undefined);
  assert.equal(limit.open, 2);
  await assert.rejects(t.connect(target(5003), 'c'), { code: 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT' });
  assert.deepEqual(refused, [{ address: '127.0.0.1', port: 5003, protocol: 'tcp', scope: 'total' }]);
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

test('one remote address holds at most maxPerAddress slots; another address still connects', async () => {
  const { limit, refused, t } = make(10, 2);
  for (const p of [t.connect(target(5001), 'a'), t.connect(target(5002), 'b')]) p.catch(() => undefined);
  assert.deepEqual([limit.open, limit.openTo('127.0.0.1')], [2, 2]);
  await assert.rejects(t.connect(target(5003), 'c'), (e: { code?: string; details?: { scope?: string } }) =>
    e.code === 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT' && e.details?.scope === 'address');
  assert.deepEqual(refused, [{ address: '127.0.0.1', port: 5003, protocol: 'tcp', scope: 'address' }]);
  assert.equal(t.opened.length, 2, 'no socket for the refused connect');
  const other = t.connect(target(5003, '127.0.0.2'), 'd');
  other.catch(() => undefined);
  assert.deepEqual([limit.open, limit.openTo('127.0.0.2'), limit.addresses], [3, 1, 2]);
  await t.close();
  await tick();
  assert.deepEqual([limit.open, limit.openTo('127.0.0.1'), limit.addresses], [0, 0, 0], 'every close gives back its address slot');
});

test('a closed socket frees its address slot: the address may connect again', async () => {
  const { clock, limit, t } = make(10, 1);
  const a = t.connect(target(5001), 'a');
  await assert.rejects(t.connect(target(5002), 'b'), { code: 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT' });
  clock.advance(1_000);
  await assert.rejects(a, { code: 'ERR_SIP_TRANSPORT_CONNECT_TIMEOUT' });
  await tick();
  assert.equal(limit.openTo('127.0.0.1'), 0);
  const b = t.connect(target(5002), 'b');
  b.catch(() => undefined);
  assert.equal(limit.openTo('127.0.0.1'), 1);
  t.failOpen = true;
  await assert.rejects(t.connect(target(5001, '127.0.0.3'), 'c'), { code: 'ERR_SIP_TRANSPORT_TLS_CONFIG' });
  assert.deepEqual([limit.open, limit.openTo('127.0.0.3')], [1, 0], 'a socket never made gives its address slot back');
  await t.close();
});

test('the total bound still wins when it is the full one, and the per-address bound never exceeds it', () => {
  const refused: OutboundRefusal[] = [];
  const limit = new OutboundLimit(2, (r) => refused.push(r), 5);
  assert.equal(limit.maxPerAddress, 2);
  assert.equal(new OutboundLimit(4_096, () => undefined).maxPerAddress, DEFAULT_MAX_OUTBOUND_CONNECTIONS_PER_ADDRESS);
  const r = (address: string) => ({ address, port: 5060, protocol: 'tcp' as const });
  assert.ok(limit.take(r('127.0.0.1')) && limit.take(r('127.0.0.2')));
  assert.equal(limit.take(r('127.0.0.3')), false);
  assert.equal(refused[0]!.scope, 'total');
});

test('each refusal by the address bound is counted under its own code and logged once a window', () => {
  const { log, records } = captureLog('warn');
  const clock = new ManualClock(0);
  const counted: string[] = [];
  const limit = outboundLimit(100, new RefusedInputLog(log, clock), (code) => counted.push(code), 3);
  const r = (port: number) => ({ address: '127.0.0.1', port, protocol: 'tcp' as const });
  for (let port = 1; port <= 10; port++) limit.take(r(port));
  assert.deepEqual([limit.open, limit.openTo('127.0.0.1')], [3, 3]);
  assert.deepEqual(counted, Array(7).fill('ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT'));
  assert.equal(records.filter((x) => x['code'] === 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT').length, 1, 'one line in the window');
  assert.ok(limit.take({ address: '127.0.0.2', port: 1, protocol: 'tcp' }), 'another address is unaffected');
  clock.advance(60_000);
  limit.take(r(11));
  assert.equal(records.filter((x) => x['code'] === 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT').length, 2, 'a line in the next window');
});
