/**
 * The edge attacks against trunkgate started as `npm start` starts it (src/main.ts on its own profiles copy, own
 * ports): an open-relay attempt (Route to us, a foreign Request-URI) never reaches the foreign host and gets the
 * policy's answer and a CDR, over UDP and TCP; Max-Forwards 0 gets 483 and 1 reaches the far end as 0; OPTIONS to
 * the gateway gets 200 with Allow; an untrusted source gets 403 with its Reason; an INVITE without Contact gets 400;
 * a response never goes to a Via maddr. 127.0.0.1 is the trusted PBX; 127.0.0.2 stands for an untrusted source,
 * 127.0.0.9 for the foreign host and 127.0.0.4 for a third party.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, test, type TestContext } from 'node:test';
import { header, ua, type Ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { udpPeer } from '../support/udp-peer.js';
import { profilesDir, startTrunkgate, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { answeringUa, placeCall, within } from './calls-support.js';

interface Rig { p: TrunkgateProcess; sipPort: number; far: Ua }

// One gateway serves every test of this file: each test sends its own Call-IDs from its own sockets, and none of
// them leaves state the others see (nothing they send reaches the far end but the one call that is let through).
// Its sockets and process are closed when the file ends.
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const fileScope = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
let started: Promise<Rig> | undefined;
const rig = (): Promise<Rig> => (started ??= startRig(fileScope));

async function startRig(t: TestContext): Promise<Rig> {
  const far = await answeringUa(t);
  const sipPort = await freePort();
  const root = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }, { transport: tcp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  untrusted: reject
  admin: { enabled: false }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
  far: { transport: udp, sipServer: 127.0.0.1:${far.port} }
dialPeers:
  - { id: local, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`);
  // The pre-warm runs as it does on `npm start` (fewer calls, to keep the file short).
  const p = await startTrunkgate(t, root, {
    env: { TRUNKGATE_PREWARM_CALLS: '300' }, ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  return { p, sipPort, far };
}

test('the engine runs its synthetic pre-warm calls, each to its end, through loopback sockets before it opens a listener', async (t) => {
  const { p } = await rig();
  const warm = p.lines.findIndex((l) => l.msg === 'engine: hot paths warmed before the listeners open');
  assert.ok(warm >= 0, 'the pre-warm log line');
  const { kind, calls, completed } = p.lines[warm]! as { kind?: string; calls?: number; completed?: number };
  assert.equal(kind, 'loopback');
  // It stops starting calls after 3 s (a loaded machine may not get through all 300). A call counts as completed
  // when it ends within its 2 s; on a machine loaded enough one may not, so the count is bounded, not exact (the
  // warm-up's own tests check that nothing of it stays open).
  assert.ok(calls !== undefined && calls > 0 && calls <= 300, `calls: ${calls}`);
  assert.ok(completed !== undefined && completed > 0 && completed <= calls, `completed ${completed} of ${calls}`);
  assert.equal(p.lines.filter((l) => l.code === 'ERR_ENGINE_PREWARM').length, 0);
  const started = p.lines.findIndex((l) => l.msg === 'engine started');
  assert.ok(started > warm, 'the listeners open after the pre-warm');
});

const udp = udpPeer;

let n = 0;
function request(o: { method?: string; uri: string; host: string; port: number; proto?: 'UDP' | 'TCP'; extra?: string[]; contact?: boolean; via?: string }): { text: string; callId: string } {
  const i = ++n;
  const method = o.method ?? 'INVITE';
  const callId = `edge-${process.pid}-${i}`;
  const text = [`${method} ${o.uri} SIP/2.0`, `Via: SIP/2.0/${o.proto ?? 'UDP'} ${o.via ?? `${o.host}:${o.port}`};branch=z9hG4bKedge${i}`,
    `From: <sip:1000@${o.host}>;tag=e${i}`, `To: <${o.uri}>`, `Call-ID: ${callId}`, `CSeq: 1 ${method}`,
    ...(o.contact === false ? [] : [`Contact: <sip:1000@${o.host}:${o.port}>`]), ...(o.extra ?? []), 'Content-Length: 0', '', ''].join('\r\n');
  return { text, callId };
}

async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const finalOf = (msgs: string[], callId: string): string | undefined =>
  msgs.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m) && m.includes(`Call-ID: ${callId}`));

test('npm start: an open-relay attempt never reaches the foreign host, over UDP and TCP; it gets the policy\'s 403 and a CDR', async (t) => {
  const { p, sipPort } = await rig();
  const foreign = await udp(t, '127.0.0.9');
  const route = [`Route: <sip:127.0.0.1:${sipPort};lr>`, 'Max-Forwards: 70'];
  const uri = `sip:011442071234567@127.0.0.9:${foreign.port}`;

  const caller = await udp(t, '127.0.0.1');
  const viaUdp = request({ uri, host: '127.0.0.1', port: caller.port, extra: route });
  caller.s.send(viaUdp.text, sipPort, '127.0.0.1');
  await until(() => finalOf(caller.got, viaUdp.callId) !== undefined, 'the UDP answer');
  const udpFinal = finalOf(caller.got, viaUdp.callId)!;
  // The international number is refused by its category, as the policy decides for any caller of this tenant.
  assert.match(udpFinal, /^SIP\/2\.0 403 /);
  assert.match(header(udpFinal, 'Reason'), /^SIP;cause=403;text=".*international/);

  const c = connect({ host: '127.0.0.1', port: sipPort, localAddress: '127.0.0.1' });
  let tcpIn = '';
  c.on('data', (d) => (tcpIn += d.toString()));
  await once(c, 'connect');
  t.after(() => c.destroy());
  const viaTcp = request({ uri, host: '127.0.0.1', port: (c.address() as { port: number }).port, proto: 'TCP', extra: route });
  c.write(viaTcp.text);
  await until(() => /SIP\/2\.0 403 /.test(tcpIn) && tcpIn.includes(viaTcp.callId), 'the TCP answer');
  assert.match(tcpIn, /\r\nReason: SIP;cause=403;text="[^"\r\n]*international/i, 'refused by the policy, not as a stranger');

  assert.equal(foreign.got.length, 0, 'the foreign host received nothing');
  await p.waitFor((l) => l.msg === 'cdr' && (l.cdr as { callId?: string }).callId === viaUdp.callId, 5000);
  await p.waitFor((l) => l.msg === 'cdr' && (l.cdr as { callId?: string }).callId === viaTcp.callId, 5000);
});

test('npm start: Max-Forwards 0 gets 483, 1 reaches the far end as 0; OPTIONS to the gateway gets 200 with Allow', async (t) => {
  const { sipPort, far } = await rig();
  const a = await ua(t);
  const zero = await placeCall(a, sipPort, '3001', ['Max-Forwards: 0']);
  assert.match(zero.final, /^SIP\/2\.0 483 /);
  const one = await placeCall(a, sipPort, '3002', ['Max-Forwards: 1']);
  assert.match(one.final, /^SIP\/2\.0 200 /);
  const bInvite = await within(far, /^INVITE /, 3000);
  assert.equal(header(bInvite.msg, 'Max-Forwards'), '0');

  const o = await udp(t, '127.0.0.1');
  const options = request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${sipPort}`, host: '127.0.0.1', port: o.port, extra: ['Max-Forwards: 70'] });
  o.s.send(options.text, sipPort, '127.0.0.1');
  await until(() => finalOf(o.got, options.callId) !== undefined, 'the OPTIONS answer');
  const ok = finalOf(o.got, options.callId)!;
  assert.match(ok, /^SIP\/2\.0 200 /);
  assert.match(header(ok, 'Allow'), /INVITE/);
});

test('npm start: an untrusted source gets 403 with its Reason; an INVITE without Contact gets 400; no response goes to a maddr', async (t) => {
  const { sipPort } = await rig();
  const bad = await udp(t, '127.0.0.2');
  const r1 = request({ uri: `sip:3001@127.0.0.1:${sipPort}`, host: '127.0.0.2', port: bad.port, extra: ['Max-Forwards: 70'] });
  bad.s.send(r1.text, sipPort, '127.0.0.1');
  await until(() => finalOf(bad.got, r1.callId) !== undefined, 'the 403');
  assert.match(finalOf(bad.got, r1.callId)!, /^SIP\/2\.0 403 /);
  assert.equal(header(finalOf(bad.got, r1.callId)!, 'Reason'), 'SIP;cause=403;text="untrusted source"');

  const good = await udp(t, '127.0.0.1');
  const third = await udp(t, '127.0.0.4');
  const r2 = request({ uri: `sip:3001@127.0.0.1:${sipPort}`, host: '127.0.0.1', port: good.port, contact: false, extra: ['Max-Forwards: 70'],
    via: `127.0.0.1:${third.port};maddr=127.0.0.4` });
  good.s.send(r2.text, sipPort, '127.0.0.1');
  await until(() => finalOf(good.got, r2.callId) !== undefined, 'the 400');
  assert.match(finalOf(good.got, r2.callId)!, /^SIP\/2\.0 400 Missing Contact/);
  assert.equal(third.got.length, 0, 'nothing went to the maddr');
});
