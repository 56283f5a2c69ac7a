// The b2bua against a real drachtio-server (gateway.engine.mode external), as docker-compose.yml's drachtio profile
// runs it, as processes on loopback: drachtio-server built from source (bench/anchor/build-drachtio-server.sh), the
// gateway by `npm start`'s entry with engine mode external, sipp calling through drachtio-server to a sipp UAS.
// Without an app the server answers calls 503 itself; the gateway started before the server waits for it; calls
// complete and have their CDRs; a call no dial peer takes gets 404 with a Reason; the server stopped and started
// again is logged once each way and calls work after.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCdrFile } from '../support/cdr-file.js';
import { freePort, runSipp, startSippUas } from '../support/sipp.js';
import { profilesDir, repoRoot, startTrunkgate, type LogLine } from '../support/trunkgate-process.js';

const drachtioBinary = join(repoRoot, '.tmp', 'anchor', 'bin', 'drachtio');
const BUILD = 'bash bench/anchor/build-drachtio-server.sh';

function drachtioConf(sipPort: number, controlPort: number): string {
  return `<drachtio>
  <admin port="${controlPort}">127.0.0.1</admin>
  <sip>
    <contacts>
      <contact>sip:127.0.0.1:${sipPort};transport=udp</contact>
    </contacts>
  </sip>
  <cdrs>false</cdrs>
  <logging>
    <console/>
    <sofia-loglevel>0</sofia-loglevel>
    <loglevel>info</loglevel>
  </logging>
</drachtio>
`;
}

