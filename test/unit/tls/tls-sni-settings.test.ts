import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { EngineTls } from '../../../src/engine/engine-tls.js';
import { describeSniWidening, sniWidenings, buildTlsProfile, type TlsProfileMaterial } from '../../../src/tls/index.js';
import { createLogger } from '../../../src/log/index.js';
import { createTestCa, requireOpenssl, type TestCa } from '../../support/test-certs.js';

// The key-exchange groups and the cipher-order preference of a connection come from the listener's default context:
// a profile picked by SNI that sets others is warned about (ERR_TLS_SNI_WIDENS), as one that would widen versions is.
let ca: TestCa;
let good: TlsProfileMaterial;

before(async () => {
  await requireOpenssl();
  ca = await createTestCa({ keyType: 'ec' });
  const leaf = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
  good = { trustpoint: { keyPem: leaf.key, certPem: leaf.cert, chainPems: [ca.cert] }, trustedCaPems: [ca.cert] };
});
after(() => ca?.cleanup());

test('a picked profile whose ecdhCurve or honorCipherOrder differs from the default is named, with the value in force', () => {
  const def = buildTlsProfile({ name: 'def' }, good);
  const curve = buildTlsProfile({ name: 'curve', serverNames: ['a.test'], ecdhCurve: 'P-384' }, good);
  const order = buildTlsProfile({ name: 'order', serverNames: ['b.test'], honorCipherOrder: false }, good);
  const same = buildTlsProfile({ name: 'same', serverNames: ['c.test'], ecdhCurve: 'auto', honorCipherOrder: true }, good);
  const ws = sniWidenings(def, [def, curve, order, same]);
  assert.deepEqual(ws, [
    { profile: 'curve', defaultProfile: 'def', ignored: ['ecdhCurve P-384 (the listener uses auto)'] },
    { profile: 'order', defaultProfile: 'def', ignored: ['honorCipherOrder false (the listener uses true)'] },
  ]);
  const text = describeSniWidening('tls-1', ws[0]!);
  assert.match(text, /profile curve .*ecdhCurve P-384 .*default profile def/);
  assert.doesNotMatch(text, /allows/, 'nothing wider is claimed');
});

test('a curve set on the default alone is named for each picked profile that does not share it', () => {
  const def = buildTlsProfile({ name: 'def', ecdhCurve: 'X25519:P-256' }, good);
  const plain = buildTlsProfile({ name: 'plain', serverNames: ['a.test'] }, good);
  const sameCurve = buildTlsProfile({ name: 'same', serverNames: ['b.test'], ecdhCurve: 'X25519:P-256' }, good);
  assert.deepEqual(sniWidenings(def, [plain, sameCurve]).map((w) => [w.profile, w.ignored]), [['plain', ['ecdhCurve auto (the listener uses X25519:P-256)']]]);
});

test('a shared listener warns ERR_TLS_SNI_WIDENS at start for such a profile; a tenant\'s own listener does not', () => {
  const lines: { code?: string; profile?: string; msg: string }[] = [];
  const log = createLogger({ level: 'warn', destination: { write: (s: string | Uint8Array) => { lines.push(JSON.parse(String(s)) as never); return true; } } as never });
  const material = { trustpoint: good.trustpoint, trustedCaPems: good.trustedCaPems };
  const et = new EngineTls({ profiles: [
    { spec: { name: 'def' }, material },
    { spec: { name: 'pa', serverNames: ['a.test'], ecdhCurve: 'P-384' }, material },
  ] }, log);
  et.listener({ id: 'shared', tlsProfile: 'def', sniProfiles: ['def', 'pa'] });
  et.listener({ id: 'own', tlsProfile: 'pa', sniProfiles: ['pa'] });
  const warned = lines.filter((l) => l.code === 'ERR_TLS_SNI_WIDENS');
  assert.deepEqual(warned.map((l) => l.profile), ['pa']);
  assert.match(warned[0]!.msg, /ecdhCurve P-384/);
});
