// The one-at-a-time bounds of the PKI tasks that write and of POST /tls/probe: a request meanwhile is answered 429
// with its own code and Retry-After, counted in /stats adminRefused and trunkgate_admin_refused_total{cause}, and
// logged once a minute per code and source; a PKI read is not held up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';
import { captureLog } from '../../support/log-capture.js';
import { parsePromText } from '../../support/prom-text.js';

/** A promise and the function that settles it: a service call held until the test lets it go. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((res) => { open = res; });
  return { wait, open };
}

async function counted(app: Awaited<ReturnType<typeof buildAdmin>>, cause: string): Promise<[number | undefined, number | undefined]> {
  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json() as { adminRefused: Record<string, number> };
  const prom = parsePromText((await app.inject({ method: 'GET', url: '/metrics' })).body);
  return [stats.adminRefused[cause], prom.value('trunkgate_admin_refused_total', { cause })];
}

test('a PKI task that writes while another runs gets 429 ERR_ADMIN_PKI_BUSY, counted as pki-busy and logged once; a read is served', async (t) => {
  const held = gate();
  let entered!: () => void;
  const inCsr = new Promise<void>((res) => { entered = res; });
  const pki = {
    csr: async (req: { trustpoint: string }) => {
      entered();
      await held.wait;
      return { trustpoint: req.trustpoint, csrPem: 'CSR', pendingKeyPath: undefined };
    },
    trustAdd: () => ({ store: 'remote', subject: 'CN=x', sha256: 'AA' }),
    inspect: () => [],
  } as unknown as AdminServices['pki'];
  const { log, records } = captureLog();
  const app = await buildAdmin({ ...minimalAdminServices(), pki }, { log, processMetrics: false });
  t.after(async () => {
    held.open();
    await app.close();
  });
  const csr = app.inject({ method: 'POST', url: '/pki/csr', payload: { trustpoint: 'gw', subject: 'CN=gw' } });
  await inCsr;
  const trust = () => app.inject({ method: 'POST', url: '/pki/trust', payload: { store: 'remote', certificate: 'PEM' } });
  const busy = await Promise.all([trust(), trust(), trust()]);
  assert.deepEqual(busy.map((r) => r.statusCode), [429, 429, 429]);
  assert.equal(busy[0]!.headers['retry-after'], '1');
  assert.equal((busy[0]!.json() as { code: string }).code, 'ERR_ADMIN_PKI_BUSY');
  assert.match((busy[0]!.json() as { message: string }).message, /certificate task \(csr\) is running/);
  assert.notEqual((await app.inject({ method: 'POST', url: '/pki/inspect', payload: { pem: 'PEM' } })).statusCode, 429, 'a read is not held up');
  held.open();
  assert.equal((await csr).statusCode, 200);
  assert.equal((await trust()).statusCode, 200, 'served once the task is done');
  assert.deepEqual(await counted(app, 'pki-busy'), [3, 3]);
  const lines = records.filter((l) => l.code === 'ERR_ADMIN_PKI_BUSY');
  assert.equal(lines.length, 1, 'one line a minute per code and source');
  assert.equal(lines[0]!.source, '127.0.0.1');
  assert.equal(lines[0]!.task, 'trust add');
});

test('POST /tls/probe while a probe runs gets 429 ERR_ADMIN_TLS_PROBE_BUSY, counted as tls-probe-busy and logged once', async (t) => {
  const held = gate();
  let entered!: () => void;
  const inProbe = new Promise<void>((res) => { entered = res; });
  const probeTls = async () => {
    entered();
    await held.wait;
    return { host: '192.0.2.1' };
  };
  const { log, records } = captureLog();
  const services = { ...minimalAdminServices(), probeTls } as unknown as AdminServices;
  const app = await buildAdmin(services, { log, processMetrics: false });
  t.after(async () => {
    held.open();
    await app.close();
  });
  const probe = () => app.inject({ method: 'POST', url: '/tls/probe', payload: { host: '192.0.2.1', port: 5061 } });
  const first = probe();
  await inProbe;
  const busy = await Promise.all([probe(), probe()]);
  assert.deepEqual(busy.map((r) => r.statusCode), [429, 429]);
  assert.equal(busy[0]!.headers['retry-after'], '5');
  assert.equal((busy[0]!.json() as { code: string }).code, 'ERR_ADMIN_TLS_PROBE_BUSY');
  held.open();
  assert.equal((await first).statusCode, 200);
  assert.deepEqual(await counted(app, 'tls-probe-busy'), [2, 2]);
  assert.equal(records.filter((l) => l.code === 'ERR_ADMIN_TLS_PROBE_BUSY').length, 1, 'one line a minute per code and source');
});
