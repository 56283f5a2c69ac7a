import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import {
  ControlServer, ENGINE_VERSION, encodeFrame, FrameDecoder, formatStackTime, type AppConnection, type AppProxyCommand,
  type AppSipCommand, type EngineCore,
} from '../../src/engine/index.js';

const SECRET = 'cymru-test';
const HOSTPORTS = ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060'];
const LOCAL = ['udp/127.0.0.1:5060'];

/** Stands in for the SIP core: records commands; a test may hook onAppSip. */
class FakeCore implements EngineCore {
  sip: AppSipCommand[] = [];
  proxy: AppProxyCommand[] = [];
  gone: string[] = [];
  onSip: ((cmd: AppSipCommand) => void) | undefined;
  onAppSip(cmd: AppSipCommand): void {
    this.sip.push(cmd);
    this.onSip?.(cmd);
  }
  onAppProxy(cmd: AppProxyCommand): void {
    this.proxy.push(cmd);
  }
  onAppDisconnected(connId: string): void {
    this.gone.push(connId);
  }
  hostports() {
    return { hostports: HOSTPORTS, localHostports: LOCAL };
  }
}

async function startServer(t: TestContext, opts: { maxFrameBytes?: number; maxConnections?: number; maxApps?: number } = {}) {
  const core = new FakeCore();
  const logs: { code?: string }[] = [];
  const log = pino({ level: 'debug' }, new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(JSON.parse(chunk.toString()));
      cb();
    },
  }));
  const server = new ControlServer({ core, secret: SECRET, port: 0, log, ...opts });
  t.after(() => server.close());
  const stats = { pings: 0 };
  server.on('connection', (c) => c.on('message', (m) => {
    if (m.type === 'ping') stats.pings++;
  }));
  const { port } = await server.listen();
  const codes = () => logs.map((l) => l.code).filter((c) => c !== undefined);
  return { core, server, port, codes, stats };
}

interface SrfInternals {
  _app: { client: { mapServer: Map<Socket, unknown>; wp: { closing?: boolean; pingInterval: number; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } };
}

/** Ends a drachtio-srf connection for good (no reconnect timer left behind). */
function stopSrf(srf: Srf): void {
  const wp = (srf as unknown as SrfInternals)._app.client.wp;
  wp.closing = true;
  if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
  try {
    srf.disconnect();
  } catch {
    // no socket up
  }
}

/**
 * The parts of drachtio-srf this test drives, typed loosely: its bundled typings omit `enablePing`,
 * `srf.options()` and the callback form of `srf.request()`, all of which the library has.
 */
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null, hostport: string, version: string, local: string) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string; enablePing?: boolean }): void;
  invite(fn: (req: SrfReq, res: SrfRes) => void): void;
  options(fn: (req: SrfReq, res: SrfRes) => void): void;
  request(uri: string, opts: { method: string }, cb: (err: Error | null, req: SrfReq) => void): void;
}
interface SrfReq {
  receivedOn?: string;
  get(h: string): string;
  on(e: 'response', f: (r: { status: number }) => void): void;
}
interface SrfRes {
  send(status: number, reason?: string): void;
}

