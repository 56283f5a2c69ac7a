/**
 * An error a bound listening socket reports (an accept that fails, as when the process is out of file descriptors,
 * can fire once per connection attempt) is counted under ERR_SIP_TRANSPORT_LISTENER in stats().drops and logged at
 * most once a minute. The servers and sockets are caught as they are made, to raise the error on them.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import { TransportLayer, type ListenerSpec } from '../../src/sip/transport/transport-layer.js';
import { captureLog } from '../support/log-capture.js';

/** Every object `mod[name]` makes from now on, until the test ends. */
function made<M extends object>(t: TestContext, mod: M, name: keyof M & string): Array<{ emit(event: string, ...args: unknown[]): boolean }> {
  const out: Array<{ emit(event: string, ...args: unknown[]): boolean }> = [];
  const m = mod as unknown as Record<string, (...a: unknown[]) => never>;
  const orig = m[name]!;
  m[name] = (...a: unknown[]) => {
    const o = orig.apply(mod, a);
    out.push(o);
    return o;
  };
  syncBuiltinESMExports();
  t.after(() => {
    m[name] = orig;
    syncBuiltinESMExports();
  });
  return out;
}

const emfile = (): NodeJS.ErrnoException => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });

async function layerWith(t: TestContext, spec: ListenerSpec) {
  const cap = captureLog('info');
  const layer = new TransportLayer({ listeners: [spec], log: cap.log });
  t.after(() => layer.close());
  await layer.start();
  return { layer, cap };
}

test('TCP: errors of the listening socket are counted in drops, one warn line a minute', async (t) => {
  const servers = made(t, net, 'createServer');
  const { layer, cap } = await layerWith(t, { id: 'tcp-a', protocol: 'tcp', host: '127.0.0.1', port: 0 });
  assert.equal(servers.length, 1);
  for (let i = 0; i < 30; i++) servers[0]!.emit('error', emfile());
  assert.equal(layer.stats().drops['ERR_SIP_TRANSPORT_LISTENER'], 30);
  const lines = cap.records.filter((r) => r['code'] === 'ERR_SIP_TRANSPORT_LISTENER');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['level'], 40);
  assert.match(String(lines[0]!['reason']), /tcp-a: EMFILE/);
});

test('UDP: errors of the bound socket are counted under their own code, not as send failures', async (t) => {
  const sockets = made(t, dgram, 'createSocket');
  const { layer, cap } = await layerWith(t, { id: 'udp-a', protocol: 'udp', host: '127.0.0.1', port: 0 });
  assert.equal(sockets.length, 1);
  for (let i = 0; i < 30; i++) sockets[0]!.emit('error', Object.assign(new Error('recvmsg ENOMEM'), { code: 'ENOMEM' }));
  assert.equal(layer.stats().drops['ERR_SIP_TRANSPORT_LISTENER'], 30);
  assert.equal(layer.stats().sendFailures, 0);
  assert.equal(cap.records.filter((r) => r['code'] === 'ERR_SIP_TRANSPORT_LISTENER').length, 1);
  assert.equal(cap.records.filter((r) => r['code'] === 'ERR_SIP_TRANSPORT_SEND').length, 0);
});
