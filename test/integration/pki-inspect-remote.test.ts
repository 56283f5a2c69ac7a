// `trunkgate pki inspect HOST:PORT`: the certificates a TLS server sends, read from one handshake (the CUBE
// administrator's `show crypto pki certificates` of a far end, without openssl).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { pkiCommandLine } from '../../src/cli/pki.js';
import { parseHostPort } from '../../src/cli/pki-remote.js';
import { createTestCa } from '../support/test-certs.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await pkiCommandLine(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('HOST:PORT is told from a file name: IPv4, IPv6 in brackets and names; ports 1-65535 only', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:5061'), { host: '127.0.0.1', port: 5061 });
  assert.deepEqual(parseHostPort('[::1]:5061'), { host: '::1', port: 5061 });
  assert.deepEqual(parseHostPort('sbc.carrier.example:5061'), { host: 'sbc.carrier.example', port: 5061 });
  for (const no of ['cert.pem', 'pki/ca/ca.crt', 'host:0', 'host:70000', 'a b:5061', '::1:5061', 'C:\\\\x:1', ':5061']) {
    assert.equal(parseHostPort(no), undefined, no);
  }
});

test('pki inspect HOST:PORT shows the chain a TLS server sends, with SNI; an unreachable one exits 1 naming why', async (t) => {
  const root = await createTestCa({ cn: 'Carrier Root' });
  t.after(() => root.cleanup());
  const leaf = await root.issue({ cn: 'sbc.carrier.example', sans: ['DNS:sbc.carrier.example'] });
  const names: string[] = [];
  const server = tls.createServer({
    key: leaf.key, cert: leaf.cert + root.cert,
    SNICallback: (name, cb) => {
      names.push(name);
      cb(null, undefined);
    },
  }, (s) => s.end());
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const text = await run(['inspect', `127.0.0.1:${port}`, '--sni', 'sbc.carrier.example']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /127\.0\.0\.1:\d+ \(leaf\): .*CN=sbc\.carrier\.example/);
  assert.match(text.out, /SAN dns:sbc\.carrier\.example/);
  assert.match(text.out, /\(chain\): .*CN=Carrier Root/);
  assert.deepEqual(names, ['sbc.carrier.example'], 'the SNI asked for was sent');

  const json = await run(['inspect', `127.0.0.1:${port}`, '--json']);
  assert.equal(json.code, 0, json.err);
  const rows = JSON.parse(json.out) as { role: string; subject: string; daysLeft: number }[];
  assert.deepEqual(rows.map((r) => r.role), ['leaf', 'chain']);
  assert.ok(rows[0]!.daysLeft >= 28 && rows[0]!.daysLeft <= 30, String(rows[0]!.daysLeft));

  server.close();
  await once(server, 'close');
  const notPem = await run(['inspect', 'package.json']);
  assert.equal(notPem.code, 1);
  assert.match(notPem.err, /package\.json: no PEM certificate in it/);
  const down = await run(['inspect', `127.0.0.1:${port}`]);
  assert.equal(down.code, 1);
  assert.match(down.err, /trunkgate pki inspect: 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
});