/** A real drachtio-srf app connecting to the server; resolves with what its 'connect' event carried. */
async function connectSrf(t: TestContext, port: number, secret = SECRET, setup?: (srf: LooseSrf) => void) {
  const real = new Srf();
  const srf = real as unknown as LooseSrf;
  srf.on('error', () => undefined);
  setup?.(srf);
  const connected = new Promise<{ err: Error | null; hostport: string; version: string; local: string }>((resolve) => {
    srf.on('connect', (err, hostport, version, local) => resolve({ err, hostport, version, local }));
  });
  srf.connect({ host: '127.0.0.1', port, secret, enablePing: true });
  // srf's minimum ping interval is 5 s; shorten it so the test sees pings without waiting
  (real as unknown as SrfInternals)._app.client.wp.pingInterval = 30;
  t.after(() => stopSrf(real));
  return { srf, connected: await withTimeout(connected, 5_000, 'srf connect') };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/** Polls `cond` every 10 ms; fails after 5 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function rawClient(t: TestContext, port: number): Promise<Socket & { payloads: string[] }> {
  const s = connect({ host: '127.0.0.1', port }) as Socket & { payloads: string[] };
  s.payloads = [];
  const dec = new FrameDecoder();
  s.on('data', (b) => s.payloads.push(...dec.push(b).frames));
  s.on('error', () => undefined);
  t.after(() => s.destroy());
  await once(s, 'connect');
  return s;
}

test('a real drachtio-srf app connects, gets the hostports and version, routes its verbs, and pings', async (t) => {
  // drachtio-srf skips its version check under NODE_ENV=test; lift that so the check itself is exercised
  const savedEnv = process.env.NODE_ENV;
  delete process.env.NODE_ENV;
  t.after(() => {
    if (savedEnv !== undefined) process.env.NODE_ENV = savedEnv;
  });
  const { server, port, stats } = await startServer(t);
  const { srf, connected } = await connectSrf(t, port, SECRET, (s) => {
    s.invite(() => undefined);
    s.options(() => undefined);
  });
  assert.equal(connected.err, null);
  assert.equal(connected.hostport, HOSTPORTS.join(','));
  assert.equal(connected.version, ENGINE_VERSION);
  assert.equal(connected.local, LOCAL.join(','));
  const [connId] = server.registry.connIds();
  assert.ok(connId);
  await until(() => server.registry.routesOf(connId).length === 2, 'routes');
  assert.deepEqual(server.registry.routesOf(connId).sort(), ['invite', 'options']);
  assert.equal(server.registry.selectApp('INVITE'), connId);

  // srf pings (the version starts with v); its own socket receives the pongs
  const srfSocket = [...(srf as unknown as SrfInternals)._app.client.mapServer.keys()][0]!;
  const dec = new FrameDecoder();
  let pongs = 0;
  srfSocket.on('data', (b: Buffer) => {
    for (const p of dec.push(b).frames) if (/^[^|]+\|response\|[^|]+\|OK\|pong$/.test(p)) pongs++;
  });
  await until(() => stats.pings >= 2 && pongs >= 2, 'two pings answered');
  assert.equal(server.connectionCount, 1, 'still connected after the pongs');
});

test('an INVITE delivered to srf is answered through the core, and srf requests get their echo', async (t) => {
  const { server, port, core } = await startServer(t);
  const { srf } = await connectSrf(t, port, SECRET, (s) => {
    s.invite((req, res) => {
      assert.equal(req.get('X-Trunkgate-Peer'), 'tenant=acme;verified=1');
      assert.equal(req.receivedOn, '127.0.0.1:5060');
      res.send(486, 'Busy Here');
    });
  });
  const connId = server.registry.connIds()[0]!;
  await until(() => server.registry.selectApp('invite') !== undefined, 'invite route');

  const invite = [
    'INVITE sip:+15551234567@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1;rport=5090',
    'From: "Zoë" <sip:1000@127.0.0.1:5090>;tag=f1',
    'To: <sip:+15551234567@127.0.0.1:5060>',
    'Call-ID: call-1@127.0.0.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:1000@127.0.0.1:5090>',
    'X-Trunkgate-Peer: tenant=acme;verified=1',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
  server.registry.sendSip(connId, {
    source: 'network', protocol: 'udp', address: '127.0.0.1', port: 5090, transactionId: 'txn-inv-1', dialogId: '',
    recvAddr: '127.0.0.1', recvPort: 5060,
  }, invite);
  await until(() => core.sip.length >= 1, 'the 486 from srf');
  const res = core.sip[0]!;
  assert.equal(res.transactionId, 'txn-inv-1');
  assert.equal(res.dialogId, '');
  assert.match(res.sip, /^SIP\/2\.0 486 Busy Here\r\n/);
  assert.match(res.sip, /Call-ID: call-1@127\.0\.0\.1/i);

  // an out-of-dialog request from srf: the core echoes it as sent, then a response arrives on its transaction
  core.onSip = (cmd) => {
    if (!cmd.sip.startsWith('OPTIONS')) return;
    const sent = [
      'OPTIONS sip:carrier@127.0.0.1:5070 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKecho1;rport',
      'From: <sip:127.0.0.1:5060>;tag=tgF',
      'To: <sip:carrier@127.0.0.1:5070>',
      'Call-ID: tg-opt-1',
      'CSeq: 77 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '', '',
    ].join('\r\n');
    server.registry.reply(cmd.connId, cmd.msgId,
      ['OK', 'application', String(Buffer.byteLength(sent)), 'udp', '127.0.0.1', '5060', formatStackTime(new Date()), 'txn-opt-1', 'Msg sent:', ''],
      sent);
    const ok = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKecho1;rport=5060', 'From: <sip:127.0.0.1:5060>;tag=tgF',
      'To: <sip:carrier@127.0.0.1:5070>;tag=c1', 'Call-ID: tg-opt-1', 'CSeq: 77 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    setImmediate(() => server.registry.sendSip(cmd.connId,
      { source: 'network', protocol: 'udp', address: '127.0.0.1', port: 5070, transactionId: 'txn-opt-1', dialogId: '' }, ok));
  };
  const status = await withTimeout(new Promise<number>((resolve, reject) => {
    srf.request('sip:carrier@127.0.0.1:5070', { method: 'OPTIONS' }, (err, req) => {
      if (err) return reject(err);
      assert.equal(req.get('Call-ID'), 'tg-opt-1');
      req.on('response', (r) => resolve(r.status));
    });
  }), 5_000, 'OPTIONS response');
  assert.equal(status, 200);
});

test('a wrong secret is refused: srf gets a connect error and the connection is closed', async (t) => {
  const { server, port, codes, core } = await startServer(t);
  const { connected } = await connectSrf(t, port, 'not-the-secret');
  assert.ok(connected.err instanceof Error);
  assert.equal(server.registry.size, 0);
  await until(() => codes().includes('ERR_ENGINE_AUTH_FAILED'), 'auth failure log');
  assert.deepEqual(core.gone, []);
});

test('an oversized frame closes that connection; the server keeps serving others', async (t) => {
  const { server, port, codes } = await startServer(t, { maxFrameBytes: 4096 });
  const bad = await rawClient(t, port);
  bad.write(encodeFrame('a1|authenticate|cymru-test|'));
  bad.write(`${4097}#`);
  await withTimeout(once(bad, 'close'), 5_000, 'oversized close');
  assert.deepEqual(bad.payloads.map((p) => p.split('|').slice(2, 4)), [['a1', 'OK']]);
  assert.ok(codes().includes('ERR_ENGINE_FRAME_TOO_LARGE'));
  const { connected } = await connectSrf(t, port);
  assert.equal(connected.err, null);
  assert.equal(server.registry.size, 1);
});

test('garbage bytes close that connection and crash nothing; 13 KB frames are served', async (t) => {
  const { server, port, codes } = await startServer(t);
  const garbage = await rawClient(t, port);
  garbage.write(Buffer.from([0xff, 0x00, 0x23, 0x7c, 0x0d, 0x0a, 0x99]));
  await withTimeout(once(garbage, 'close'), 5_000, 'garbage close');
  assert.ok(codes().includes('ERR_ENGINE_FRAME_BAD_LENGTH'));

  const big = await rawClient(t, port);
  big.write(encodeFrame('a1|authenticate|cymru-test|'));
  big.write(encodeFrame(`u1|frobnicate|${'x'.repeat(13_000)}`));
  big.write(encodeFrame('p1|ping'));
  await until(() => big.payloads.length >= 3, 'three replies');
  assert.deepEqual(big.payloads.map((p) => p.split('|')[3]), ['OK', 'NOK', 'OK']);
  assert.equal(server.connectionCount, 1);
});

test('close() is idempotent and ends every app connection', async (t) => {
  const { server, port, core } = await startServer(t);
  await connectSrf(t, port);
  const raw = await rawClient(t, port);
  const closed = once(raw, 'close');
  await Promise.all([server.close(), server.close()]);
  await withTimeout(closed, 5_000, 'raw client closed');
  assert.equal(server.connectionCount, 0);
  assert.equal(core.gone.length, 1);
  await server.close();
});

test('past its most control connections, all held by apps, the listener closes a new one at accept, counted and logged once; a freed slot serves again', async (t) => {
  const { server, port, codes } = await startServer(t, { maxConnections: 2, maxApps: 2 });
  const a = await rawClient(t, port);
  const b = await rawClient(t, port);
  for (const app of [a, b]) app.write(encodeFrame('a1|authenticate|cymru-test|'));
  await until(() => server.registry.size === 2, 'two apps authenticated');
  const c = await rawClient(t, port);
  const d = await rawClient(t, port);
  await withTimeout(Promise.all([once(c, 'close'), once(d, 'close')]), 5_000, 'refused at accept');
  assert.equal(server.registry.counters()['controlConnectionsRefused'], 2);
  assert.equal(server.registry.counters()['controlUnauthenticatedEvicted'], 0, 'no app closed for them');
  assert.equal(server.registry.size, 2);
  assert.ok(codes().includes('ERR_ENGINE_CONTROL_CONN_LIMIT'), 'logged with its code');
  a.destroy();
  await until(() => server.connectionCount === 1, 'a slot freed');
  const e = await rawClient(t, port);
  e.write(encodeFrame('a1|authenticate|cymru-test|'));
  await until(() => e.payloads.length > 0, 'the new one is served');
  assert.equal(e.payloads[0]!.split('|')[3], 'OK');
  b.destroy();
});

/** Resolves when the server adopts its next connection. */
const nextAccept = (server: ControlServer): Promise<void> => new Promise((resolve) => server.once('connection', () => resolve()));

/** Opens `n` connections that send nothing, each accepted by the server before the next is opened. */
async function idleClients(t: TestContext, server: ControlServer, port: number, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const accepted = nextAccept(server);
    out.push(await rawClient(t, port));
    await withTimeout(accepted, 5_000, 'accept');
  }
  return out;
}

