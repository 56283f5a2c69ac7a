import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PermissionCategory } from '../../src/policy/index.js';
import { answer, header, ua } from '../support/mini-ua.js';
import { startSippUas } from '../support/sipp.js';
import { answeringUa, callRig, cdrWhere, count, deadUa, pbxToFar, placeCall, within } from './calls-support.js';

/**
 * Dead calls end: through the real engine and the real drachtio-srf b2bua, with mini UAs and sipp as the far ends.
 */

const categories: PermissionCategory[] = [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }];

/** A caller that answers only BYE (200), and keeps what it got. */
const caller = (t: Parameters<typeof ua>[0]) => ua(t, (msg, self, from) => {
  if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
});

test('both legs silent: the session timer ends the call with BYE and a Reason on both legs, and a CDR cause', async (t) => {
  const b = await answeringUa(t, { silent: true });
  const r = await callRig(t, (sipPort) => ({
    tenants: { pbx: { transport: 'udp' }, far: { transport: 'udp', sipServer: `127.0.0.1:${b.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories,
    dialPeers: [{ id: 'far', destinationPattern: '^\\d+$', tenant: 'far' }],
    calls: { sessionTimer: { expiresSeconds: 2, minSeSeconds: 1 } },
  }));
  const a = await caller(t);
  const call = await placeCall(a, r.sipPort, '2001');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  assert.equal(header(call.final, 'Session-Expires'), '2;refresher=uas', 'the caller asked for nothing: we refresh it, at our interval');
  const invB = b.received.find((m) => m.startsWith('INVITE '))!;
  assert.equal(header(invB, 'Session-Expires'), '2');
  assert.match(header(invB, 'Supported'), /timer/);
  // Neither side answers the refreshes: the session expires at 2 s; both legs get BYE (bounded wait, not a timing verdict).
  const byeA = await within(a, /^BYE /, 8_000);
  const byeB = await within(b, /^BYE /, 8_000);
  assert.match(header(byeA.msg, 'Reason'), /^SIP;cause=408;text="Session timer expired on leg [AB]: no refresh within 2 s"$/);
  assert.equal(header(byeB.msg, 'Reason'), header(byeA.msg, 'Reason'));
  assert.ok(a.received.some((m) => /^(INVITE|UPDATE) /.test(m)) || b.received.filter((m) => /^(INVITE|UPDATE) /.test(m)).length >= 2,
    'a refresh was sent before the session expired');
  const cdr = await cdrWhere(r, (c) => c.status === 200 && c.endAt !== undefined && c.cause === 'session-expired');
  assert.equal(cdr.releasedBy, 'gateway');
  assert.equal(cdr.reason, header(byeA.msg, 'Reason'));
  assert.deepEqual(r.app.stats().endedByGateway, { 'session-expired': 1 });
});

test('both legs refresh: a caller that refreshes with re-INVITE keeps the call up past the interval', async (t) => {
  const b = await answeringUa(t);
  const r = await callRig(t, (sipPort) => ({
    tenants: { pbx: { transport: 'udp' }, far: { transport: 'udp', sipServer: `127.0.0.1:${b.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories,
    dialPeers: [{ id: 'far', destinationPattern: '^\\d+$', tenant: 'far' }],
    calls: { sessionTimer: { expiresSeconds: 2, minSeSeconds: 1 } },
  }));
  // This caller answers the gateway's refreshes (re-INVITE or UPDATE) with 200.
  const a = await ua(t, (msg, self, from) => {
    if (/^(BYE|UPDATE|INVITE) /.test(msg)) self.send(answer(msg, '200 OK', self.port, msg.startsWith('INVITE') ? 'v=0\r\n' : ''), from);
    if (msg.startsWith('SIP/2.0 200') && /CSeq: \d+ INVITE/.test(msg)) undefined;
  });
  const call = await placeCall(a, r.sipPort, '2002');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  // Two intervals later the call is still up: refreshes went both ways and were answered.
  await count(a, /^(INVITE|UPDATE) /, 2, 5_000);
  await count(b, /^(INVITE|UPDATE) /, 3, 5_000);
  assert.equal(a.received.filter((m) => m.startsWith('BYE ')).length, 0);
  assert.equal(r.app.stats().active, 1);
  call.inDialog('BYE');
  await cdrWhere(r, (c) => c.cause === 'normal');
});

test('B leg killed mid-call (sipp over TCP): the A leg gets BYE with a Reason at once; CDR cause names the engine', async (t) => {
  const sipp = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport: 't1' });
  t.after(() => sipp.stop());
  const r = await callRig(t, (sipPort) => ({
    tenants: { pbx: { transport: 'udp' }, far: { transport: 'tcp', sipServer: `127.0.0.1:${sipp.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories,
    dialPeers: [{ id: 'far', destinationPattern: '^\\d+$', tenant: 'far' }],
  }));
  const a = await caller(t);
  const call = await placeCall(a, r.sipPort, '2003');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  sipp.child.kill('SIGKILL');
  const bye = await within(a, /^BYE /, 5_000);
  t.diagnostic(`A leg BYE ${bye.tookMs} ms after sipp was killed`);
  assert.match(header(bye.msg, 'Reason'), /^SIP;cause=502;text="Called party lost: Connection lost/);
  const cdr = await cdrWhere(r, (c) => c.status === 200 && typeof c.cause === 'string' && c.cause.startsWith('engine:Connection lost'));
  assert.equal(cdr.releasedBy, 'engine');
  assert.equal(r.app.stats().endedByEngine, 1);
});

test('no answer: the dial peer\'s no-answer timeout gives up the silent trunk (no CANCEL before a provisional, RFC 3261 §9.1) and the next dial peer (sipp) takes the call', async (t) => {
  const dead = await deadUa(t);
  const sipp = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => sipp.stop());
  const r = await callRig(t, (sipPort) => ({
    tenants: {
      pbx: { transport: 'udp' },
      silent: { transport: 'udp', sipServer: `127.0.0.1:${dead.port}` },
      live: { transport: 'udp', sipServer: `127.0.0.1:${sipp.port}` },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories,
    dialPeers: [
      { id: 'first', destinationPattern: '^\\d+$', tenant: 'silent', preference: 1, noAnswerTimeoutSeconds: 1 },
      { id: 'second', destinationPattern: '^\\d+$', tenant: 'live', preference: 2 },
    ],
  }));
  const a = await caller(t);
  const t0 = Date.now();
  const call = await placeCall(a, r.sipPort, '2004');
  t.diagnostic(`answered by the second dial peer ${Date.now() - t0} ms after the INVITE (timeout 1 s; without it 32 s)`);
  assert.match(call.final, /^SIP\/2\.0 200 /);
  assert.ok(dead.received.some((m) => m.startsWith('INVITE ')), 'the first dial peer was tried');
  // RFC 3261 §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent": the silent
  // trunk never answered, so it gets none (the INVITE ends by Timer B).
  assert.equal(dead.received.some((m) => m.startsWith('CANCEL ')), false, 'no CANCEL to a trunk that sent no provisional');
  assert.equal(r.app.stats().noAnswerTimeouts, 1);
  call.inDialog('BYE');
  const cdr = await cdrWhere(r, (c) => c.cause === 'normal');
  assert.equal(cdr.dialPeer, 'second');
  assert.equal(cdr.attempts, 2);
});

test('the maximum call duration ends a live call with BYE and a Reason on both legs', async (t) => {
  const b = await answeringUa(t);
  const r = await callRig(t, (sipPort) => ({
    tenants: { pbx: { transport: 'udp' }, far: { transport: 'udp', sipServer: `127.0.0.1:${b.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories,
    dialPeers: [{ id: 'far', destinationPattern: '^\\d+$', tenant: 'far' }],
    calls: { maxDurationSeconds: 1 },
  }));
  const a = await caller(t);
  const call = await placeCall(a, r.sipPort, '2005');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  const byeA = await within(a, /^BYE /, 5_000);
  const byeB = await within(b, /^BYE /, 5_000);
  assert.equal(header(byeA.msg, 'Reason'), 'SIP;cause=200;text="Maximum call duration of 1 s reached"');
  assert.equal(header(byeB.msg, 'Reason'), header(byeA.msg, 'Reason'));
  const cdr = await cdrWhere(r, (c) => c.cause === 'max-duration');
  assert.equal(cdr.releasedBy, 'gateway');
});

test('a B leg that answers a relayed in-dialog request with 481 is gone: the A leg gets BYE with a Reason at once', async (t) => {
  const b = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, 'v=0\r\n'), from);
    else if (msg.startsWith('INFO ')) self.send(answer(msg, '481 Call/Transaction Does Not Exist', self.port), from);
    else if (msg.startsWith('BYE ')) self.send(answer(msg, '481 Call/Transaction Does Not Exist', self.port), from);
  });
  const r = await callRig(t, pbxToFar(b.port));
  const a = await ua(t, (msg, self, from) => {
    if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
  const call = await placeCall(a, r.sipPort, '2006');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  call.inDialog('INFO', ['Content-Type: application/dtmf-relay']);
  const bye = await within(a, /^BYE /, 3_000);
  assert.equal(header(bye.msg, 'Reason'), 'SIP;cause=481;text="Leg B lost: an in-dialog request got 481"');
  const cdr = await cdrWhere(r, (c) => c.cause === 'leg-lost');
  assert.equal(cdr.releasedBy, 'gateway');
  assert.equal(r.app.stats().byeFailed, 0, 'a 481 to our BYE on the lost leg is no failed teardown');
});
