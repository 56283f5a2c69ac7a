// startExternalGateway (engine mode external) without drachtio-server: trunkgate's own engine, started alone, is the
// drachtio-compatible server at the other end of the control connection (as scripts/srf-suite/start-engine.ts runs
// it for drachtio-srf's suite). The server absent at start is waited for and said once; its loss is said once
// however long drachtio-srf retries; its return is said once; the engine's own services answer their code.
// test/anchor/external-engine.test.ts runs the same against drachtio-server itself, with calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEngine, type Engine } from '../../src/engine/engine.js';
import { startExternalGateway } from '../../src/gateway-external.js';
import { captureLog } from '../support/log-capture.js';
import { freePort } from '../support/ports.js';

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('engine mode external: waits for the server, says its loss and return once each, and refuses the engine services with their code', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const secret = 'external-test';
  const { log, records: lines } = captureLog();
  const coded = (code: string) => lines.filter((l) => l.code === code);
  const serve = (): Promise<Engine> => startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { host: '127.0.0.1', port, secret } });

  const starting = startExternalGateway({ listen: [], control: { host: '127.0.0.1', port, secret }, target: '127.0.0.1:5999', log, retryMs: 100 });
  await until('the unreachable line', () => coded('ERR_GATEWAY_ENGINE_UNREACHABLE').length > 0, 5000);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(coded('ERR_GATEWAY_ENGINE_UNREACHABLE').length, 1, 'the wait is said once, not once per probe');
  let engine = await serve();
  t.after(() => engine.close());
  const gw = await starting;
  t.after(() => gw.close());
  assert.deepEqual({ ...gw.engineStatus(), hostport: undefined }, { mode: 'external', control: `127.0.0.1:${port}`, connected: true, hostport: undefined, engineConnects: 1, engineLosses: 0 });
  assert.equal(coded('EVT_GATEWAY_ENGINE_CONNECTED').length, 1);
  assert.deepEqual(gw.addresses.sip, []);
  for (const call of [() => gw.engineSnapshot(), () => gw.closeConnection('c1'), () => gw.reloadTls([]), () => gw.reloadTrust({ tenants: [] })]) {
    await assert.rejects(call(), { code: 'ERR_ADMIN_ENGINE_EXTERNAL' });
  }

  await engine.close();
  await until('the lost line', () => coded('ERR_GATEWAY_ENGINE_LOST').length > 0, 5000);
  assert.equal(gw.engineStatus().connected, false);
  // drachtio-srf retries meanwhile; none of its attempts is another line.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(coded('ERR_GATEWAY_ENGINE_LOST').length, 1);

  engine = await serve();
  await until('the connected line again', () => coded('EVT_GATEWAY_ENGINE_CONNECTED').length === 2, 20_000);
  assert.equal(gw.engineStatus().connected, true);
  assert.deepEqual([gw.engineStatus().engineConnects, gw.engineStatus().engineLosses], [2, 1]);
  await gw.close();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(coded('ERR_GATEWAY_ENGINE_LOST').length, 1, 'closing the gateway is not a loss');
});
