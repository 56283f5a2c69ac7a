// Every answer of the admin API has its shape ({code, message}, a code of the closed list), those fastify's router
// and Node's HTTP parser give included, and the router takes every entry name the /config schemas allow: a TLS
// peer whose name is over fastify's default 100 characters can be read, replaced and deleted.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';

type Store = NonNullable<AdminServices['configStore']>;
const auth = { authorization: 'Bearer tok' };
const CODE = /^ERR_ADMIN_[A-Z_]+$/;

/** A store that holds one entry of any kind by any name, and says which names it was asked for. */
function echoStore(asked: string[]): Partial<Store> {
  const entry = (name: string) => ({ name, file: 'tls-peers.yaml', line: 1, etag: '"e"', value: {} });
  const write = (name: string) => ({ name, etag: '"f"', file: 'tls-peers.yaml', applied: true }) as never;
  return {
    get: ((_kind: string, name: string) => { asked.push(name); return entry(name); }) as never,
    replace: (async (_kind: string, name: string) => { asked.push(name); return write(name); }) as never,
    remove: (async (_kind: string, name: string) => { asked.push(name); return write(name); }) as never,
  };
}

test('a TLS peer named with 253 characters, as the schema allows, is read, replaced and deleted', async (t) => {
  const asked: string[] = [];
  const app = await buildAdmin({ ...minimalAdminServices(), configStore: echoStore(asked) as Store }, { token: 'tok', processMetrics: false });
  t.after(() => app.close());
  // The longest name the schema takes, once plain and once as two-unit characters (each one code point).
  for (const name of [`sip:${'a'.repeat(240)}.example`.slice(0, 253), '\u{1F4DE}'.repeat(253)]) {
    const url = `/config/tlsPeers/${encodeURIComponent(name)}`;
    const got = await app.inject({ method: 'GET', url, headers: auth });
    assert.equal(got.statusCode, 200, got.body);
    assert.equal((got.json() as { name: string }).name, name);
    const put = await app.inject({ method: 'PUT', url, headers: { ...auth, 'if-match': '"e"' }, payload: { value: {} } });
    assert.equal(put.statusCode, 200, put.body);
    const del = await app.inject({ method: 'DELETE', url, headers: { ...auth, 'if-match': '"f"' } });
    assert.equal(del.statusCode, 200, del.body);
  }
  assert.equal(asked.length, 6);
});

test('a name over the schema\'s 253 characters is refused 400 ERR_ADMIN_REQUEST by the schema, not by the router', async (t) => {
  const app = await buildAdmin({ ...minimalAdminServices(), configStore: echoStore([]) as Store }, { token: 'tok', processMetrics: false });
  t.after(() => app.close());
  const r = await app.inject({ method: 'GET', url: `/config/tlsPeers/${'a'.repeat(254)}`, headers: auth });
  assert.equal(r.statusCode, 400);
  assert.equal((r.json() as { code: string }).code, 'ERR_ADMIN_REQUEST');
  const unauthorized = await app.inject({ method: 'GET', url: `/config/tlsPeers/${'a'.repeat(254)}` });
  assert.equal(unauthorized.statusCode, 401, 'the token is asked before anything is said about the name');
});

test('the router\'s refusals and an unknown route answer in the API\'s shape with a code of the closed list', async (t) => {
  const app = await buildAdmin(minimalAdminServices(), { token: 'tok', processMetrics: false });
  t.after(() => app.close());
  const answers = {
    'segment over the router\'s limit': await app.inject({ method: 'GET', url: `/config/tlsPeers/${'a'.repeat(2_000)}`, headers: auth }),
    'URL that does not decode': await app.inject({ method: 'GET', url: '/config/tlsPeers/%E0%A4%A', headers: auth }),
    'unknown route': await app.inject({ method: 'GET', url: '/no/such/route', headers: auth }),
    'unknown method': await app.inject({ method: 'PATCH', url: '/stats', headers: auth }),
  };
  for (const [what, r] of Object.entries(answers)) {
    assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${what}: ${r.statusCode}`);
    const body = r.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message'], `${what}: ${r.body}`);
    assert.match(String(body.code), CODE, what);
  }
  assert.equal(answers['unknown route'].statusCode, 404);
  assert.equal(answers['segment over the router\'s limit'].statusCode, 414);
  assert.ok(answers['segment over the router\'s limit'].body.length < 200, 'the path is not echoed back');
  const stats = (await app.inject({ method: 'GET', url: '/stats', headers: auth })).json() as { adminRefused: Record<string, number> };
  assert.equal(stats.adminRefused['bad-request'], 2, 'the router\'s refusals are counted; an unknown route is not');
});

test('a request the HTTP parser cannot read is answered 400 in the API\'s shape', async (t) => {
  const app = await buildAdmin(minimalAdminServices(), { processMetrics: false });
  t.after(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const raw = await new Promise<string>((resolve, reject) => {
    let got = '';
    const s = connect(port, '127.0.0.1', () => s.write('NOT HTTP AT ALL\r\n\r\n'));
    s.on('data', (d) => { got += d.toString(); });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 400 /);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message']);
  assert.equal(body.code, 'ERR_ADMIN_REQUEST');
});
