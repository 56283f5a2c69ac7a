/**
 * Errors on the control port that its peers can cause: a control connection's socket failing and the control
 * listener's own errors are counted by the registry and logged at most once a minute per code, not at debug only
 * (connections) or once per error (the listener).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';
import { AppConnection, AppRegistry, ControlServer, type ControlSocket, type EngineCore } from '../../../src/engine/index.js';
import { captureLog } from '../../support/log-capture.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  write(): boolean {
    return true;
  }
  end(): this {
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

const core = {
  onAppSip: () => undefined, onAppProxy: () => undefined, onAppDisconnected: () => undefined,
  hostports: () => ({ hostports: [], localHostports: [] }),
} as unknown as EngineCore;

test('control connections whose sockets fail: each counted, one warn line a minute with the code', () => {
  const cap = captureLog('info');
  const registry = new AppRegistry({ log: cap.log });
  for (let i = 0; i < 20; i++) {
    const socket = new FakeSocket();
    socket.remotePort = 40000 + i;
    new AppConnection({ socket: socket as unknown as ControlSocket, connId: `app-${i}`, secret: 's', registry, core, log: cap.log, version: 'v0', authTimeoutMs: 0 });
    socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  }
  assert.equal(registry.counters()['controlErrors'], 20);
  const lines = cap.records.filter((r) => r['code'] === 'ERR_ENGINE_CONTROL_SOCKET');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['level'], 40);
  assert.equal(lines[0]!['reason'], 'ECONNRESET');
});

/** Every server net.createServer makes from now on, until the test ends. */
function servers(t: TestContext): net.Server[] {
  const out: net.Server[] = [];
  const orig = net.createServer;
  (net as { createServer: typeof net.createServer }).createServer = ((...a: Parameters<typeof net.createServer>) => {
    const s = orig(...a);
    out.push(s);
    return s;
  }) as typeof net.createServer;
  syncBuiltinESMExports();
  t.after(() => {
    (net as { createServer: typeof net.createServer }).createServer = orig;
    syncBuiltinESMExports();
  });
  return out;
}

test('errors of the bound control listener are counted by the registry, one warn line a minute', async (t) => {
  const made = servers(t);
  const cap = captureLog('info');
  const server = new ControlServer({ core, secret: 's', host: '127.0.0.1', port: 0, log: cap.log });
  t.after(() => server.close());
  await server.listen();
  assert.equal(made.length, 1);
  for (let i = 0; i < 30; i++) made[0]!.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
  assert.equal(server.registry.counters()['controlListenerErrors'], 30);
  const lines = cap.records.filter((r) => r['code'] === 'ERR_ENGINE_CONTROL_LISTENER');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['level'], 40);
  assert.equal(cap.records.filter((r) => r['code'] === 'ERR_ENGINE_LISTEN').length, 0);
});
