/**
 * gateway.engine.thread: main runs the engine in the b2bua's thread instead of a worker of its own. The plan says
 * so (the default stays worker), and `trunkgate start` with it carries a call both ways, keeps the edge (an
 * open-relay attempt gets the policy's 403 and reaches nobody) and reports the thread on /health and in its
 * ready line.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../src/log/index.js';
import { planStartup } from '../../src/startup.js';
import { header, ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { udpPeer } from '../support/udp-peer.js';
import { profilesDir, startTrunkgate } from '../support/trunkgate-process.js';
import { answeringUa, placeCall, within } from './calls-support.js';

const yaml = (sipPort: number, adminPort: number, farPort: number, thread?: string): string => `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 }${thread ? `, thread: ${thread}` : ''} }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
  far: { transport: udp, sipServer: 127.0.0.1:${farPort} }
dialPeers:
  - { id: local, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`;

test('engine.thread: worker unless the file says main; any other value is refused naming the field', (t: TestContext) => {
  const plan = (thread?: string) => planStartup(profilesDir(t, yaml(5060, 8080, 5080, thread)), {}, silentLogger());
  assert.equal(plan().options.engineInWorker, true);
  assert.equal(plan('worker').options.engineInWorker, true);
  assert.equal(plan('main').options.engineInWorker, false);
  assert.throws(() => plan('both'), (e: Error & { code?: string }) => e.code === 'ERR_CONFIG_INVALID' && /gateway\.engine\.thread/.test(JSON.stringify(e)));
});

test('engine.thread main: a call goes through and ends, an open-relay attempt gets the policy\'s 403, /health says main', async (t) => {
  const far = await answeringUa(t);
  const sipPort = await freePort();
  const adminPort = await freePort();
  const p = await startTrunkgate(t, profilesDir(t, yaml(sipPort, adminPort, far.port, 'main')), {
    ready: (l) => l.code === 'EVT_GATEWAY_READY',
  });
  const ready = p.lines.find((l) => l.code === 'EVT_GATEWAY_READY')!;
  assert.equal(ready.engineThread, 'main');
  const health = await (await fetch(`http://127.0.0.1:${adminPort}/health`)).json() as { engine: { mode: string; thread: string } };
  assert.deepEqual([health.engine.mode, health.engine.thread], ['embedded', 'main']);

  const caller = await ua(t);
  const call = await placeCall(caller, sipPort, '3001');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  await within(far, /^INVITE /, 3000);
  call.inDialog('BYE');
  await within(far, /^BYE /, 3000);
  await within(caller, /^SIP\/2\.0 200 [^\r]*\r\n(?:[^\r]*\r\n)*CSeq: \d+ BYE/, 3000);

  // A foreign Request-URI routed at the gateway: the policy answers (an international number is not permitted),
  // and the host it names receives nothing.
  const foreign = await udpPeer(t, '127.0.0.9');
  const uri = `sip:011442071234567@127.0.0.9:${foreign.port}`;
  const callId = `main-thread-relay-${process.pid}`;
  caller.send([`INVITE ${uri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKmainrelay;rport`,
    `Route: <sip:127.0.0.1:${sipPort};lr>`, 'Max-Forwards: 70', `From: <sip:1000@127.0.0.1:${caller.port}>;tag=mr1`, `To: <${uri}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${caller.port}>`, 'Content-Length: 0', '', ''].join('\r\n'), sipPort);
  const refused = await caller.next(new RegExp(`^SIP/2\\.0 [3-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  assert.match(refused, /^SIP\/2\.0 403 /);
  assert.match(header(refused, 'Reason'), /^SIP;cause=403;text=".*international/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(foreign.got.length, 0, 'the foreign host received nothing');
});
