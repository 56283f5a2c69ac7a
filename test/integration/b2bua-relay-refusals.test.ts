import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { flowKey, signFlowToken } from '../../src/b2bua/register-flow-token.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { header, sdp, ua } from '../support/mini-ua.js';

// No tenant relays registrations, as in the default configuration: what a scan of REGISTERs, MESSAGEs and INVITEs
// with made-up flow tokens gets is still answered with a Reason, counted in /stats and, for an INVITE, recorded.
test('refusals of the registration relay over the real engine: counted without any registerRelay tenant; a forged flow token\'s INVITE has a CDR', async (t) => {
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'relay-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy: B2buaPolicy = {
    tenants: { pbx: { transport: 'udp' } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [], dialPeers: [],
  };
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 'relay-secret' }, policy, log });
  t.after(() => app.close());
  const uac = await ua(t);

  let n = 0;
  const send = async (method: string, extra: string[] = [], body = '') => {
    const callId = `relay-refusal-${process.pid}-${++n}`;
    uac.send([
      `${method} sip:phone1@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKrr${n};rport`, 'Max-Forwards: 70',
      `From: <sip:2000@127.0.0.1:${uac.port}>;tag=rr${n}`, `To: <sip:phone1@127.0.0.1:${sipPort}>`, `Call-ID: ${callId}`, `CSeq: 1 ${method}`,
      `Contact: <sip:2000@127.0.0.1:${uac.port}>`, ...extra, ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body,
    ].join('\r\n'), sipPort);
    const final = await uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
    return { status: Number(final.slice(8, 11)), final, callId };
  };

  const register = await send('REGISTER', ['Expires: 600']);
  assert.equal(register.status, 403);
  assert.match(header(register.final, 'Reason'), /cause=403;text="REGISTER is not relayed for tenant pbx"/);
  const message = await send('MESSAGE');
  assert.equal(message.status, 404);

  // A token of the right shape signed with another key: what a forger can make.
  const forged = signFlowToken(flowKey('not-the-engine-secret'), { transport: 'udp', address: '127.0.0.1', port: uac.port, tenant: 'pbx', until: Math.floor(Date.now() / 1000) + 600 });
  const invite = await send('INVITE', [`Route: <sip:${forged}@127.0.0.1:${sipPort};lr>`], sdp);
  assert.equal(invite.status, 403, invite.final);
  assert.match(header(invite.final, 'Reason'), /cause=403;text="flow token forged"/);

  for (let i = 0; i < 100 && !cdrs.some((c) => c.callId === invite.callId); i++) await new Promise((ok) => setTimeout(ok, 10));
  const cdr = cdrs.find((c) => c.callId === invite.callId);
  assert.ok(cdr, 'the refused INVITE has a CDR');
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.sourceAddress], [403, 'flow-token:forged', 'gateway', '127.0.0.1']);
  assert.match(String(cdr.reason), /cause=403;text="flow token forged"/);

  const s = app.stats();
  assert.equal(s.attempted, 1);
  assert.deepEqual(s.failed, { 403: 1 });
  assert.ok(s.registerRelay, 'the relay\'s counters are in the stats with no tenant relaying');
  assert.deepEqual([s.registerRelay.refusedNoRelay, s.registerRelay.refusedNoBinding, s.registerRelay.refusedToken, s.registerRelay.relayed],
    [1, 1, 1, 0]);
});