test('connections left idle in every slot do not lock the app out: the oldest is closed for it, and it authenticates', async (t) => {
  const { server, port, codes } = await startServer(t); // maxApps 1: 17 slots
  const idle = await idleClients(t, server, port, 17);
  assert.equal(server.connectionCount, 17);
  const oldestClosed = once(idle[0]!, 'close');
  const app = await rawClient(t, port);
  app.write(encodeFrame('a1|authenticate|cymru-test|'));
  await until(() => app.payloads.length > 0, 'the app is answered');
  assert.equal(app.payloads[0]!.split('|')[3], 'OK');
  assert.equal(server.registry.size, 1);
  await withTimeout(oldestClosed, 5_000, 'the oldest idle connection closed');
  assert.equal(idle.filter((s) => s.destroyed || s.readableEnded).length, 1, 'only the oldest');
  assert.equal(server.registry.counters()['controlUnauthenticatedEvicted'], 1);
  assert.equal(server.registry.counters()['controlConnectionsRefused'], 0);
  assert.ok(codes().includes('ERR_ENGINE_CONTROL_CONN_LIMIT'), 'logged with its code');

  // More idle connections while the app holds its slot: each takes an idle one's place, never the app's.
  await idleClients(t, server, port, 20);
  assert.equal(server.registry.size, 1);
  assert.equal(server.registry.counters()['controlUnauthenticatedEvicted'], 21);
  app.write(encodeFrame('p1|ping'));
  await until(() => app.payloads.length > 1, 'pong');
  assert.deepEqual(app.payloads[1]!.split('|').slice(2), ['p1', 'OK', 'pong']);
});

test('the oldest unauthenticated connection goes first: an app connected before fewer newcomers than the idle slots still authenticates', async (t) => {
  const { server, port } = await startServer(t, { maxConnections: 4 });
  const idle = await idleClients(t, server, port, 4);
  const accepted = nextAccept(server);
  const app = await rawClient(t, port);
  await withTimeout(accepted, 5_000, 'app accepted');
  // Three more before the app's authenticate is read: they take the places of the three oldest idle ones.
  await idleClients(t, server, port, 3);
  await until(() => idle.slice(0, 4).filter((s) => s.destroyed || s.readableEnded).length === 4, 'the four idle ones closed');
  assert.ok(!app.destroyed && !app.readableEnded, 'the app\'s connection is still open');
  app.write(encodeFrame('a1|authenticate|cymru-test|'));
  await until(() => app.payloads.length > 0, 'the app is answered');
  assert.equal(app.payloads[0]!.split('|')[3], 'OK');
  assert.equal(server.registry.size, 1);
  assert.equal(server.registry.counters()['controlUnauthenticatedEvicted'], 4);
});
