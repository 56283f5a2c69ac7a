import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import Srf from 'drachtio-srf';
import { startEngine, Engine, startEngineWorker } from '../../src/engine/index.js';

interface SrfInternals {
  _app: { client: { wp: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } };
}
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null, hostport: string) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  options(fn: (req: unknown, res: { send(status: number, opts?: unknown): void }) => void): void;
}

async function srfApp(port: number, secret: string, setup: (s: LooseSrf) => void): Promise<{ hostport: string; stop(): void }> {
  const real = new Srf();
  const srf = real as unknown as LooseSrf;
  srf.on('error', () => undefined);
  setup(srf);
  const hostport = await new Promise<string>((resolve, reject) => {
    srf.on('connect', (err, hp) => (err ? reject(err) : resolve(hp)));
    srf.connect({ host: '127.0.0.1', port, secret });
  });
  return {
    hostport,
    stop: () => {
      const wp = (real as unknown as SrfInternals)._app.client.wp;
      wp.closing = true;
      if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
      try {
        real.disconnect();
      } catch {
        // no socket up
      }
    },
  };
}

function options(port: number, localPort: number, branch: string): Buffer {
  return Buffer.from([`OPTIONS sip:ping@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${branch};rport`,
    'Max-Forwards: 70', `From: <sip:probe@127.0.0.1:${localPort}>;tag=p1`, `To: <sip:ping@127.0.0.1:${port}>`,
    `Call-ID: ${branch}@127.0.0.1`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
}

async function udpProbe(): Promise<UdpSocket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

test('engine with its SIP core: an srf app answers an OPTIONS that arrived over UDP', async (t) => {
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    control: { port: 0, secret: 's3cret' },
  });
  t.after(() => engine.close());
  const addr = engine.addresses()!;
  const udp = addr.sip.find((l) => l.protocol === 'udp')!;
  const app = await srfApp(addr.control.port, 's3cret', (s) => s.options((_req, res) => res.send(200, { headers: { 'X-App': 'yes' } })));
  t.after(() => app.stop());
  assert.ok(app.hostport.split(',').includes(`udp/127.0.0.1:${udp.port}`), app.hostport);

  const probe = await udpProbe();
  t.after(() => probe.close());
  // the route registration travels after 'connect'; resend until the app answers (bounded)
  let reply = '';
  probe.on('message', (b) => {
    reply = b.toString();
  });
  for (let i = 0; i < 50 && !/^SIP\/2\.0 200 /.test(reply); i++) {
    probe.send(options(udp.port, probe.address().port, `eng${i}`), udp.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(reply, /^SIP\/2\.0 200 /);
  assert.match(reply, /^X-App: yes$/m);
});

test('engine: close() is idempotent and frees every port; start() failing on a taken port leaves nothing open', async () => {
  const engine = new Engine({ listen: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }], control: { port: 0, secret: 'x' } });
  const addr = await engine.start();
  await Promise.all([engine.close(), engine.close()]);
  assert.equal(engine.state, 'closed');
  const again = createServer();
  again.listen(addr.control.port, '127.0.0.1');
  await once(again, 'listening');
  const taken = (again.address() as AddressInfo).port;
  const clash = new Engine({ listen: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }], control: { port: taken, secret: 'x' } });
  await assert.rejects(clash.start(), { code: 'ERR_ENGINE_LISTEN' });
  assert.equal(clash.state, 'closed');
  await new Promise<void>((r) => again.close(() => r()));
});

test('engine worker: starts in a worker thread, serves srf, closes and the thread ends', async (t) => {
  const w = await startEngineWorker({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0, secret: 'w' }, logLevel: 'silent',
  });
  t.after(() => w.close());
  const udp = w.ports.sip[0]!;
  assert.equal(udp.protocol, 'udp');
  const app = await srfApp(w.ports.control.port, 'w', () => undefined);
  t.after(() => app.stop());
  assert.equal(app.hostport, `udp/127.0.0.1:${udp.port}`);
  const exited = once(w.worker, 'exit');
  await Promise.all([w.close(), w.close()]);
  await exited;
});

test('a worker told to wait for listenWhen has its start bound counted from the listen message, not before', async (t) => {
  // The caller's own wait (here 4 s) is longer than the worker's start bound (2 s); the worker then starts
  // well inside that bound, so the start succeeds.
  const timeoutMs = 2_000;
  const held = new Promise<void>((r) => setTimeout(r, 4_000));
  const w = await startEngineWorker({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0, secret: 'w' }, logLevel: 'silent', timeoutMs,
  }, held);
  t.after(() => w.close());
  assert.equal(w.ports.sip[0]!.protocol, 'udp');
});

test('engine worker: a start failure rejects with ERR_ENGINE_WORKER and the engine code in details', async () => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const port = (blocker.address() as AddressInfo).port;
  try {
    await assert.rejects(
      startEngineWorker({ listen: [{ transport: 'tcp', host: '127.0.0.1', port }], control: { port: 0, secret: 'w' }, logLevel: 'silent' }),
      (e: { code?: string; details?: { code?: string } }) => {
        assert.equal(e.code, 'ERR_ENGINE_WORKER');
        assert.match(e.details?.code ?? '', /^ERR_SIP_TRANSPORT/);
        return true;
      },
    );
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});