/** drachtio-server on its config file, the secret in DRACHTIO_SECRET as the compose file passes it; resolves once its control port accepts. */
async function startDrachtio(conf: string, controlPort: number, secret: string): Promise<{ child: ChildProcess; stop(): Promise<void>; out(): string }> {
  const child = spawn(drachtioBinary, ['-f', conf], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DRACHTIO_SECRET: secret } });
  let out = '';
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = (): Promise<void> => new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(kill); done(); });
    child.kill('SIGTERM');
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`drachtio-server exited ${child.exitCode}: ${out}`);
    const up = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port: controlPort });
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (up) return { child, stop, out: () => out };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`drachtio-server's control port ${controlPort} not open in 15 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One INVITE over UDP, bounded; the final status and its Reason header (the ACK for a non-2xx is sent). */
async function inviteOnce(sipPort: number, user: string): Promise<{ status: number; reason?: string }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  const callId = `${randomBytes(8).toString('hex')}@127.0.0.1`;
  const head = (method: string) => [
    `${method} sip:${user}@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
    `From: <sip:caller@127.0.0.1:${port}>;tag=ext1`, `To: <sip:${user}@127.0.0.1:${sipPort}>`, `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`, `Contact: <sip:caller@127.0.0.1:${port}>`, 'Max-Forwards: 70',
  ];
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
  const invite = [...head('INVITE'), 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer to INVITE ${user} in 10 s`)), 10_000);
      const resend = setInterval(() => sock.send(invite, sipPort, '127.0.0.1'), 500);
      sock.on('message', (m) => {
        const text = m.toString();
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);
        if (!(status >= 200)) return;
        clearTimeout(timer);
        clearInterval(resend);
        const to = /^To: (.*)$/im.exec(text)?.[1]?.trim() ?? '';
        const ack = [...head('ACK').map((l) => (l.startsWith('To:') ? `To: ${to}` : l)), 'Content-Length: 0', '', ''].join('\r\n');
        sock.send(ack, sipPort, '127.0.0.1', () => {
          const reason = /^Reason: (.*)$/im.exec(text)?.[1]?.trim();
          resolve({ status, ...(reason !== undefined ? { reason } : {}) });
        });
      });
      sock.send(invite, sipPort, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

const cdrs = (lines: LogLine[]) => lines.filter((l) => l.msg === 'cdr');
const coded = (lines: LogLine[], code: string) => lines.filter((l) => l.code === code);

test('npm start with engine mode external: calls through drachtio-server, CDRs, a refusal with its Reason, and the server lost and found again', { timeout: 180_000 }, async (t) => {
  assert.ok(existsSync(drachtioBinary), `${drachtioBinary} is missing: build drachtio-server from source first (about 10 minutes): ${BUILD}`);
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const [sipPort, controlPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const secret = randomBytes(12).toString('hex');
  const run = mkdtempSync(join(tmpdir(), 'tg-drachtio-'));
  t.after(() => rmSync(run, { recursive: true, force: true }));
  const conf = join(run, 'drachtio.conf.xml');
  writeFileSync(conf, drachtioConf(sipPort, controlPort));
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: carrier
  engine: { mode: external, host: 127.0.0.1, port: ${controlPort}, secretEnv: DRACHTIO_SECRET }
  admin: { enabled: true, host: 127.0.0.1, port: ${adminPort} }
tenants:
  carrier: { transport: udp, trustedSources: [127.0.0.1/32] }
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
dialPeers:
  - { id: to-pbx, destinationPattern: "^\\\\d{4}$", tenant: pbx, from: [carrier] }
`);

  // drachtio-server with no app connected refuses calls itself: what callers get while the gateway is away.
  let server = await startDrachtio(conf, controlPort, secret);
  t.after(() => server.stop());
  assert.equal((await inviteOnce(sipPort, '3001')).status, 503, 'no app connected: drachtio-server answers 503');
  await server.stop();

  // The gateway first: drachtio-server is not there, which it says once, then waits.
  const gw = await startTrunkgate(t, dir, { env: { DRACHTIO_SECRET: secret }, ready: (l) => l.code === 'ERR_GATEWAY_ENGINE_UNREACHABLE' });
  server = await startDrachtio(conf, controlPort, secret);
  await gw.waitFor((l) => l.code === 'EVT_GATEWAY_READY', 20_000);
  assert.equal(coded(gw.lines, 'ERR_GATEWAY_ENGINE_UNREACHABLE').length, 1, 'the wait is logged once');
  assert.ok(!gw.lines.some((l) => l.msg?.includes('SIP udp listening')), 'no engine of its own: no listener line');

  const health = await (await fetch(`http://127.0.0.1:${adminPort}/health`)).json() as { status: string; engine: Record<string, unknown> };
  assert.equal(health.status, 'ok');
  assert.deepEqual({ ...health.engine, hostport: undefined }, { mode: 'external', control: `127.0.0.1:${controlPort}`, connected: true, hostport: undefined });
  assert.match(String(health.engine.hostport), new RegExp(`127\\.0\\.0\\.1:${sipPort}`));
  const conns = await fetch(`http://127.0.0.1:${adminPort}/connections`);
  assert.equal(conns.status, 501);
  assert.equal(((await conns.json()) as { code: string }).code, 'ERR_ADMIN_ENGINE_EXTERNAL');

  const ok = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 10, rate: 10, timeoutSec: 20 });
  assert.equal(ok.stats.successful, 10, `${ok.errors.slice(0, 1500)}\n${server.out()}`);
  const refused = await inviteOnce(sipPort, '999');
  assert.equal(refused.status, 404);
  assert.equal(refused.reason, 'SIP;cause=404;text="No route: no dial peer for 999 from tenant carrier"');

  await gw.waitFor(() => cdrs(gw.lines).length >= 11, 10_000);
  const file = readCdrFile(dir);
  assert.equal(file.length, 11, 'the JSON-lines sink has every call');
  const answered = file.filter((c) => c.status === 200);
  assert.equal(answered.length, 10);
  for (const c of answered) {
    assert.deepEqual([c.calledNumber, c.tenantIn, c.tenantOut, c.dialPeer, c.transportIn, c.sourceAddress, c.cause, c.releasedBy],
      ['3001', 'carrier', 'pbx', 'to-pbx', 'udp', '127.0.0.1', 'normal', 'caller']);
  }
  const noRoute = file.find((c) => c.status === 404);
  assert.deepEqual([noRoute?.calledNumber, noRoute?.cause, noRoute?.dialPeer, noRoute?.reason],
    ['999', 'no-route', null, 'SIP;cause=404;text="No route: no dial peer for 999 from tenant carrier"']);

  // drachtio-server goes away: one line with its code, /health degraded; drachtio-srf keeps trying.
  const before = gw.lines.length;
  await server.stop();
  await gw.waitFor((l) => l.code === 'ERR_GATEWAY_ENGINE_LOST', 10_000, before);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(coded(gw.lines, 'ERR_GATEWAY_ENGINE_LOST').length, 1, 'the loss is logged once, not once per reconnect attempt');
  const down = await (await fetch(`http://127.0.0.1:${adminPort}/health`)).json() as { status: string; engine: { connected: boolean } };
  assert.deepEqual([down.status, down.engine.connected], ['degraded', false]);

  // Back on the same ports: drachtio-srf reconnects, and calls complete again.
  const back = gw.lines.length;
  server = await startDrachtio(conf, controlPort, secret);
  await gw.waitFor((l) => l.code === 'EVT_GATEWAY_ENGINE_CONNECTED', 30_000, back);
  const again = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3002', calls: 5, rate: 5, timeoutSec: 20 });
  assert.equal(again.stats.successful, 5, `${again.errors.slice(0, 1500)}\n${server.out()}`);
  assert.equal(coded(gw.lines, 'ERR_GATEWAY_ENGINE_LOST').length, 1);
  const healthy = await (await fetch(`http://127.0.0.1:${adminPort}/health`)).json() as { status: string };
  assert.equal(healthy.status, 'ok');
});
