// Registrations through the gateway (RFC 3327 Path, RFC 5626 flows) against kamailio as registrar (digest, usrloc
// in memory, `use_path`), trunkgate started as `npm start` starts it:
//   phone (TCP, tenant phones) → REGISTER → gateway adds Path <sip:TOKEN@gw;lr;ob> → kamailio keeps the binding;
//   caller (UDP) → INVITE sip:phone1@reg.test → kamailio → lookup → Route: the Path → gateway → verifies the token
//   → the phone, over the connection it registered on; again after a refresh on that connection, and after the phone
//   reconnects and registers again; a REGISTER from a tenant without the relay, or from an untrusted source, is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { kamailioVersion, startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { callReachesPhone, messageReachesPhone } from '../../support/kamailio/relay-caller.js';
import { headerOf, registerPhone, statusOf, TcpPhone } from '../../support/kamailio/tcp-phone.js';
import { ua } from '../../support/mini-ua.js';
import { freePort } from '../../support/sipp.js';
import { profilesDir, startTrunkgate, type TrunkgateProcess } from '../../support/trunkgate-process.js';

interface Rig { gw: TrunkgateProcess; kam: KamailioProcess; phonesPort: number; registrarPort: number; adminPort: number; ctl: string }

async function rig(t: TestContext): Promise<Rig> {
  const ctlDir = mkdtempSync(join(tmpdir(), 'tg-kamctl-'));
  t.after(() => rmSync(ctlDir, { recursive: true, force: true }));
  const ctl = join(ctlDir, 'ctl.sock');
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tcp', host: '127.0.0.1', port: 0 }],
    route: { kind: 'registrar', realm: 'reg.test', users: { phone1: 'ph0ne-pw' }, callsTo: 'sip:phone1@reg.test', usePath: true, ctlSocket: ctl },
  });
  t.after(() => kam.stop());
  const [udpPort, phonesPort, registrarPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${udpPort} }]
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  phones:
    transport: tcp
    listen: { host: 127.0.0.1, port: ${phonesPort} }
    trustedSources: [127.0.0.1/32]
    registerRelay: { to: registrar, maxBindings: 4, maxExpires: 120 }
  registrar:
    transport: tcp
    listen: { host: 127.0.0.1, port: ${registrarPort} }
    sipServer: 127.0.0.1:${kam.port('tcp')}
