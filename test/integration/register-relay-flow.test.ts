import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { freePort } from '../support/ports.js';

// Over the real engine and drachtio-srf: a phone registers through the gateway (Path with a flow token), the
// registrar calls it through the token, the phone de-registers, and the registrar's next INVITE with the same
// token gets 430 Flow Failed with a Reason; the phone's old address sees nothing more.

/** A response to `req` (its Via, From, To with a tag, Call-ID and CSeq) with `extra` headers. */
function reply(req: string, status: string, extra: string[] = []): string {
  const vias = req.split('\r\n').filter((l) => /^via:/i.test(l));
  const to = header(req, 'To');
  return [`SIP/2.0 ${status}`, ...vias, `From: ${header(req, 'From')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=r1`}`,
    `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`, ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

test('a flow token stops routing when its phone de-registers: 430 Flow Failed with a Reason, and the phone is not called', async (t) => {
  const paths: string[] = [];
  // The registrar: 200 to every REGISTER (its Contact back with expires, none for a removal); keeps the Path.
  const registrar = await ua(t, (msg, u, from) => {
    if (!msg.startsWith('REGISTER ')) return;
    paths.push(header(msg, 'Path'));
    const contact = header(msg, 'Contact');
    u.send(reply(msg, '200 OK', contact === '*' || contact === '' ? [] : [`Contact: ${contact};expires=300`]), from);
  });
  // The phone: busy to every call, so each call ends at once.
  const phoneInvites: string[] = [];
  const phone: Ua = await ua(t, (msg, u, from) => {
    if (msg.startsWith('INVITE ')) {
      phoneInvites.push(msg);
      u.send(reply(msg, '486 Busy Here'), from);
    }
  });
  const [phonesPort, registrarPort] = [await freePort(), await freePort()];
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: phonesPort, tenant: 'phones' }, { transport: 'udp', host: '127.0.0.1', port: registrarPort, tenant: 'registrar' }],
    control: { host: '127.0.0.1', port: 0, secret: 'relay-flow-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const policy: B2buaPolicy = {
    tenants: {
      phones: {
        transport: 'udp',
        registerRelay: { to: 'registrar', registrar: `127.0.0.1:${registrar.port}`, transport: 'udp', scheme: 'sip', path: { host: '127.0.0.1', port: registrarPort }, maxBindings: 4, maxExpires: 600 },
      },
      registrar: { transport: 'udp', sipServer: `127.0.0.1:${registrar.port}` },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: phonesPort, tenant: 'phones' }, { transport: 'udp', host: '127.0.0.1', port: registrarPort, tenant: 'registrar' }],
    categories: [], dialPeers: [],
  };
  const { log, records, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 'relay-flow-secret' }, policy, log });
  t.after(() => app.close());

  let cseq = 0;
  const register = async (contact: string, expires: number): Promise<string> => {
    const n = ++cseq;
    phone.send([`REGISTER sip:reg.test SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bKreg${n};rport`, 'Max-Forwards: 70',
      'From: <sip:phone1@reg.test>;tag=ph1', 'To: <sip:phone1@reg.test>', `Call-ID: reg-${process.pid}`, `CSeq: ${n} REGISTER`,
      `Contact: ${contact}`, `Expires: ${expires}`, 'Content-Length: 0', '', ''].join('\r\n'), phonesPort);
    return phone.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*CSeq: ${n} REGISTER`, 'm'));
  };
  let calls = 0;
  const callThrough = async (token: string): Promise<string> => {
    const callId = `relay-flow-${process.pid}-${++calls}`;
    registrar.send([`INVITE sip:phone1@127.0.0.1:${phone.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${registrar.port};branch=z9hG4bKinv${calls};rport`,
      `Route: <sip:${token}@127.0.0.1:${registrarPort};lr>`, 'Max-Forwards: 70', `From: <sip:2000@127.0.0.1:${registrar.port}>;tag=c${calls}`,
      'To: <sip:phone1@reg.test>', `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:2000@127.0.0.1:${registrar.port}>`,
      'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), registrarPort);
    return registrar.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'));
  };

  assert.match(await register(`<sip:phone1@127.0.0.1:${phone.port}>`, 300), /^SIP\/2\.0 200 /);
  const token = /^<sip:([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)@127\.0\.0\.1:\d+;lr;ob>/.exec(paths[0] ?? '')?.[1];
  assert.ok(token, `the Path names the gateway with a token: ${paths[0]}`);

  const busy = await callThrough(token);
  assert.match(busy, /^SIP\/2\.0 486 /, 'the call reached the phone while it was registered');
  assert.equal(phoneInvites.length, 1);

  assert.match(await register('*', 0), /^SIP\/2\.0 200 /);
  const gone = await callThrough(token);
  assert.match(gone, /^SIP\/2\.0 430 /, gone);
  assert.match(header(gone, 'Reason'), /^SIP;cause=430;text="no live binding of phones over udp 127\.0\.0\.1:\d+"$/);
  assert.equal(phoneInvites.length, 1, 'the old address is not called');
  assert.ok(records.some((l) => l.code === 'ERR_B2BUA_FLOW_FAILED'));
  assert.equal(app.stats().registerRelay?.refusedFlowFailed, 1);
  for (let i = 0; i < 100 && !cdrs.some((c) => c.status === 430); i++) await new Promise((ok) => setTimeout(ok, 10));
  assert.equal(cdrs.find((c) => c.status === 430)?.cause, 'flow-token:flow-failed');
});
