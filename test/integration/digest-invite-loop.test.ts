// A trunk that sends a provisional and then a new 407 to every INVITE carrying credentials: drachtio-srf's own
// guard (one challenge per Call-ID, cleared by the first answer to the retry) lets the 183 clear it, so the gateway
// answered each 407 again, thousands of INVITEs a second. The credentials go once a request (digest-answer.ts
// `challengeJudge`): the second 407 is the attempt's final answer and the call fails over, here to nothing left.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header, sdp, ua } from '../support/mini-ua.js';

test('digest: a trunk that answers 183 then 407 to the INVITE with credentials gets two INVITEs, and the caller a final answer', async (t) => {
  const invites: string[] = [];
  let n = 0;
  const itsp = await ua(t, (msg, u, from) => {
    if (!msg.startsWith('INVITE ')) return;
    invites.push(msg);
    if (header(msg, 'Proxy-Authorization') !== '') u.send(answer(msg, '183 Session Progress', u.port), from);
    u.send(answer(msg, '407 Proxy Authentication Required', u.port).replace('Content-Length: 0', `Proxy-Authenticate: Digest realm="itsp.example", nonce="n${++n}"\r\nContent-Length: 0`), from);
  });
  const engine = await startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }], control: { host: '127.0.0.1', port: 0, secret: 's' } });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy = {
    tenants: { pbx: { transport: 'udp' }, itsp: { transport: 'udp', sipServer: `127.0.0.1:${itsp.port}`, digest: { username: 'u', password: 'wrong', realm: 'itsp.example' } } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    tlsPeers: {}, dialPeers: [{ id: 'itsp', destinationPattern: '^1\\d+$', tenant: 'itsp' }],
  } as unknown as B2buaPolicy;
  const { log, records } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy, log });
  t.after(() => app.close());
  const uac = await ua(t);
  const callId = `digest-loop-${process.pid}`;
  uac.send([`INVITE sip:15551234@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK${callId};rport`,
    'Max-Forwards: 70', `From: <sip:100@127.0.0.1:${uac.port}>;tag=a-${callId}`, `To: <sip:15551234@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:100@127.0.0.1:${uac.port}>`, 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  const final = await uac.next(/^SIP\/2\.0 [3-6]\d\d /).catch(() => undefined);
  assert.ok(final !== undefined, `the caller got a final answer (INVITEs to the trunk so far: ${invites.length})`);
  assert.match(final.split('\r\n')[0]!, /^SIP\/2\.0 503 /, 'trunk authentication failed: 503, as any refused credentials');
  assert.equal(invites.length, 2, 'the first INVITE and one with credentials, no more');
  assert.notEqual(header(invites[1]!, 'Proxy-Authorization'), '');
  const refused = records.filter((l) => l.code === 'ERR_B2BUA_DIGEST_CHALLENGE');
  assert.equal(refused.length, 1);
  assert.match(String(refused[0]!.msg), /challenged again after credentials were given/);
  assert.ok(((app.stats() as { digestRefused?: { challenge: number } }).digestRefused?.challenge ?? 0) >= 1, 'counted with the other refused challenges');
});
