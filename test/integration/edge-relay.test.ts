/**
 * The edge rules over real sockets with a real drachtio-srf app on the engine: no request is relayed outside a
 * dialog an app proxied (the "foreign host" socket receives nothing), Max-Forwards, OPTIONS, Contact, the app's
 * answer time, one app only, and an app's death ending its calls. UDP and TCP where the rule is per transport.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket as TcpSocket } from 'node:net';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { srfApp as srfAppWith } from './engine-relay-support.js';

type Proto = 'udp' | 'tcp';
const SECRET = 'edge';
const srfApp = (port: number, setup: Parameters<typeof srfAppWith>[1]): Promise<{ stop(): void }> => srfAppWith(port, setup, SECRET);

/** A raw SIP peer over UDP or TCP: sends text, collects every message it receives. */
class Peer {
  readonly messages: string[] = [];
  #buf = '';
  #waiters: (() => void)[] = [];
  private constructor(readonly proto: Proto, readonly port: number, readonly send: (text: string) => void, readonly close: () => void) {}

  static async open(proto: Proto, enginePort: number): Promise<Peer> {
    if (proto === 'udp') {
      const s: UdpSocket = createSocket('udp4');
      s.bind(0, '127.0.0.1');
      await once(s, 'listening');
      const p = new Peer('udp', s.address().port, (t) => s.send(Buffer.from(t), enginePort, '127.0.0.1'), () => s.close());
      s.on('message', (b) => p.#push(b.toString('utf8')));
      return p;
    }
    const c: TcpSocket = connect(enginePort, '127.0.0.1');
    await once(c, 'connect');
    const p = new Peer('tcp', c.localPort!, (t) => c.write(t), () => c.destroy());
    c.on('data', (b) => p.#stream(b.toString('utf8')));
    c.on('error', () => undefined);
    return p;
  }

  /** The next message matching `re` (searching from the start), within `ms`. */
  async waitFor(re: RegExp, ms = 3_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.find((x) => re.test(x));
      if (m !== undefined) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message matching ${re} within ${ms} ms; got: ${this.messages.map((x) => x.split('\r\n')[0]).join(' | ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  #push(m: string): void {
    this.messages.push(m);
    for (const w of this.#waiters.splice(0)) w();
  }

  #stream(s: string): void {
    this.#buf += s;
    for (;;) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/^Content-Length:\s*(\d+)/im.exec(this.#buf.slice(0, end))?.[1] ?? '0');
      if (this.#buf.length < end + 4 + len) return;
      this.#push(this.#buf.slice(0, end + 4 + len));
      this.#buf = this.#buf.slice(end + 4 + len);
    }
  }
}

function request(p: Peer, o: { method: string; uri: string; callId: string; cseq?: number; toTag?: string; extra?: string[]; mf?: number | null; contact?: boolean }): string {
  const lines = [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/${p.proto.toUpperCase()} 127.0.0.1:${p.port};branch=z9hG4bK${o.callId}${o.method}${o.cseq ?? 1}${Math.random().toString(36).slice(2, 8)};rport`,
    ...(o.mf === null ? [] : [`Max-Forwards: ${o.mf ?? 70}`]),
    `From: <sip:alice@127.0.0.1:${p.port}>;tag=ftag`,
    `To: <${o.uri}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${o.method}`,
    ...(o.contact === false ? [] : [`Contact: <sip:alice@127.0.0.1:${p.port}${p.proto === 'tcp' ? ';transport=tcp' : ''}>`]),
    ...(o.extra ?? []),
    'Content-Length: 0', '', '',
  ];
  return lines.join('\r\n');
}

const header = (m: string, name: string): string | undefined => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(m)?.[1]?.trim();

// ---------------------------------------------------------------- one engine, one app, for the whole file

let engine: Engine;
let sipPort: Record<Proto, number>;
let app: { stop(): void };
const seenByApp: string[] = [];
let foreign: UdpSocket;
let foreignBytes = 0;
let uas: UdpSocket;
const uasGot: string[] = [];

async function boot(): Promise<void> {
  if (engine) return;
  foreign = createSocket('udp4');
  foreign.bind(0, '127.0.0.1');
  await once(foreign, 'listening');
  foreign.on('message', (b) => {
    foreignBytes += b.length;
  });
  // A UAS behind the engine for the proxied dialog: answers INVITE 200 (Record-Route copied), BYE 200.
  uas = createSocket('udp4');
  uas.bind(0, '127.0.0.1');
  await once(uas, 'listening');
  uas.on('message', (b, rinfo) => {
    const m = b.toString('utf8');
    uasGot.push(m);
    const method = /^(\w+) /.exec(m)?.[1];
    if (method !== 'INVITE' && method !== 'BYE') return;
    const vias = m.split('\r\n').filter((l) => /^Via:/i.test(l));
    const rr = m.split('\r\n').filter((l) => /^Record-Route:/i.test(l));
    const to = header(m, 'To')!;
    const res = ['SIP/2.0 200 OK', ...vias, `From: ${header(m, 'From')}`, `To: ${to.includes('tag=') ? to : `${to};tag=uastag`}`,
      `Call-ID: ${header(m, 'Call-ID')}`, `CSeq: ${header(m, 'CSeq')}`, ...(method === 'INVITE' ? [...rr, `Contact: <sip:uas@127.0.0.1:${uas.address().port}>`] : []),
      'Content-Length: 0', '', ''].join('\r\n');
    uas.send(Buffer.from(res), rinfo.port, rinfo.address);
  });
  engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    control: { port: 0, secret: SECRET },
    limits: { appAnswerTimeoutMs: 500 },
  });
  const a = engine.addresses()!;
  sipPort = { udp: a.sip.find((l) => l.protocol === 'udp')!.port, tcp: a.sip.find((l) => l.protocol === 'tcp')!.port };
  app = await srfApp(a.control.port, (srf) => srf.invite((req, res) => {
    seenByApp.push(req.uri);
    if (req.uri.startsWith('sip:proxy@')) srf.proxyRequest(req, [`sip:uas@127.0.0.1:${uas.address().port}`], { recordRoute: true });
    else if (req.uri.startsWith('sip:silent@')) return;
    else if (req.uri.startsWith('sip:answer@')) res.send(200, { body: 'v=0\r\n', headers: { 'Content-Type': 'application/sdp' } });
    else res.send(486);
  }));
  // The app's route registration travels after its connect: wait until INVITEs reach it (bounded).
  const probe = await Peer.open('udp', sipPort.udp);
  try {
    for (let i = 0; i < 40; i++) {
      probe.send(request(probe, { method: 'INVITE', uri: `sip:warmup@127.0.0.1:${sipPort.udp}`, callId: `warm${i}` }));
      try {
        await probe.waitFor(/^SIP\/2\.0 486 /, 100);
        break;
      } catch {
        // not routed yet
      }
    }
  } finally {
    probe.close();
  }
}

after(async () => {
  app?.stop();
  await engine?.close();
  foreign?.close();
  uas?.close();
});

for (const proto of ['udp', 'tcp'] as const) {
  test(`${proto}: an INVITE routed to us with a foreign Request-URI reaches the app, never the foreign host`, async () => {
    await boot();
    const p = await Peer.open(proto, sipPort[proto]);
    try {
      const target = `sip:+442071234567@127.0.0.1:${foreign.address().port}`;
      p.send(request(p, { method: 'INVITE', uri: target, callId: `relay-${proto}`, extra: [`Route: <sip:127.0.0.1:${sipPort[proto]};lr${proto === 'tcp' ? ';transport=tcp' : ''}>`] }));
      const res = await p.waitFor(/^SIP\/2\.0 486 /);
      assert.match(res, /Call-ID: relay-/);
      assert.ok(seenByApp.includes(target), 'the app got the request');
      assert.equal(foreignBytes, 0, 'nothing reached the foreign host');
    } finally {
      p.close();
    }
  });

  test(`${proto}: Max-Forwards 0 gets 483 with a Reason`, async () => {
    await boot();
    const p = await Peer.open(proto, sipPort[proto]);
    try {
      p.send(request(p, { method: 'INVITE', uri: `sip:bob@127.0.0.1:${sipPort[proto]}`, callId: `mf0-${proto}`, mf: 0 }));
      const res = await p.waitFor(/^SIP\/2\.0 483 /);
      assert.match(header(res, 'Reason')!, /^SIP;cause=483;/);
    } finally {
      p.close();
    }
  });

  test(`${proto}: OPTIONS to the gateway gets 200 with Allow, Accept and Supported`, async () => {
    await boot();
    const p = await Peer.open(proto, sipPort[proto]);
    try {
      p.send(request(p, { method: 'OPTIONS', uri: `sip:127.0.0.1:${sipPort[proto]}`, callId: `opt-${proto}` }));
      const res = await p.waitFor(/^SIP\/2\.0 200 /);
      assert.match(header(res, 'Allow')!, /INVITE/);
      assert.ok(header(res, 'Accept') !== undefined && header(res, 'Supported') !== undefined);
    } finally {
      p.close();
    }
  });

  test(`${proto}: an INVITE without Contact gets 400 Missing Contact`, async () => {
    await boot();
    const p = await Peer.open(proto, sipPort[proto]);
    try {
      p.send(request(p, { method: 'INVITE', uri: `sip:bob@127.0.0.1:${sipPort[proto]}`, callId: `noct-${proto}`, contact: false }));
      const res = await p.waitFor(/^SIP\/2\.0 400 /);
      assert.match(res, /^SIP\/2\.0 400 Missing Contact\r\n/);
      assert.match(header(res, 'Reason')!, /^SIP;cause=400;/);
    } finally {
      p.close();
    }
  });

  test(`${proto}: an INVITE the app never answers gets 503 within the answer time and the tables go back to 0`, async () => {
    await boot();
    const p = await Peer.open(proto, sipPort[proto]);
    try {
      const started = Date.now();
      p.send(request(p, { method: 'INVITE', uri: `sip:silent@127.0.0.1:${sipPort[proto]}`, callId: `silent-${proto}` }));
      const res = await p.waitFor(/^SIP\/2\.0 503 /, 3_000);
      assert.ok(Date.now() - started < 2_500, 'answered near the 500 ms answer time');
      assert.match(header(res, 'Reason')!, /no answer from the application within 500 ms/);
      const stats = (engine.core as unknown as { stats(): Record<string, number> }).stats();
      assert.equal(stats['serverPending'], 0);
      assert.equal(stats['invitesPending'], 0);
    } finally {
      p.close();
    }
  });
}

test('udp: in a dialog the app proxied with Record-Route, MF 0 gets 483 and MF 1 is forwarded as MF 0', async () => {
  await boot();
  const p = await Peer.open('udp', sipPort.udp);
  try {
    const uri = `sip:proxy@127.0.0.1:${sipPort.udp}`;
    p.send(request(p, { method: 'INVITE', uri, callId: 'prx-1' }));
    const ok = await p.waitFor(/^SIP\/2\.0 200 /);
    const rr = header(ok, 'Record-Route')!;
    assert.match(rr, new RegExp(`127\\.0\\.0\\.1:${sipPort.udp}`));
    const toTag = /tag=([^;\s]+)/.exec(header(ok, 'To')!)![1]!;
    const uasUri = `sip:uas@127.0.0.1:${uas.address().port}`;
    const inDialog = (method: string, cseq: number, mf: number): string => request(p, { method, uri: uasUri, callId: 'prx-1', cseq, toTag, mf, extra: [`Route: ${rr}`] });
    p.send(inDialog('ACK', 1, 70));
    p.send(inDialog('BYE', 2, 0));
    const tooMany = await p.waitFor(/^SIP\/2\.0 483 /);
    assert.match(tooMany, /CSeq: 2 BYE/);
    p.send(inDialog('BYE', 3, 1));
    await p.waitFor(/^SIP\/2\.0 200 [\s\S]*CSeq: 3 BYE/);
    const bye = uasGot.find((m) => m.startsWith('BYE ') && /CSeq: 3 BYE/.test(m))!;
    assert.equal(header(bye, 'Max-Forwards'), '0');
    assert.equal(uasGot.filter((m) => /CSeq: 2 BYE/.test(m)).length, 0, 'the MF 0 BYE was not forwarded');
  } finally {
    p.close();
  }
});

test('a second app with the secret is refused while the first is connected', async () => {
  await boot();
  await assert.rejects(srfApp(engine.addresses()!.control.port, () => undefined), /failed to authenticate/);
  assert.equal(engine.registry.size, 1);
  assert.ok((engine.registry.counters()['appsRefused'] ?? 0) >= 1);
});

test('when the app dies its answered call is ended: the caller gets a BYE with a Reason and no dialog is left', async () => {
  await boot();
  const p = await Peer.open('udp', sipPort.udp);
  try {
    p.send(request(p, { method: 'INVITE', uri: `sip:answer@127.0.0.1:${sipPort.udp}`, callId: 'death-1' }));
    const ok = await p.waitFor(/^SIP\/2\.0 200 /);
    const toTag = /tag=([^;\s]+)/.exec(header(ok, 'To')!)![1]!;
    p.send(request(p, { method: 'ACK', uri: `sip:127.0.0.1:${sipPort.udp}`, callId: 'death-1', toTag }));
    const core = engine.core as unknown as { stats(): Record<string, number> };
    for (let i = 0; i < 100 && core.stats()['dialogs'] !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(core.stats()['dialogs'], 1);
    app.stop();
    const bye = await p.waitFor(/^BYE /);
    assert.equal(header(bye, 'Reason'), 'SIP;cause=503;text="application disconnected"');
    assert.equal(core.stats()['dialogs'], 0);
    assert.equal(core.stats()['appGoneDialogsEnded'], 1);
  } finally {
    p.close();
  }
});
