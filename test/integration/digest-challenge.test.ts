import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';

// Over the real engine and drachtio-srf: a challenge that names the tenant's realm next to another one is never
// answered, and a well-formed one is answered for the realm the gateway checked (the hash proves which realm srf used).

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const USER = 'trunk-7';
const PASSWORD = 's3cret';
const REALM = 'itsp.example';

interface Itsp { ua: Ua; invites: string[] }

/** A UAS that challenges an INVITE without Authorization with `challenge`; one with Authorization gets 200 when it is right for REALM, else 403. */
async function itsp(t: TestContext, challenge: string): Promise<Itsp> {
  const invites: string[] = [];
  const self = await ua(t, (msg, u, from) => {
    if (msg.startsWith('INVITE ')) {
      invites.push(msg);
      const auth = header(msg, 'Authorization');
      if (auth === '') {
        u.send(answer(msg, '401 Unauthorized', u.port).replace('Content-Length: 0', `WWW-Authenticate: ${challenge}\r\nContent-Length: 0`), from);
        return;
      }
      const p = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
      const ha2 = md5(`INVITE:${p['uri']}`);
      const ha1 = md5(`${USER}:${REALM}:${PASSWORD}`);
      const expected = p['qop'] ? md5(`${ha1}:nonce-1:${p['nc']}:${p['cnonce']}:${p['qop']}:${ha2}`) : md5(`${ha1}:nonce-1:${ha2}`);
      u.send(answer(msg, p['realm'] === REALM && p['response'] === expected ? '200 OK' : '403 Forbidden', u.port, sdp), from);
    } else if (msg.startsWith('BYE ')) {
      u.send(answer(msg, '200 OK', u.port), from);
    }
  });
  return { ua: self, invites };
}

const CHALLENGES = {
  good: `Digest realm="${REALM}", nonce="nonce-1", algorithm=MD5, qop="auth"`,
  repeated: `Digest realm="${REALM}", realm="evil.example", nonce="nonce-1"`,
  xrealm: `Digest xrealm="${REALM}", realm="evil.example", nonce="nonce-1"`,
  comma: `Digest realm="${REALM}", nonce="nonce-1,realm=evil.example"`,
  sha: `Digest realm="${REALM}", nonce="nonce-1", algorithm=SHA-256`,
};
type Kind = keyof typeof CHALLENGES;
const KINDS = Object.keys(CHALLENGES) as Kind[];

async function rig(t: TestContext) {
  const itsps = Object.fromEntries(await Promise.all(KINDS.map(async (k) => [k, await itsp(t, CHALLENGES[k])] as const))) as Record<Kind, Itsp>;
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'digest-challenge-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const digest = { username: USER, password: PASSWORD, realm: REALM };
  const policy: B2buaPolicy = {
    tenants: {
      pbx: { transport: 'udp' },
      ...Object.fromEntries(KINDS.map((k) => [k, { transport: 'udp' as const, sipServer: `127.0.0.1:${itsps[k].ua.port}`, digest }])),
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    tlsPeers: {},
    dialPeers: KINDS.map((k, i) => ({ id: k, destinationPattern: `^${i + 1}\\d+$`, tenant: k })),
  };
  const { log, records } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 'digest-challenge-secret' }, policy, log });
  t.after(() => app.close());
  const uac = await ua(t);
  return { sipPort, uac, itsps, records };
}

async function call(r: Awaited<ReturnType<typeof rig>>, kind: Kind): Promise<string> {
  const number = `${KINDS.indexOf(kind) + 1}5551234`;
  const callId = `digest-${kind}-${process.pid}`;
  r.uac.send([`INVITE sip:${number}@127.0.0.1:${r.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bK${callId};rport`,
    'Max-Forwards: 70', `From: <sip:100@127.0.0.1:${r.uac.port}>;tag=a-${callId}`, `To: <sip:${number}@127.0.0.1:${r.sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:100@127.0.0.1:${r.uac.port}>`, 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), r.sipPort);
  const final = await r.uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'));
  if (final.startsWith('SIP/2.0 2')) {
    const tag = /;tag=([^;>\s]+)/.exec(header(final, 'To'))![1]!;
    for (const [method, cseq] of [['ACK', 1], ['BYE', 2]] as const) {
      r.uac.send([`${method} sip:${number}@127.0.0.1:${r.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bK${method}-${callId};rport`,
        'Max-Forwards: 70', `From: <sip:100@127.0.0.1:${r.uac.port}>;tag=a-${callId}`, `To: <sip:${number}@127.0.0.1:${r.sipPort}>;tag=${tag}`,
        `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
    }
    assert.match(await r.uac.next(/^SIP\/2\.0 \d+ [\s\S]*CSeq:\s*2 BYE/im), /^SIP\/2\.0 200 /);
  }
  return final;
}

test('a challenge naming the tenant\'s realm beside another, or one srf reads otherwise, gets no credentials; a good one is answered for its realm', async (t) => {
  const r = await rig(t);
  const good = await call(r, 'good');
  assert.match(good, /^SIP\/2\.0 200 /, 'the ITSP checked the answer against its own realm, with qop auth');
  assert.equal(r.itsps.good.invites.length, 2);
  assert.match(header(r.itsps.good.invites[1]!, 'Authorization'), new RegExp(`realm="${REALM.replace('.', '\\.')}"`));

  for (const kind of ['repeated', 'xrealm', 'comma', 'sha'] as const) {
    const final = await call(r, kind);
    assert.doesNotMatch(final, /^SIP\/2\.0 2\d\d /, kind);
    assert.deepEqual(r.itsps[kind].invites.map((i) => header(i, 'Authorization')), [''], `${kind}: only the first INVITE, no credentials`);
  }
  const codes = r.records.filter((l) => (l.level as number) >= 40).map((l) => l.code);
  assert.ok(codes.includes('ERR_B2BUA_DIGEST_CHALLENGE'), 'repeated realm and the quoted comma');
  assert.ok(codes.includes('ERR_B2BUA_DIGEST_REALM'), 'xrealm: its realm is evil.example');
  assert.ok(codes.includes('ERR_B2BUA_DIGEST_UNSUPPORTED'), 'SHA-256');
});
