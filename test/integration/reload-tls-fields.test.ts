// A configuration reload of each TLS profile field, one at a time, on the gateway built as `npm start` builds it
// (planStartup, the engine in its worker thread, the reloader): the reload answers applied with nothing needing a
// restart, and right after it a client (or, for outbound fields, a far end) that is valid under the new profile
// gets through while one that is not is refused — over real TLS sockets. Then the baseline goes back and its own
// client gets through again, and a connection opened before the first reload is still served at the end.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import { randomSecret, startGateway, type Gateway } from '../../src/gateway.js';
import { GatewayReloader, type ConfigReloadReport } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';
import { generateKeyPair, issueCertificate } from '../../src/pki/index.js';
import { planStartup } from '../../src/startup.js';
import { revokeWithOpenssl } from '../interop/openssl/outbound-support.js';
import { sdp, ua, type Ua } from '../support/mini-ua.js';
import { createTestCa, requireOpenssl, type TestCa, type TestCert } from '../support/test-certs.js';
import { pingVerdict, type Verdict } from './engine-tls-support.js';

await requireOpenssl();
const caA = await createTestCa({ cn: 'reload fields CA A' });
const caB = await createTestCa({ cn: 'reload fields CA B' });
process.on('exit', () => {
  void caA.cleanup();
  void caB.cleanup();
});

