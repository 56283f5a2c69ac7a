import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';

// A B leg toward an ITSP that challenges (401 with a Digest challenge) is answered with the tenant's credentials,
// computed as RFC 2617 says; a challenge from another realm is not answered, and says so in the log.

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

interface Itsp { ua: Ua; invites: string[] }

/** A UAS that challenges every INVITE without valid credentials for realm `realm`, and answers 200 to the rest. */
async function itsp(t: TestContext, realm: string, user: string, password: string): Promise<Itsp> {
  const invites: string[] = [];
  const self = await ua(t, (msg, u, from) => {
    if (msg.startsWith('INVITE ')) {
      invites.push(msg);
      const auth = header(msg, 'Authorization');
      const p = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
      const uri = p['uri'] ?? '';
      const expected = md5(`${md5(`${user}:${realm}:${password}`)}:nonce-1:${md5(`INVITE:${uri}`)}`);
      if (auth.startsWith('Digest') && p['username'] === user && p['realm'] === realm && p['nonce'] === 'nonce-1' && p['response'] === expected) {
        u.send(answer(msg, '200 OK', u.port, sdp), from);
      } else {
        const challenge = answer(msg, '401 Unauthorized', u.port)
          .replace('Content-Length: 0', `WWW-Authenticate: Digest realm="${realm}", nonce="nonce-1", algorithm=MD5\r\nContent-Length: 0`);
        u.send(challenge, from);
      }
    } else if (msg.startsWith('BYE ')) {
      u.send(answer(msg, '200 OK', u.port), from);
    }
  });
  return { ua: self, invites };
}

async function rig(t: TestContext) {
  const good = await itsp(t, 'itsp.example', 'trunk-7', 's3cret');
  const stranger = await itsp(t, 'elsewhere.example', 'trunk-7', 's3cret');
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'digest-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const credentials = { username: 'trunk-7', password: 's3cret', realm: 'itsp.example' };
  const policy: B2buaPolicy = {
    tenants: {
      pbx: { transport: 'udp' },
      itsp: { transport: 'udp', sipServer: `127.0.0.1:${good.ua.port}`, digest: credentials },
      other: { transport: 'udp', sipServer: `127.0.0.1:${stranger.ua.port}`, digest: credentials },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    tlsPeers: {},
    dialPeers: [
      { id: 'itsp', destinationPattern: '^1\\d+$', tenant: 'itsp' },
      { id: 'other', destinationPattern: '^2\\d+$', tenant: 'other' },
    ],
  };
  const { log, warnings } = captureLog();
  const app = await startB2bua({
    engine: { host: addrs.control.host, port: addrs.control.port, secret: 'digest-secret' },
    policy,
    log,
  });
  t.after(() => app.close());
  const uac = await ua(t);
  return { sipPort, uac, good, stranger, warnings };
}

function invite(uac: Ua, sipPort: number, number: string, callId: string): void {
  uac.send([`INVITE sip:${number}@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK${callId};rport`,
    'Max-Forwards: 70', `From: <sip:100@127.0.0.1:${uac.port}>;tag=a-${callId}`, `To: <sip:${number}@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:100@127.0.0.1:${uac.port}>`, 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
}

test('a challenged B leg is answered with the tenant digest credentials; another realm gets none', async (t) => {
  const r = await rig(t);

  const callId = `digest-ok-${process.pid}`;
  invite(r.uac, r.sipPort, '15551234', callId);
  const ok = await r.uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'm'));
  assert.match(ok, /^SIP\/2\.0 200 /, 'the call completes once the challenge is answered');
  assert.equal(r.good.invites.length, 2, 'one INVITE challenged, one with credentials');
  assert.equal(header(r.good.invites[0]!, 'Authorization'), '');
  const auth = header(r.good.invites[1]!, 'Authorization');
  assert.match(auth, /^Digest /);
  assert.match(auth, /username="trunk-7"/);
  assert.match(auth, /realm="itsp\.example"/);
  assert.doesNotMatch(r.good.invites[1]!, /s3cret/, 'the password itself never travels');
  const tag = /;tag=([^;>\s]+)/.exec(header(ok, 'To'))![1]!;
  r.uac.send([`ACK sip:15551234@127.0.0.1:${r.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bKack-${callId};rport`,
    'Max-Forwards: 70', `From: <sip:100@127.0.0.1:${r.uac.port}>;tag=a-${callId}`, `To: <sip:15551234@127.0.0.1:${r.sipPort}>;tag=${tag}`,
    `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
  r.uac.send([`BYE sip:15551234@127.0.0.1:${r.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bKbye-${callId};rport`,
    'Max-Forwards: 70', `From: <sip:100@127.0.0.1:${r.uac.port}>;tag=a-${callId}`, `To: <sip:15551234@127.0.0.1:${r.sipPort}>;tag=${tag}`,
    `Call-ID: ${callId}`, 'CSeq: 2 BYE', 'Content-Length: 0', '', ''].join('\r\n'), r.sipPort);
  assert.match(await r.uac.next(/^SIP\/2\.0 \d+ [\s\S]*CSeq:\s*2 BYE/im), /^SIP\/2\.0 200 /);

  const refused = `digest-realm-${process.pid}`;
  invite(r.uac, r.sipPort, '25551234', refused);
  const final = await r.uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${refused}`, 'm'));
  assert.doesNotMatch(final, /^SIP\/2\.0 2\d\d /, 'no call without the realm\'s consent');
  assert.equal(r.stranger.invites.length, 1, 'the stranger\'s challenge is not answered');
  assert.ok(r.warnings.some((w) => /realm elsewhere\.example .*not answered/.test(w)), r.warnings.join('\n'));
});
