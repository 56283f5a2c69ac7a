/**
 * In-dialog requests of a call that exists, from a source that is not its peer, over real UDP sockets on loopback
 * with a drachtio-srf app on the engine. The Call-ID and tags of a call are no secret (anyone on its path saw them):
 * a re-INVITE, BYE or ACK carrying them from a source that is neither the call's peer nor trusted by its tenant is
 * refused at the edge (403 with a Reason, an ACK dropped) and never reaches the app, so it can neither move the
 * call's media nor end it. Another node the tenant trusts (a carrier's second SBC) may still end the call.
 * 127.0.0.1 is the PBX, 127.0.0.8 its other node, 127.0.0.9 a source another tenant trusts, 127.0.0.7 a stranger.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Srf from 'drachtio-srf';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { until } from '../support/until.js';

const SECRET = 'dialog-source';
interface LooseReq { method: string; source_address: string }
interface LooseRes { send(status: number, opts?: { body?: string; headers?: Record<string, string> }): void }
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  use(fn: (req: LooseReq, res: LooseRes, next: () => void) => void): void;
  invite(fn: (req: LooseReq, res: LooseRes) => void): void;
  disconnect(): void;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

/** The engine and an app that answers every INVITE 200 and notes each request it is handed, with its source. */
async function engine(t: TestContext): Promise<{ e: Engine; udp: number; seen: string[] }> {
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
    trust: {
      defaultTenant: 'pbx', tenants: [
        { name: 'pbx', transport: 'udp', sources: ['127.0.0.1', '127.0.0.8'], hosts: [], restrictTls: false },
        { name: 'other', transport: 'udp', sources: ['127.0.0.9'], hosts: [], restrictTls: false },
      ],
    },
  });
  t.after(() => e.close());
  const seen: string[] = [];
  const srf = new Srf() as unknown as LooseSrf;
  srf.on('error', () => undefined);
  srf.use((req, _res, next) => {
    seen.push(`${req.method} ${req.source_address}`);
    next();
  });
  srf.invite((_req, res) => res.send(200, { body: SDP, headers: { 'Content-Type': 'application/sdp' } }));
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: '127.0.0.1', port: e.addresses()!.control.port, secret: SECRET });
  });
  t.after(() => srf.disconnect());
  return { e, udp: e.addresses()!.sip[0]!.port, seen };
}

function request(method: string, p: UdpPeer, host: string, o: { branch: string; cseq: number; toTag?: string; sdp?: boolean }): string {
  const body = o.sdp ? SDP : '';
  return `${method} sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:${p.port};branch=${o.branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@127.0.0.1>;tag=caller\r\nTo: <sip:1000@127.0.0.1>${o.toTag === undefined ? '' : `;tag=${o.toTag}`}\r\nCall-ID: held-call@test\r\n`
    + `CSeq: ${o.cseq} ${method}\r\nContact: <sip:a@${host}:${p.port}>\r\n${o.sdp ? 'Content-Type: application/sdp\r\n' : ''}`
    + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const coreStats = (e: Engine): Record<string, number> => (e.core as { stats?: () => Record<string, number> }).stats?.() ?? {};

test('a re-INVITE, BYE or ACK of a live call from a source that is not its peer gets 403 or nothing and never reaches the app; the tenant\'s other node may end the call', async (t) => {
  const { e, udp, seen } = await engine(t);
  const pbx = await udpPeer(t, '127.0.0.1');
  pbx.s.send(request('INVITE', pbx, '127.0.0.1', { branch: 'z9hG4bKinv', cseq: 1, sdp: true }), udp, '127.0.0.1');
  await until(() => pbx.got.some((m) => m.startsWith('SIP/2.0 200 ')), 'the call answered');
  const toTag = /\r\nTo: [^\r]*;tag=([^;\r]+)/.exec(pbx.got.find((m) => m.startsWith('SIP/2.0 200 '))!)![1]!;

  const stranger = await udpPeer(t, '127.0.0.7');
  const otherTenant = await udpPeer(t, '127.0.0.9');
  // The ACK first: the dialog still waits for it, and the first ACK would go up to the app.
  stranger.s.send(request('ACK', stranger, '127.0.0.7', { branch: 'z9hG4bKack-x', cseq: 1, toTag }), udp, '127.0.0.1');
  stranger.s.send(request('INVITE', stranger, '127.0.0.7', { branch: 'z9hG4bKreinv-x', cseq: 2, toTag, sdp: true }), udp, '127.0.0.1');
  stranger.s.send(request('BYE', stranger, '127.0.0.7', { branch: 'z9hG4bKbye-x', cseq: 3, toTag }), udp, '127.0.0.1');
  otherTenant.s.send(request('BYE', otherTenant, '127.0.0.9', { branch: 'z9hG4bKbye-o', cseq: 4, toTag }), udp, '127.0.0.1');
  await until(() => stranger.got.length >= 2 && otherTenant.got.length >= 1, 'the answers to the stranger and the other tenant');
  await until(() => coreStats(e)['dialogSourceRefused'] === 4, 'the four refusals counted, the ACK with them');
  for (const m of [...stranger.got, ...otherTenant.got]) {
    assert.match(m, /^SIP\/2\.0 403 Forbidden\r\n/);
    assert.match(m, /\r\nReason: SIP;cause=403;text="not from the dialog's peer"\r\n/);
  }
  assert.equal(stranger.got.length, 2, 'the ACK got nothing');
  assert.equal(e.transactions.stats().created.ist, 1, 'no INVITE server transaction beyond the call\'s own');

  // The PBX's own ACK and INFO, then a BYE from its other node: each reaches the app, after nothing of the above.
  pbx.s.send(request('ACK', pbx, '127.0.0.1', { branch: 'z9hG4bKack', cseq: 1, toTag }), udp, '127.0.0.1');
  pbx.s.send(request('INFO', pbx, '127.0.0.1', { branch: 'z9hG4bKinfo', cseq: 5, toTag }), udp, '127.0.0.1');
  const node = await udpPeer(t, '127.0.0.8');
  node.s.send(request('BYE', node, '127.0.0.8', { branch: 'z9hG4bKbye-n', cseq: 6, toTag }), udp, '127.0.0.1');
  await until(() => seen.includes('BYE 127.0.0.8'), 'the other node\'s BYE at the app');
  assert.deepEqual(seen.filter((s) => !s.startsWith('ACK ')), ['INVITE 127.0.0.1', 'INFO 127.0.0.1', 'BYE 127.0.0.8']);
  assert.equal(coreStats(e)['dialogSourceRefused'], 4);
});