const certs = {
  gwA: await caA.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] }),
  gwB: await caB.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'DNS:alt2.test'] }),
  clB: await caB.issue({ cn: 'cl-b.test', sans: ['DNS:cl-b.test'] }),
  pbxA: await caA.issue({ cn: 'sip.carrier.test', sans: ['DNS:sip.carrier.test'] }),
  strangerA: await caA.issue({ cn: 'stranger.test', sans: ['DNS:stranger.test'] }),
  pbxB: await caB.issue({ cn: 'sip.carrier.test', sans: ['DNS:sip.carrier.test'] }),
  farA: await caA.issue({ cn: 'far-a.test', sans: ['IP:127.0.0.1'] }),
  farB: await caB.issue({ cn: 'far-b.test', sans: ['IP:127.0.0.1'] }),
  farNamed: await caA.issue({ cn: 'far.carrier.test', sans: ['DNS:far.carrier.test'] }),
  farSip: await caA.issue({ cn: 'sip.carrier.test', sans: ['DNS:sip.carrier.test'] }),
  farWild: await caA.issue({ cn: 'wild.carrier.test', sans: ['DNS:*.carrier.test'] }),
  farWildOther: await caA.issue({ cn: 'wild.other.test', sans: ['DNS:*.other.test'] }),
  farRevoked: await caA.issue({ cn: 'far-revoked.test', sans: ['IP:127.0.0.1'] }),
};
const crlA = await revokeWithOpenssl(caA, certs.farRevoked);
const gwRsa = await caA.issue({ cn: 'gw.test', sans: ['DNS:gw.test'], keyType: 'rsa' });
// A far end two CAs deep: an intermediate of CA A between it and the root.
const deepFar = ((): TestCert => {
  const ik = generateKeyPair();
  const inter = issueCertificate({ subject: { commonName: 'reload fields CA A1' }, subjectKeyPem: ik.publicKeyPem, issuerKeyPem: caA.key, issuerCertPem: caA.cert, isCA: true });
  const lk = generateKeyPair();
  const leaf = issueCertificate({
    subject: { commonName: 'far-deep.test' }, subjectKeyPem: lk.publicKeyPem, issuerKeyPem: ik.privateKeyPem, issuerCertPem: inter,
    san: [{ type: 'ip', value: '127.0.0.1' }], extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  return { cert: leaf + inter, key: lk.privateKeyPem, certPath: '', keyPath: '' };
})();

/** A TLS far end for the B leg whose certificate and client-certificate demand the test sets between calls. */
interface FarEnd {
  port: number;
  set(o: { cert: TestCert; ca: TestCa; clientCa?: TestCa }): void;
  /** Per accepted connection: the SNI it carried and the client certificate's CN. */
  seen: { servername: string | undefined; clientCn: string | undefined }[];
  /** Resolves when every connection it accepted is closed. */
  drained(): Promise<void>;
}

async function farEnd(t: TestContext): Promise<FarEnd> {
  const sockets = new Set<TLSSocket>();
  const seen: FarEnd['seen'] = [];
  const live = { requestCert: false };
  const server = tls.createServer({ key: certs.farA.key, cert: certs.farA.cert + caA.cert, rejectUnauthorized: false }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const sn = (s as TLSSocket & { servername?: string | false }).servername;
    const peer = s.getPeerCertificate();
    seen.push({ servername: typeof sn === 'string' && sn !== '' ? sn : undefined, clientCn: peer && peer.subject ? String(peer.subject.CN) : undefined });
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || !buf.startsWith('INVITE ')) return;
      const lines = buf.slice(0, end).split('\r\n');
      const h = (n: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(`${n.toLowerCase()}:`));
      // 486 says the B leg got through; 403 that the client certificate asked for did not verify. Then the far end
      // hangs up, so the next call makes a new handshake.
      const status = live.requestCert && !s.authorized ? '403 Forbidden' : '486 Busy Here';
      s.end([`SIP/2.0 ${status}`, ...h('Via'), ...h('From'), ...h('To').map((l) => `${l};tag=far`), ...h('Call-ID'), ...h('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
    });
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    set({ cert, ca, clientCa }) {
      server.setSecureContext({ key: cert.key, cert: cert.cert + ca.cert, ...(clientCa ? { ca: clientCa.cert } : {}) });
      // Node's listener reads requestCert at each connection; the verdict is the far end's SIP answer.
      live.requestCert = clientCa !== undefined;
      (server as tls.Server & { requestCert: boolean }).requestCert = live.requestCert;
    },
    async drained() {
      const end = Date.now() + 5000;
      while (sockets.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(sockets.size, 0, 'the far end still holds a connection');
    },
  };
}

let seq = 0;
/** An INVITE from the pbx over UDP, routed to the TLS tenant's far end; the final status. */
async function call(uac: Ua, sipPort: number): Promise<number> {
  const n = ++seq;
  const callId = `reload-fields-${process.pid}-${n}`;
  uac.send([`INVITE sip:3${String(n).padStart(3, '0')}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKrf${n};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${uac.port}>;tag=rf${n}`, `To: <sip:3000@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  const res = await uac.next(new RegExp(`^SIP/2\\.0 [3-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  return Number(/^SIP\/2\.0 (\d{3})/.exec(res)![1]);
}

function trustpoint(root: string, name: string, cert: TestCert, ca: TestCa): string {
  const dir = join(root, 'tp', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'key.pem'), cert.key, { mode: 0o600 });
  writeFileSync(join(dir, 'cert.pem'), cert.cert);
  writeFileSync(join(dir, 'chain.pem'), ca.cert);
  return dir;
}

const BASE = { trustpoint: 'gwA', trustStore: 'a', cnSan: '[sip.carrier.test]', sniName: 'sip.carrier.test' };
const ALT_BASE = { trustpoint: 'gwB', trustStore: 'a', serverNames: '[alt.test]' };
const flow = (o: Record<string, string>): string => `{ ${Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;

test('a reload of each TLS profile field is applied to the next handshake: the valid client gets through, the other is refused', { timeout: 240_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-reload-fields-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const far = await farEnd(t);
  const tp = {
    gwA: trustpoint(root, 'gwA', certs.gwA, caA), gwB: trustpoint(root, 'gwB', certs.gwB, caB), clB: trustpoint(root, 'clB', certs.clB, caB),
    gwR: trustpoint(root, 'gwR', gwRsa, caA),
  };
  writeFileSync(join(root, 'ca-a.pem'), caA.cert);
  writeFileSync(join(root, 'ca-b.pem'), caB.cert);
  writeFileSync(join(root, 'crl-a.pem'), crlA);
  const profilesDir = join(root, 'profiles');
  mkdirSync(profilesDir);
  const write = (edge: Record<string, string>, alt: Record<string, string> = ALT_BASE): void => writeFileSync(join(profilesDir, 'gateway.yaml'), `
gateway:
  bindHost: 127.0.0.2
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gwA: { dir: ${tp.gwA} }
  gwB: { dir: ${tp.gwB} }
  clB: { dir: ${tp.clB} }
  gwR: { dir: ${tp.gwR} }
trustStores:
  a: [${join(root, 'ca-a.pem')}]
  b: [${join(root, 'ca-b.pem')}]
tlsCiphers:
  only256: [TLS_AES_256_GCM_SHA384, ECDHE-ECDSA-AES256-GCM-SHA384]
  dhe: [DHE_RSA_AES128_GCM_SHA256, ECDHE_RSA_AES128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
tlsProfiles:
  edge: ${flow(edge)}
  alt: ${flow(alt)}
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  carrier: { transport: tls, tlsProfile: edge, sipServer: 127.0.0.1:${far.port} }
  branch: { transport: tls, tlsProfile: alt }
  own: { transport: tls, tlsProfile: edge, listenPortSecure: 0 }
dialPeers:
  - { id: 1, destinationPattern: "^3\\\\d{3}$", tenant: carrier, from: [pbx] }
`);
  write(BASE);
  const plan = planStartup(profilesDir, {}, silentLogger());
  const gw: Gateway = await startGateway({ ...plan.options, prewarmCalls: 0, control: { ...plan.options.control, secret: randomSecret() }, logLevel: process.env['RF_LOG'] ?? 'silent' });
  t.after(() => gw.close());
  const reloader = new GatewayReloader({ gateway: gw, profilesDir, config: plan.config, env: {}, log: silentLogger() });
  t.after(() => reloader.close());
  // The shared listener (edge by default, alt by SNI) and the tenant own's listener (edge only, no SNI callback), on
  // another loopback address (two listeners on port 0 of one address would share an engine listener id).
  const [tlsPort, ownPort] = gw.addresses.sip.filter((l) => l.protocol === 'tls').map((l) => l.port) as [number, number];
  assert.ok(ownPort !== undefined && ownPort !== tlsPort);
  const sipPort = gw.addresses.sip.find((l) => l.protocol === 'udp')!.port;
  const uac = await ua(t);

  const trustsA = { ca: caA.cert };
  const outbound = async (set: Parameters<FarEnd['set']>[0]): Promise<{ status: number; seen: FarEnd['seen'][number] | undefined }> => {
    far.set(set);
    const before = far.seen.length;
    const status = await call(uac, sipPort);
    await far.drained();
    return { status, seen: far.seen.length > before ? far.seen.at(-1) : undefined };
  };
  const expectInbound = async (what: string, opts: ConnectionOptions, want: Verdict['verdict'], port = tlsPort): Promise<void> => {
    const v = await pingVerdict(port, { servername: 'gw.test', ...opts, ...(port === ownPort ? { host: '127.0.0.2' } : {}) });
    assert.equal(v.verdict, want, `${what}${port === ownPort ? ' (tenant listener)' : ''}: ${JSON.stringify(v)}`);
  };
  const reload = async (label: string, edge: Record<string, string>, alt?: Record<string, string>): Promise<ConfigReloadReport> => {
    write(edge, alt);
    const r = await reloader.reloadConfig('api');
    assert.equal(r.ok, true, `${label}: ${JSON.stringify(r.problems)}`);
    assert.deepEqual(r.needsRestart, [], `${label}: nothing needs a restart`);
    assert.ok(r.applied.includes('tlsProfiles'), `${label}: applied ${JSON.stringify(r.applied)}`);
    return r;
  };
  let report: ConfigReloadReport | undefined;

  // Baseline: a client without a certificate is served; a B leg reaches the far end with the profile's SNI.
  await expectInbound('baseline', trustsA, 'accepted');
  const live = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: 'gw.test', ...trustsA });
  t.after(() => live.destroy());
  await once(live, 'secureConnect');
  const base = await outbound({ cert: certs.farA, ca: caA });
  assert.equal(base.status, 486);
  assert.equal(base.seen?.servername, 'sip.carrier.test');

  type Check = { field: string; edge?: Record<string, string>; alt?: Record<string, string>; check: () => Promise<void> };
  const checks: Check[] = [
    { field: 'trustpoint', edge: { ...BASE, trustpoint: 'gwB' }, check: async () => {
      await expectInbound('trusts CA B', { ca: caB.cert }, 'accepted');
      await expectInbound('trusts CA A only', trustsA, 'refused');
    } },
    { field: 'clientTrustpoint', edge: { ...BASE, clientTrustpoint: 'clB' }, check: async () => {
      const ok = await outbound({ cert: certs.farA, ca: caA, clientCa: caB });
      assert.equal(ok.status, 486);
      assert.equal(ok.seen?.clientCn, 'cl-b.test');
      const refused = await outbound({ cert: certs.farA, ca: caA, clientCa: caA });
      assert.equal(refused.status, 403, 'a far end that wants CA A client certificates');
      assert.equal(refused.seen?.clientCn, 'cl-b.test');
    } },
    { field: 'trustStore', edge: { ...BASE, trustStore: 'b' }, check: async () => {
      assert.equal((await outbound({ cert: certs.farB, ca: caB })).status, 486);
      const refused = await outbound({ cert: certs.farA, ca: caA });
      assert.equal(refused.status, 503);
      assert.equal(refused.seen, undefined, 'the far end never saw a finished handshake');
    } },
    { field: 'ciphers', edge: { ...BASE, ciphers: 'only256' }, check: async () => {
      await expectInbound('AES-256 suite', { ...trustsA, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' }, 'accepted');
      await expectInbound('AES-128 suite only', { ...trustsA, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, 'refused');
    } },
    { field: 'minVersion', edge: { ...BASE, minVersion: 'TLSv1.3' }, check: async () => {
      await expectInbound('TLS 1.3', { ...trustsA, minVersion: 'TLSv1.3' }, 'accepted');
      await expectInbound('TLS 1.2 at most', { ...trustsA, maxVersion: 'TLSv1.2' }, 'refused');
    } },
    { field: 'maxVersion', edge: { ...BASE, maxVersion: 'TLSv1.2' }, check: async () => {
      await expectInbound('TLS 1.2', { ...trustsA, maxVersion: 'TLSv1.2' }, 'accepted');
      await expectInbound('TLS 1.3 at least', { ...trustsA, minVersion: 'TLSv1.3' }, 'refused');
      // The SNI profile alt still allows TLS 1.3, but the shared listener's default no longer does: the reload says so,
      // and a TLS 1.3 client of alt is indeed refused.
      const widens = report!.warnings.filter((w) => w.code === 'ERR_TLS_SNI_WIDENS');
      assert.deepEqual(widens.map((w) => w.profile), ['alt'], JSON.stringify(report!.warnings));
      assert.match(widens[0]!.message, /TLSv1\.2\.\.TLSv1\.3 beyond TLSv1\.2\.\.TLSv1\.2 .*default profile edge/);
      await expectInbound('TLS 1.3 client of alt', { ca: caB.cert, servername: 'alt.test', checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' }, 'refused');
      await expectInbound('TLS 1.2 client of alt', { ca: caB.cert, servername: 'alt.test', checkServerIdentity: () => undefined, maxVersion: 'TLSv1.2' }, 'accepted');
    } },
    { field: 'cnSanValidate', edge: { ...BASE, cnSanValidate: 'none' }, check: async () => {
      // No name check on the server: a trusted far end with any name gets through; its chain is still checked.
      assert.equal((await outbound({ cert: certs.farNamed, ca: caA })).status, 486);
      assert.equal((await outbound({ cert: certs.farB, ca: caB })).status, 503, 'a far end from an untrusted CA');
    } },
    { field: 'cnSanValidate (client, which needs requireClientCert)', edge: { ...BASE, cnSanValidate: 'bidirectional', requireClientCert: 'true' }, check: async () => {
      await expectInbound('client certificate for sip.carrier.test', { ...trustsA, key: certs.pbxA.key, cert: certs.pbxA.cert }, 'accepted');
      await expectInbound('a stranger\'s certificate', { ...trustsA, key: certs.strangerA.key, cert: certs.strangerA.cert }, 'refused');
      await expectInbound('no client certificate', trustsA, 'refused');
    } },
    { field: 'cnSan', edge: { ...BASE, cnSan: '[far.carrier.test]' }, check: async () => {
      assert.equal((await outbound({ cert: certs.farNamed, ca: caA })).status, 486);
      assert.equal((await outbound({ cert: certs.farSip, ca: caA })).status, 503, 'the name of the old cnSan');
    } },
    { field: 'allowWildcard', edge: { ...BASE, allowWildcard: 'true' }, check: async () => {
      assert.equal((await outbound({ cert: certs.farWild, ca: caA })).status, 486);
      assert.equal((await outbound({ cert: certs.farWildOther, ca: caA })).status, 503, 'a wildcard for another domain');
    } },
    // sniName needs sni: send, so both go.
    { field: 'sni', edge: { trustpoint: 'gwA', trustStore: 'a', cnSan: '[sip.carrier.test]', sni: 'none' }, check: async () => {
      const r = await outbound({ cert: certs.farA, ca: caA });
      assert.equal(r.status, 486);
      assert.equal(r.seen?.servername, undefined, 'no SNI sent');
    } },
    { field: 'sniName', edge: { ...BASE, sniName: 'other.carrier.test' }, check: async () => {
      const r = await outbound({ cert: certs.farA, ca: caA });
      assert.equal(r.status, 486);
      assert.equal(r.seen?.servername, 'other.carrier.test');
    } },
    { field: 'serverNames', edge: BASE, alt: { ...ALT_BASE, serverNames: '[alt2.test]' }, check: async () => {
      await expectInbound('SNI alt2.test picks the CA B profile', { ca: caB.cert, servername: 'alt2.test' }, 'accepted');
      await expectInbound('SNI alt.test no longer does', { ca: caB.cert, servername: 'alt.test', checkServerIdentity: () => undefined }, 'refused');
    } },
    { field: 'requireClientCert', edge: { ...BASE, requireClientCert: 'true' }, check: async () => {
      for (const port of [tlsPort, ownPort]) {
        await expectInbound('a valid client certificate', { ...trustsA, key: certs.pbxA.key, cert: certs.pbxA.cert }, 'accepted', port);
        await expectInbound('a certificate from an untrusted CA', { ...trustsA, key: certs.pbxB.key, cert: certs.pbxB.cert }, 'refused', port);
        await expectInbound('no client certificate', trustsA, 'refused', port);
      }
    } },
    { field: 'revocation', edge: { ...BASE, revocation: `{ crl: ${join(root, 'crl-a.pem')} }` }, check: async () => {
      assert.equal((await outbound({ cert: certs.farA, ca: caA })).status, 486);
      assert.equal((await outbound({ cert: certs.farRevoked, ca: caA })).status, 503, 'a revoked far end');
    } },
    { field: 'maxChainDepth', edge: { ...BASE, maxChainDepth: '1' }, check: async () => {
      assert.equal((await outbound({ cert: certs.farA, ca: caA })).status, 486, 'one CA above the far end');
      const deep = await outbound({ cert: deepFar, ca: caA });
      assert.equal(deep.status, 503, 'two CAs above the far end');
      await reload('maxChainDepth 2', { ...BASE, maxChainDepth: '2' });
      assert.equal((await outbound({ cert: deepFar, ca: caA })).status, 486, 'two CAs within a depth of 2');
    } },
    { field: 'dhparam', edge: { ...BASE, trustpoint: 'gwR', ciphers: 'dhe', maxVersion: 'TLSv1.2', dhparam: 'none' }, check: async () => {
      const dheOnly = { ...trustsA, maxVersion: 'TLSv1.2' as const, ciphers: 'DHE-RSA-AES128-GCM-SHA256' };
      await expectInbound('a DHE-only client without DH parameters', dheOnly, 'refused');
      await expectInbound('an ECDHE client', { ...trustsA, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, 'accepted');
      await reload('dhparam auto', { ...BASE, trustpoint: 'gwR', ciphers: 'dhe', maxVersion: 'TLSv1.2', dhparam: 'auto' });
      await expectInbound('a DHE-only client with dhparam auto', dheOnly, 'accepted');
    } },
  ];
  for (const c of checks) {
    await t.test(c.field, async () => {
      report = await reload(c.field, c.edge ?? BASE, c.alt);
      await c.check();
      const back = await reload(`${c.field} back to the baseline`, BASE);
      assert.deepEqual(back.warnings, [], 'the baseline has nothing to warn about');
      await expectInbound(`${c.field}: the baseline client again`, trustsA, 'accepted');
      await expectInbound(`${c.field}: the baseline client again`, trustsA, 'accepted', ownPort);
    });
  }

  // The connection made before the first reload was never dropped.
  live.write('\r\n\r\n');
  const [pong] = (await once(live, 'data')) as [Buffer];
  assert.match(pong.toString(), /\r\n/);
});

test('every field of the TLS profile schema is exercised by the reload test', async () => {
  const { TlsProfileSchema } = await import('../../src/config/tls-schema.js');
  const covered = ['trustpoint', 'clientTrustpoint', 'trustStore', 'ciphers', 'minVersion', 'maxVersion', 'cnSanValidate', 'cnSan', 'allowWildcard',
    'sni', 'sniName', 'serverNames', 'requireClientCert', 'revocation', 'maxChainDepth', 'dhparam'];
  assert.deepEqual(Object.keys(TlsProfileSchema.shape).sort(), covered.sort());
});
