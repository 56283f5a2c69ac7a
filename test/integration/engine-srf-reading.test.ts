import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import Srf from 'drachtio-srf';
import { startEngine } from '../../src/engine/index.js';

/**
 * End to end, over UDP, through the engine to a drachtio-srf app: a request the app would read otherwise than the
 * engine (a %-escaped header name or method, a From tag written with a no-break space) is answered 400 by the
 * engine with a Reason naming the part, and never reaches the app; a plain request does, with the engine's own
 * peer header.
 */

interface SrfInternals {
  _app: { client: { wp: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } };
}
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null, hostport: string) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  use(fn: (req: { method: string; get(h: string): string | undefined }, res: unknown, next: () => void) => void): void;
  options(fn: (req: unknown, res: { send(status: number): void }) => void): void;
}

test('what drachtio-srf would read otherwise gets 400 from the engine and never reaches the app', async (t) => {
  const engine = await startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0, secret: 'rd' } });
  t.after(() => engine.close());
  const addr = engine.addresses()!;
  const port = addr.sip.find((l) => l.protocol === 'udp')!.port;

  const seen: string[] = [];
  const real = new Srf();
  const srf = real as unknown as LooseSrf;
  srf.on('error', () => undefined);
  srf.use((req, _res, next) => {
    seen.push(`${req.method} ${req.get('X-Trunkgate-Peer') ?? '-'}`);
    next();
  });
  srf.options((_req, res) => res.send(200));
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: '127.0.0.1', port: addr.control.port, secret: 'rd' });
  });
  t.after(() => {
    const wp = (real as unknown as SrfInternals)._app.client.wp;
    wp.closing = true;
    if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
    real.disconnect();
  });

  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  t.after(() => probe.close());
  const replies: string[] = [];
  probe.on('message', (b) => replies.push(b.toString('utf8')));
  let n = 0;
  /** Sends a request and waits up to 1 s for its final answer (by branch). */
  const send = async (opts: { method?: string; from?: string; extra?: readonly string[] } = {}): Promise<string | undefined> => {
    const branch = `z9hG4bKrd${++n}`;
    const method = opts.method ?? 'OPTIONS';
    const local = probe.address().port;
    probe.send(Buffer.from([`${method} sip:ping@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
      'Max-Forwards: 70', opts.from ?? `From: <sip:probe@127.0.0.1:${local}>;tag=p${n}`, `To: <sip:ping@127.0.0.1:${port}>`,
      `Call-ID: rd-${n}@127.0.0.1`, `CSeq: 1 ${method}`, ...(opts.extra ?? []), 'Content-Length: 0', '', ''].join('\r\n')), port, '127.0.0.1');
    for (let i = 0; i < 20; i++) {
      const r = replies.find((x) => x.includes(branch) && /^SIP\/2\.0 [2-6]/.test(x));
      if (r) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    return undefined;
  };

  // The app's route travels after 'connect': retry until it answers.
  let ok: string | undefined;
  for (let i = 0; i < 20 && !ok?.startsWith('SIP/2.0 200'); i++) ok = await send();
  assert.match(ok ?? '', /^SIP\/2\.0 200 /);
  const before = seen.length;

  for (const [opts, reason] of [
    [{ extra: ['%58-Trunkgate-Peer: tenant=bank;verified=1;transport=udp;origin=proxy;identities="sip:pbx.bank.example"'] },
      "header name '%58-Trunkgate-Peer' holds a %-escape"],
    [{ extra: ['Content%2DLength: 0'] }, "header name 'Content%2DLength' holds a %-escape"],
    [{ method: 'OPTION%53' }, "method 'OPTION%53' holds a %-escape"],
    [{ from: 'From: <sip:probe@127.0.0.1>;tag\u00a0=x|network|9|udp' }, 'From tag is not the one drachtio-srf reads'],
    [{ extra: ['Record-Route: <sip:p;x=<y>,;z>'] }, 'Record-Route: < inside <...>'],
  ] as const) {
    const r = await send(opts);
    assert.match(r ?? 'no answer', /^SIP\/2\.0 400 /, reason);
    assert.ok(r!.includes(`text="${reason}`), `${reason}\n${r}`);
  }
  assert.match((await send()) ?? '', /^SIP\/2\.0 200 /, 'still answering');
  const delivered = seen.slice(before);
  assert.equal(delivered.length, 1, `the app saw only the plain request: ${delivered.join(' / ')}`);
  assert.match(delivered[0]!, /^OPTIONS /);
  assert.doesNotMatch(delivered[0]!, /bank/, 'the peer header the app reads is the engine\'s');
});
