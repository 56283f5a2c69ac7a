// The real gateway (engine in its worker thread, b2bua in this one) with TLS profiles: a mutual-TLS A leg is
// answered by the B leg's UAS, a client without a certificate is refused, and the profiles are reloaded in the
// worker: a new certificate reaches new handshakes while a live connection goes on, a bad one is refused and
// the running one keeps serving. And the file watch that triggers such a reload on disk changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { startGateway } from '../../src/gateway.js';
import { watchTlsFiles } from '../../src/startup-tls.js';
import type { ProfileInput } from '../../src/tls/index.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { answer, header, sdp, ua } from '../support/mini-ua.js';
import { pingVerdict, profile, tryTls, until } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'gateway profiles CA' });
process.on('exit', () => void ca.cleanup());
const gw1 = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
const gw2 = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'DNS:renewed.gw.test'] });
const expired = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'], validity: 'expired' });
const pbx = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test'] });

const edge = (cert: { key: string; cert: string }): ProfileInput =>
  profile({ name: 'edge', requireClientCertificate: true, cnSanValidate: 'client', cnSan: ['pbx.test'] }, ca, cert as never);

function readSip(s: TLSSocket): (re: RegExp) => Promise<string> {
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (buf += d));
  return async (re) => {
    await until(() => re.test(buf), 5000);
    const m = re.exec(buf);
    assert.ok(m, `no message matching ${re} in ${buf.slice(0, 400)}`);
    return m[0];
  };
}

test('gateway with a TLS profile (engine worker): a mutual-TLS call completes, a client without a certificate is refused, a reload reaches new handshakes and spares live ones, a bad certificate is refused', async (t) => {
  const uas = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
  });
  const gw = await startGateway({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'edge', tenant: 'pbx' }],
    tls: { profiles: [edge(gw1)] },
    control: { host: '127.0.0.1', port: 0, secret: 'gw-profiles-secret' },
    target: `127.0.0.1:${uas.port}`,
    logLevel: 'silent',
  });
  t.after(() => gw.close());
  const port = gw.addresses.sip.find((l) => l.protocol === 'tls')!.port;
  const client = { port, servername: 'gw.test', ca: ca.cert, key: pbx.key, cert: pbx.cert };

  // A call over the profile's listener.
  const live: TLSSocket = tls.connect({ host: '127.0.0.1', ...client });
  t.after(() => live.destroy());
  await once(live, 'secureConnect');
  assert.equal(live.getPeerCertificate().subjectaltname, 'DNS:gw.test');
  const next = readSip(live);
  const local = `127.0.0.1:${live.localPort}`;
  live.write([`INVITE sips:2000@gw.test SIP/2.0`, `Via: SIP/2.0/TLS ${local};branch=z9hG4bKprof1;rport`, 'Max-Forwards: 70',
    `From: <sips:1000@pbx.test>;tag=p1`, `To: <sips:2000@gw.test>`, `Call-ID: gw-profiles-${process.pid}`, 'CSeq: 1 INVITE',
    `Contact: <sips:1000@${local};transport=tls>`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'));
  const ok = await next(/SIP\/2\.0 200 [^]*?\r\n\r\n/);
  assert.match(header(ok, 'CSeq'), /1 INVITE/);
  const toUas = await uas.next(/^INVITE /);
  assert.doesNotMatch(toUas, /x-trunkgate-/i, 'no internal header reaches the B leg');

  // No client certificate: refused (the connection closes without answering a keepalive ping).
  assert.equal((await pingVerdict(port, { servername: 'gw.test', ca: ca.cert })).verdict, 'refused');

  // Reload with a renewed certificate: new handshakes get it, the live connection goes on.
  const r = await gw.reloadTls([edge(gw2)]);
  assert.equal(r.ok, true, JSON.stringify(r));
  const fresh = await tryTls(client);
  fresh.socket?.destroy();
  assert.equal(fresh.peerSan, 'DNS:gw.test, DNS:renewed.gw.test', 'a new handshake shows the new certificate');
  assert.equal(live.destroyed, false, 'the live connection was not touched');

  // A bad certificate (expired) is refused before the swap; the renewed one keeps serving.
  const bad = await gw.reloadTls([edge(expired)]);
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.problems.some((p) => p.profile === 'edge' && /expired|not valid|validity/i.test(`${p.code} ${p.reason}`)), JSON.stringify(bad));
  const after = await tryTls(client);
  after.socket?.destroy();
  assert.equal(after.peerSan, 'DNS:gw.test, DNS:renewed.gw.test');

  // A key that does not match its certificate is refused too.
  const mismatch = await gw.reloadTls([edge({ key: gw1.key, cert: gw2.cert })]);
  assert.ok(!mismatch.ok && mismatch.problems.some((p) => p.code === 'ERR_PKI_KEY_MISMATCH'), JSON.stringify(mismatch));
});

test('the TLS file watch calls once per burst of changes to a watched file or trustpoint folder, and not for others', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-watch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const tp = join(root, 'tp');
  const store = join(root, 'store');
  mkdirSync(tp);
  mkdirSync(store);
  const caFile = join(store, 'ca.pem');
  writeFileSync(caFile, 'a');
  let calls = 0;
  const w = watchTlsFiles({ dirs: [tp], files: [caFile] }, () => calls++, { debounceMs: 200 });
  t.after(() => w.close());
  writeFileSync(join(tp, 'cert.pem'), 'x');
  writeFileSync(join(tp, 'key.pem'), 'y');
  await until(() => calls >= 1, 3000);
  assert.equal(calls, 1, 'one reload for a burst in a trustpoint folder');
  // From here the watch's debounce runs on mocked timers, and a watch of our own on the same folder says when the
  // change has been delivered: libuv hands one inotify event to every watcher of a folder in the same turn, so once
  // ours has it (and an immediate has run), the product's has it too, and advancing the clock fires any reload.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const seen: string[] = [];
  const probe = watch(store, { persistent: false }, (_e, name) => seen.push(String(name)));
  t.after(() => probe.close());
  const delivered = async (name: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!seen.includes(name)) {
      assert.ok(Date.now() < deadline, `no change event for ${name}`);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(1000);
  };
  writeFileSync(join(store, 'unrelated.pem'), 'z');
  await delivered('unrelated.pem');
  assert.equal(calls, 1, 'a file next to the trust store that is not in it changes nothing');
  writeFileSync(caFile, 'b');
  await delivered('ca.pem');
  assert.equal(calls, 2, 'the trust store file changed');
});
