import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { answer, header, ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { startTrunkgate, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { answeringUa, placeCall, within } from './calls-support.js';

/** trunkgate as a user runs it (src/main.ts on a profiles dir), one UDP trunk to a mini UA. */
async function gateway(t: TestContext, o: { farPort: number; env?: Record<string, string>; workers?: number }): Promise<{ p: TrunkgateProcess; sipPort: number }> {
  const sipPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-calls-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { enabled: false }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  shutdown: { drainSeconds: 3, retryAfterSeconds: 7 }
  workers: ${o.workers ?? 1}
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  far: { transport: udp, sipServer: 127.0.0.1:${o.farPort} }
dialPeers:
  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx] }
`);
  const p = await startTrunkgate(t, root, {
    ...(o.env ? { env: o.env } : {}),
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  return { p, sipPort };
}

const exited = async (p: TrunkgateProcess, ms: number): Promise<number | null> => {
  if (p.child.exitCode !== null) return p.child.exitCode;
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  const [code] = await once(p.child, 'exit') as [number | null];
  clearTimeout(timer);
  return code;
};

test('SIGTERM drains: the call up goes on, a new call and an OPTIONS probe get 503 with Retry-After and Reason, after the drain time both legs get BYE, exit 0', async (t) => {
  const b = await answeringUa(t);
  const { p, sipPort } = await gateway(t, { farPort: b.port });
  const a = await ua(t, (msg, self, from) => {
    if (/^(BYE|INFO) /.test(msg)) self.send(answer(msg, '200 OK', self.port), from);
  });
  const call = await placeCall(a, sipPort, '3001');
  assert.match(call.final, /^SIP\/2\.0 200 /);

  const from = p.lines.length;
  const t0 = Date.now();
  p.child.kill('SIGTERM');
  await p.waitFor((l) => l.msg === 'b2bua: draining: new calls get 503', 5_000, from);

  const late = await ua(t);
  const refused = await placeCall(late, sipPort, '3002');
  assert.match(refused.final, /^SIP\/2\.0 503 /);
  assert.equal(header(refused.final, 'Retry-After'), '7');
  assert.match(header(refused.final, 'Reason'), /^SIP;cause=503;text="Gateway shutting down: not taking new calls"$/);
  // A load balancer's OPTIONS probe (kamailio's dispatcher) gets 503 too, so it takes this instance out.
  late.send([`OPTIONS sip:127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${late.port};branch=z9hG4bKdrainprobe;rport`,
    'Max-Forwards: 70', `From: <sip:lb@127.0.0.1>;tag=lb1`, `To: <sip:127.0.0.1:${sipPort}>`, 'Call-ID: drain-probe@127.0.0.1',
    'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'), sipPort);
  const probe = await late.next(/^SIP\/2\.0 \d+ [\s\S]*CSeq: 1 OPTIONS/);
  assert.match(probe, /^SIP\/2\.0 503 /);
  assert.equal(header(probe, 'Retry-After'), '7');
  assert.match(header(probe, 'Reason'), /^SIP;cause=503;text="draining"$/);

  // The call in progress still carries requests while the gateway drains.
  call.inDialog('INFO', ['Content-Type: application/dtmf-relay']);
  await within(b, /^INFO /, 3_000);
  await within(a, /^SIP\/2\.0 200 OK[\s\S]*CSeq: \d+ INFO/, 3_000);
  assert.equal(a.received.filter((m) => m.startsWith('BYE ')).length, 0, 'no BYE before the drain time');

  const byeA = await within(a, /^BYE /, 10_000);
  await within(b, /^BYE /, 10_000);
  t.diagnostic(`BYE ${Date.now() - t0} ms after SIGTERM (drainSeconds 3)`);
  assert.match(header(byeA.msg, 'Reason'), /^SIP;cause=503;text="Gateway shutting down: call ended after the drain time"$/);
  assert.equal(await exited(p, 15_000), 0);
  const cdr = p.lines.find((l) => l.msg === 'cdr' && (l.cdr as { cause?: string }).cause === 'shutdown' && (l.cdr as { status?: number }).status === 200);
  assert.ok(cdr, 'the ended call has its CDR with cause shutdown');
  assert.ok(p.lines.every((l) => typeof l.level === 'number'), 'every stdout line is a JSON log line');
});

test('SIGTERM with two b2bua apps: the calls each app holds get their BYE after the drain time, each with its CDR, exit 0', async (t) => {
  const b = await answeringUa(t);
  const { p, sipPort } = await gateway(t, { farPort: b.port, workers: 2 });
  const callers = [];
  for (const n of ['3001', '3002']) {
    const a = await ua(t, (msg, self, from) => {
      if (/^BYE /.test(msg)) self.send(answer(msg, '200 OK', self.port), from);
    });
    const call = await placeCall(a, sipPort, n);
    assert.match(call.final, /^SIP\/2\.0 200 /);
    callers.push(a);
  }
  const from = p.lines.length;
  p.child.kill('SIGTERM');
  for (const a of callers) {
    const bye = await within(a, /^BYE /, 10_000);
    assert.match(header(bye.msg, 'Reason'), /^SIP;cause=503;text="Gateway shutting down: call ended after the drain time"$/);
  }
  assert.equal(await exited(p, 15_000), 0);
  const ended = p.lines.slice(from).filter((l) => l.msg === 'cdr' && (l.cdr as { cause?: string }).cause === 'shutdown');
  assert.deepEqual(ended.map((l) => (typeof l.app === 'number' ? l.app : 0)).sort(), [0, 1], 'one call on each app, each ended with its CDR');
});

for (const fault of ['exit', 'throw'] as const) {
  test(`the engine worker dying (${fault}) is logged with a code and ends the process non-zero at once`, async (t) => {
    const b = await answeringUa(t);
    const { p } = await gateway(t, { farPort: b.port, env: { NODE_ENV: 'test', TRUNKGATE_TEST_ENGINE_FAULT: `${fault}:1000` } });
    const { line } = await p.waitFor((l) => l.level === 60 && typeof l.code === 'string', 10_000);
    const t0 = Date.now();
    const code = await exited(p, 5_000);
    t.diagnostic(`exit ${Date.now() - t0} ms after the fatal line`);
    assert.equal(line.code, fault === 'exit' ? 'ERR_ENGINE_WORKER_EXITED' : 'ERR_ENGINE_WORKER_CRASHED');
    assert.equal(code, 70);
  });
}

test('without NODE_ENV=test the fault variable is ignored: the gateway keeps running', async (t) => {
  const b = await answeringUa(t);
  const { p, sipPort } = await gateway(t, { farPort: b.port, env: { NODE_ENV: 'production', TRUNKGATE_TEST_ENGINE_FAULT: 'exit:200' } });
  const a = await ua(t, (msg, self, from) => {
    if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
  const call = await placeCall(a, sipPort, '3003');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  assert.equal(p.child.exitCode, null);
  // Were it honoured, the worker would have logged this as it started, before the gateway was ready.
  assert.ok(!p.lines.some((l) => l.msg === 'engine worker: test fault armed'));
  // Hang up, so the stop after the test has no call to drain.
  call.inDialog('BYE');
  await within(a, /^SIP\/2\.0 200 OK[\s\S]*CSeq: \d+ BYE/, 3_000);
});