dialPeers: []
`);
  const gw = await startTrunkgate(t, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  return { gw, kam, phonesPort, registrarPort, adminPort, ctl };
}

test(`REGISTER relay with Path through the gateway to kamailio ${kamailioVersion()}: calls to the AOR come back over the phone's connection`, { timeout: 60_000 }, async (t) => {
  const { gw, kam, phonesPort, registrarPort, adminPort, ctl } = await rig(t);
  const caller = await ua(t);
  const contact = 'sip:phone1@127.0.0.1:5999;transport=tcp';
  const callId = randomUUID();

  const phone = await TcpPhone.open(phonesPort);
  t.after(() => phone.close());
  const first = await registerPhone(phone, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId, cseq: 1, expires: 60 });
  assert.equal(statusOf(first.answer), 200, first.answer);
  // kamailio's log comes through a pipe and may trail its answer.
  // kamailio stored the binding with the gateway's Path.
  const path = await kam.waitForLog(/tg-registered aor=sip:phone1@reg\.test contact=<sip:phone1@127\.0\.0\.1:5999;transport=tcp> expires=60 path=<sip:([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)@127\.0\.0\.1:(\d+);transport=tcp;lr;ob>/);
  assert.equal(Number(path[2]), registrarPort, 'the Path names the gateway on the registrar tenant\'s listener');
  // kamailio's location table itself (usrloc over its ctl socket): the binding with that Path.
  const location = execFileSync('kamcmd', ['-s', `unix:${ctl}`, 'ul.dump'], { encoding: 'utf8', timeout: 5_000 });
  assert.match(location, /AoR: phone1(@reg\.test)?/, location);
  assert.ok(location.includes(`Path: <sip:${path[1]}@127.0.0.1:${registrarPort};transport=tcp;lr;ob>`), location);

  // kamailio → Route <Path> → the gateway → the phone over its own connection (the phone listens nowhere).
  const invite = await callReachesPhone(caller, kam, phone, contact);
  assert.match(invite.split('\r\n')[0]!, new RegExp(`^INVITE sip:phone1@127\\.0\\.0\\.1:${phone.localPort};transport=tcp SIP/2\\.0`));
  assert.notEqual(headerOf(invite, 'Call-ID'), '', 'a B leg of the gateway');
  assert.equal(headerOf(invite, 'Record-Route'), '', 'the gateway is the phone\'s peer (a B2BUA leg), not a proxy on the path');

  // A MESSAGE to the address-of-record: proxied to the phone over its connection, its 200 back to the sender.
  const message = await messageReachesPhone(caller, kam, phone, 'hello over the flow');
  assert.match(message, /\r\n\r\nhello over the flow$/);
  assert.match(message.split('\r\n')[0]!, new RegExp(`^MESSAGE sip:phone1@127\\.0\\.0\\.1:${phone.localPort};transport=tcp `));

  // A refresh on the same connection, then a call again.
  const refresh = await registerPhone(phone, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId, cseq: first.cseq + 1, expires: 60 });
  assert.equal(statusOf(refresh.answer), 200, refresh.answer);
  await callReachesPhone(caller, kam, phone, contact);

  // The phone loses its connection, opens a new one and registers again: calls follow the new flow.
  phone.close();
  const again = await TcpPhone.open(phonesPort);
  t.after(() => again.close());
  const moved = await registerPhone(again, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId, cseq: refresh.cseq + 1, expires: 60 });
  assert.equal(statusOf(moved.answer), 200, moved.answer);
  await callReachesPhone(caller, kam, again, contact);

  // Each call is a call of the registrar tenant to the phones tenant, with its CDR.
  await gw.waitFor(() => gw.lines.filter((l) => l.msg === 'cdr').length >= 3, 5_000);
  for (const c of gw.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>)) {
    assert.deepEqual([c.tenantIn, c.tenantOut, c.dialPeer, c.calledNumber, c.status], ['registrar', 'phones', 'registered:phones', 'phone1', 200]);
  }

  const stats = await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).json() as { b2bua?: { registerRelay?: Record<string, number> } };
  const relay = JSON.stringify(stats).match(/"registerRelay":\{[^}]*\}/)?.[0] ?? '';
  assert.match(relay, /"routed":4/, relay);
  assert.match(relay, /"bindings":[12]\b/, relay);

  // Default deny: a REGISTER on the registrar tenant's listener (a tenant without the relay) is refused with a Reason.
  const other = await TcpPhone.open(registrarPort);
  t.after(() => other.close());
  const refused = await registerPhone(other, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId: randomUUID(), cseq: 1, expires: 60 });
  assert.equal(statusOf(refused.answer), 403, refused.answer);
  assert.match(headerOf(refused.answer, 'Reason'), /cause=403;text="REGISTER is not relayed for tenant registrar"/);
  await gw.waitFor((l) => l.code === 'ERR_B2BUA_REGISTER_REFUSED', 5_000);

  // A request to a binding whose token was tampered with (a character of its signature changed): 403, nothing sent.
  const token = path[1]!;
  const at = token.length - 5;
  const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
  other.send([
    `INVITE sip:phone1@127.0.0.1:5999;transport=tcp SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:${other.localPort};branch=z9hG4bKforged1;rport`,
    `Route: <sip:${forged}@127.0.0.1:${registrarPort};transport=tcp;lr;ob>`,
    'Max-Forwards: 70', 'From: <sip:caller@127.0.0.1>;tag=f1', 'To: <sip:phone1@reg.test>', `Call-ID: ${randomUUID()}`, 'CSeq: 1 INVITE',
    `Contact: <sip:caller@127.0.0.1:${other.localPort};transport=tcp>`, 'Content-Length: 0', '', '',
  ].join('\r\n'));
  const forbidden = await other.next(/^SIP\/2\.0 403 /);
  assert.match(headerOf(forbidden, 'Reason'), /text="flow token forged"/);
  await gw.waitFor((l) => l.code === 'ERR_B2BUA_FLOW_TOKEN_INVALID', 5_000);

  // From an address the phones tenant does not trust: the engine's 403, before any app.
  const stranger = await TcpPhone.open(phonesPort, '127.0.0.2');
  t.after(() => stranger.close());
  const untrusted = await registerPhone(stranger, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId: randomUUID(), cseq: 1, expires: 60 });
  assert.equal(statusOf(untrusted.answer), 403, untrusted.answer);
  assert.equal(kam.requests().filter((r) => r.method === 'REGISTER').length, 6, 'only the phone\'s REGISTERs (three, each challenged once) reached kamailio');
});
