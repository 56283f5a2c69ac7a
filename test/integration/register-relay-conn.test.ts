import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { flowKey, signFlowToken, verifyFlowToken } from '../../src/b2bua/register-flow-token.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/until.js';

// Over the real engine and drachtio-srf: a phone registers over TCP through the gateway to a registrar, and the
// registrar's requests with the Path's flow token reach the phone over that connection. Its connection then closes
// and a new one comes from the same address and port (NAT port reuse): a MESSAGE with the old token gets 430 Flow
// Failed and nothing goes over the new connection. When the phone registers over the new connection, the old
// token gets 430 and the new one reaches it there (RFC 5626 §5.3: a flow is a connection).

const SECRET = 'relay-conn-secret';

/** A response to `req` (its Via, From, To with a tag, Call-ID and CSeq). */
function reply(req: string, status: string, extra: string[] = []): string {
  const vias = req.split('\r\n').filter((l) => /^via:/i.test(l));
  const to = header(req, 'To');
  return [`SIP/2.0 ${status}`, ...vias, `From: ${header(req, 'From')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=r1`}`,
    `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`, ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

/** A phone on one TCP connection from `localPort`: answers an INVITE 486 and a MESSAGE 200 over it. */
class Phone {
  readonly got: string[] = [];
  bytes = 0;
  #buf = '';
  #waiters: Array<{ re: RegExp; ok: (m: string) => void }> = [];
  private constructor(readonly socket: Socket) {
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      this.bytes += d.length;
      this.#buf += d.toString('latin1');
      for (let end = this.#buf.indexOf('\r\n\r\n'); end >= 0; end = this.#buf.indexOf('\r\n\r\n')) {
        const size = end + 4 + Number(/^content-length:\s*(\d+)/im.exec(this.#buf.slice(0, end))?.[1] ?? 0);
        if (this.#buf.length < size) return;
        const msg = this.#buf.slice(0, size);
        this.#buf = this.#buf.slice(size);
        if (msg.startsWith('INVITE ')) socket.write(reply(msg, '486 Busy Here'));
        if (msg.startsWith('MESSAGE ')) socket.write(reply(msg, '200 OK'));
        this.got.push(msg);
        this.#waiters.find((w) => w.re.test(msg))?.ok(msg);
      }
    });
  }
  static async open(t: TestContext, port: number, localPort: number): Promise<Phone> {
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1', localPort });
    t.after(() => s.destroy());
    await once(s, 'connect');
    return new Phone(s);
  }
  next(re: RegExp): Promise<string> {
    const seen = this.got.find((m) => re.test(m));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((ok) => this.#waiters.push({ re, ok }));
  }
}

/** The requests a phone got, but the ACKs of its answers. */
const requests = (p: Phone): string[] => p.got.map((m) => m.slice(0, m.indexOf(' '))).filter((m) => m !== 'SIP/2.0' && m !== 'ACK');

async function rig(t: TestContext) {
  const paths: string[] = [];
  const registrar: Ua = await ua(t, (msg, u, from) => {
    if (!msg.startsWith('REGISTER ')) return;
    paths.push(header(msg, 'Path'));
    u.send(reply(msg, '200 OK', [`Contact: ${header(msg, 'Contact')};expires=300`]), from);
  });
  const [phonesPort, registrarPort] = [await freePort(), await freePort()];
  const listen = [{ transport: 'tcp' as const, host: '127.0.0.1', port: phonesPort, tenant: 'phones' }, { transport: 'udp' as const, host: '127.0.0.1', port: registrarPort, tenant: 'registrar' }];
  const engine = await startEngine({ listen, control: { host: '127.0.0.1', port: 0, secret: SECRET } });
  t.after(() => engine.close());
  const policy: B2buaPolicy = {
    tenants: {
      phones: { transport: 'tcp', registerRelay: { to: 'registrar', registrar: `127.0.0.1:${registrar.port}`, transport: 'udp', scheme: 'sip', path: { host: '127.0.0.1', port: registrarPort }, maxBindings: 4, maxExpires: 600 } },
      registrar: { transport: 'udp', sipServer: `127.0.0.1:${registrar.port}` },
    },
    listeners: listen, categories: [], dialPeers: [],
  };
  const { log, records } = captureLog();
  const control = engine.addresses()!.control;
  const app = await startB2bua({ engine: { host: control.host, port: control.port, secret: SECRET }, policy, log });
  t.after(() => app.close());

  let n = 0;
  /** REGISTERs phone1 over `phone`'s connection (with a peer header of its own, which must not count): the token of its Path. */
  const register = async (phone: Phone): Promise<string> => {
    const p = phone.socket.localPort!;
    phone.socket.write([`REGISTER sip:reg.test SIP/2.0`, `Via: SIP/2.0/TCP 127.0.0.1:${p};branch=z9hG4bKreg${++n};rport`, 'Max-Forwards: 70',
      'From: <sip:phone1@reg.test>;tag=ph1', 'To: <sip:phone1@reg.test>', `Call-ID: conn-reg-${process.pid}`, `CSeq: ${n} REGISTER`,
      'X-Trunkgate-Peer: tenant=phones;verified=0;transport=tcp;conn=tcp-999.AAAAAAAA',
      `Contact: <sip:phone1@127.0.0.1:${p};transport=tcp>`, 'Expires: 300', 'Content-Length: 0', '', ''].join('\r\n'));
    assert.match(await phone.next(new RegExp(`^SIP/2\\.0 \\d+ [\\s\\S]*CSeq: ${n} REGISTER`)), /^SIP\/2\.0 200 /);
    const token = /^<sip:([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)@127\.0\.0\.1:\d+;lr;ob>/.exec(paths.at(-1) ?? '')?.[1];
    assert.ok(token, `the Path names the gateway with a token: ${paths.at(-1)}`);
    return token;
  };
  /** The registrar's `method` to phone1 through `token`: its final response. */
  const send = async (method: 'INVITE' | 'MESSAGE', token: string): Promise<string> => {
    const callId = `conn-${method}-${process.pid}-${++n}`;
    const body = method === 'INVITE' ? sdp : 'hello';
    registrar.send([`${method} sip:phone1@reg.test SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${registrar.port};branch=z9hG4bKr${n};rport`,
      `Route: <sip:${token}@127.0.0.1:${registrarPort};lr>`, 'Max-Forwards: 70', `From: <sip:2000@127.0.0.1:${registrar.port}>;tag=c${n}`,
      'To: <sip:phone1@reg.test>', `Call-ID: ${callId}`, `CSeq: 1 ${method}`, `Contact: <sip:2000@127.0.0.1:${registrar.port}>`,
      `Content-Type: ${method === 'INVITE' ? 'application/sdp' : 'text/plain'}`, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'), registrarPort);
    return registrar.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'));
  };
  const connectionsFrom = (port: number) => engine.transport.connections().filter((c) => c.remotePort === port && c.state === 'open');
  return { engine, app, records, phonesPort, register, send, connectionsFrom };
}

test('a relayed phone\'s flow is its TCP connection: a new connection from its address and port gets nothing with the old token', async (t) => {
  const { app, records, phonesPort, register, send, connectionsFrom } = await rig(t);
  const localPort = await freePort();
  const phone = await Phone.open(t, phonesPort, localPort);
  const token = await register(phone);
  const check = verifyFlowToken(flowKey(SECRET), token, Math.floor(Date.now() / 1000));
  assert.ok(check.ok);
  assert.equal(check.flow.port, localPort);
  assert.equal(check.flow.conn?.split('.')[0], connectionsFrom(localPort)[0]?.id, 'the engine\'s name of the connection, not the phone\'s own header');
  assert.notEqual(check.flow.conn, 'tcp-999.AAAAAAAA');

  assert.match(await send('MESSAGE', token), /^SIP\/2\.0 200 /, 'the MESSAGE reached the phone over its connection');
  assert.match(await send('INVITE', token), /^SIP\/2\.0 486 /, 'the INVITE reached the phone over its connection');
  assert.deepEqual(requests(phone), ['MESSAGE', 'INVITE']);

  // A token of the same flow signed without a connection (as before tokens named one): 430, the phone hears nothing.
  const old = signFlowToken(flowKey(SECRET), { transport: 'tcp', address: '127.0.0.1', port: localPort, tenant: 'phones', until: check.flow.until });
  const unnamed = await send('INVITE', old);
  assert.match(unnamed, /^SIP\/2\.0 430 /, unnamed);
  assert.equal(header(unnamed, 'Reason'), `SIP;cause=430;text="the token names no connection of phones over tcp 127.0.0.1:${localPort}"`);
  assert.deepEqual(requests(phone), ['MESSAGE', 'INVITE']);

  // The phone's connection is gone (reset, as a NAT drops it); another comes from the same address and port.
  phone.socket.resetAndDestroy();
  await until(() => connectionsFrom(localPort).length === 0, 'the engine to see the connection gone');
  const intruder = await Phone.open(t, phonesPort, localPort);
  await until(() => connectionsFrom(localPort).length === 1, 'the engine to take the new connection');

  const refused = await send('MESSAGE', token);
  assert.match(refused, /^SIP\/2\.0 430 Flow Failed/, refused);
  assert.equal(header(refused, 'Reason'), `SIP;cause=430;text="the connection for tcp 127.0.0.1:${localPort} is closed"`);
  assert.equal(intruder.bytes, 0, 'nothing over the new connection');
  assert.equal(connectionsFrom(localPort).length, 1, 'and no connection opened to the phone\'s address');
  await until(() => app.stats().registerRelay?.refusedFlowFailed === 2, 'the relay to count the refusal');
  assert.ok(records.some((l) => l.code === 'ERR_B2BUA_FLOW_FAILED'));
  // An INVITE with the old token too: the engine answers the B leg 430, the registrar gets it with its Reason.
  const call = await send('INVITE', token);
  assert.match(call, /^SIP\/2\.0 430 /, call);
  assert.equal(header(call, 'Reason'), `SIP;cause=430;text="the connection for tcp 127.0.0.1:${localPort} is closed"`);
  assert.equal(intruder.bytes, 0, 'nothing over the new connection');
  await until(() => app.stats().registerRelay?.refusedFlowFailed === 3, 'the relay to count the refusal');

  // The phone registers again over its new connection: the new token reaches it there, the old one gets 430.
  const again = await register(intruder);
  assert.notEqual(again, token);
  assert.match(await send('INVITE', token), /^SIP\/2\.0 430 /);
  assert.match(await send('INVITE', again), /^SIP\/2\.0 486 /);
  assert.deepEqual(requests(intruder), ['INVITE']);
  assert.equal(app.stats().registerRelay?.refusedFlowFailed, 4);
});
