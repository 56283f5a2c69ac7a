// Calls over TLS with kamailio (tls.so) as the remote PBX behind the gateway:
//   sipp UAC → UDP → gateway (engine + a bridging app) → TLS → kamailio → UDP → sipp UAS.
// kamailio's certificate comes from its own CA, which the gateway's outbound trust includes. The B leg is
// addressed to `localhost` (which /etc/hosts maps to 127.0.0.1 here), so the gateway sends that name as SNI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startKamailio } from '../../support/kamailio.js';
import { runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa } from '../../support/test-certs.js';

const gatewayScript = fileURLToPath(new URL('./tls-out-gateway-process.ts', import.meta.url));

interface GatewayProcess {
  udpPort: number;
  /** SIGTERM; resolves with the bridging app's counters. */
  stop(): Promise<{ attempted: number; connected: number; failed: number[] }>;
}

/** Starts tls-out-gateway-process.ts with NODE_EXTRA_CA_CERTS, the only way to extend the engine's trust. */
async function startGatewayProcess(input: { keyPath: string; certPath: string; target: string }, extraCa: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', gatewayScript, JSON.stringify(input)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: extraCa }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000); });
  const lines = createInterface({ input: child.stdout });
  const waiters = new Map<string, (json: string) => void>();
  lines.on('line', (line) => {
    const m = /^(READY|STATS) (.*)$/.exec(line);
    if (m) waiters.get(m[1]!)?.(m[2]!);
  });
  const next = (tag: string, ms: number): Promise<string> => new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`gateway process: no ${tag} within ${ms} ms\n${stderr}`)), ms);
    waiters.set(tag, (json) => { clearTimeout(timer); ok(json); });
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`gateway process exited (${code}) before ${tag}\n${stderr}`)); });
  });
  const ready = JSON.parse(await next('READY', 20_000)) as { udpPort: number };
  let stopping: Promise<{ attempted: number; connected: number; failed: number[] }> | undefined;
  return {
    udpPort: ready.udpPort,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode !== null) return { attempted: -1, connected: -1, failed: [] };
        const stats = next('STATS', 5000);
        child.kill('SIGTERM');
        try {
          return JSON.parse(await stats) as { attempted: number; connected: number; failed: number[] };
        } finally {
          const exited = once(child, 'exit');
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited.catch(() => undefined);
          clearTimeout(kill);
        }
      })();
      return stopping;
    },
  };
}

test('sipp → gateway → TLS → kamailio (own CA, trusted by the gateway) → sipp: 10 calls, 0 failed', async (t) => {
  const pbxCa = await createTestCa({ cn: 'remote PBX CA' });
  t.after(() => pbxCa.cleanup());
  const gwCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  t.after(() => gwCa.cleanup());
  const pbx = await pbxCa.issue({ cn: 'pbx.remote.test', sans: ['DNS:localhost', 'IP:127.0.0.1'] });
  const gw = await gwCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });

  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const kam = await startKamailio({
    listen: [{ proto: 'tls', host: '127.0.0.1', port: 0 }, { proto: 'udp', host: '127.0.0.1', port: 0 }],
    tls: { certificate: pbx.cert, privateKey: pbx.key, caList: gwCa.cert, requireCertificate: false },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: uas.port, transport: 'udp' } },
  });
  t.after(() => kam.stop());
  const gateway = await startGatewayProcess(
    { keyPath: gw.keyPath, certPath: gw.certPath, target: `localhost:${kam.port('tls')};transport=tls` }, pbxCa.certPath);
  t.after(() => gateway.stop());

  const calls = 10;
  const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${gateway.udpPort}`, calls, rate: 10, timeoutSec: 30 });
  const diag = `sipp: ${r.errors.slice(0, 1500)}\nkamailio:\n${kam.logs().slice(-2500)}`;
  assert.equal(r.exitCode, 0, diag);
  assert.equal(r.stats.successful, calls, diag);
  assert.equal(r.stats.failed, 0, diag);

  const seen = await kam.waitForRequests((s) => s.filter((x) => x.method === 'BYE').length >= calls);
  const overTls = (m: string): number => seen.filter((x) => x.method === m && x.proto === 'tls').length;
  assert.equal(overTls('INVITE'), calls, 'INVITEs reached kamailio over TLS');
  assert.equal(overTls('BYE'), calls, 'BYEs reached kamailio over TLS (the recorded route)');
  // A 2xx retransmitted by the UAS before the ACK arrived is acknowledged again (RFC 3261 §13.2.2.4).
  assert.ok(overTls('ACK') >= calls, 'ACKs reached kamailio over TLS');
  assert.equal(seen.filter((x) => x.proto !== 'tls').length, 0, 'nothing reached kamailio outside TLS');
  assert.ok(seen.every((x) => x.version === undefined || /^TLSv1\.[23]$/.test(x.version)), JSON.stringify(seen[0]));
  const stats = await gateway.stop();
  assert.equal(stats.connected, calls);
  assert.deepEqual(stats.failed, []);

  // The B leg is addressed to a name, so the engine sends it as SNI (RFC 6066 §3) and checks the certificate
  // against it (kamailio's certificate names DNS:localhost).
  const invite = seen.find((x) => x.method === 'INVITE' && x.proto === 'tls')!;
  assert.equal(invite.sni, 'localhost', `kamailio saw sni=${invite.sni}`);
});
