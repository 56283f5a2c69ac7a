import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startB2bua } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { callRig, cdrWhere, pbxToFar, placeCall, within } from './calls-support.js';

/**
 * Status codes drachtio-srf's table lacks (607, 599, 184, …) through the real engine and the real drachtio-srf: the
 * caller gets the code's class (RFC 3261 §8.1.3.2; an unknown 1xx is a 183, §21.1) with a Reason naming the far
 * end's own, and the gateway goes on taking calls.
 */


/** A far end that refuses INVITEs to 607x with that status (after a 184 ringing), answers the rest, and answers INFO and re-INVITE with 599. */
async function farEnd(t: TestContext): Promise<Ua> {
  return ua(t, (msg, self, from) => {
    const initial = msg.startsWith('INVITE ') && !/^To:.*;tag=/im.test(msg);
    if (initial && /^INVITE sip:607/.test(msg)) {
      self.send(answer(msg, '184 Early Thing', self.port), from);
      self.send(answer(msg, '607 Unwanted', self.port), from);
    } else if (initial) self.send(answer(msg, '200 OK', self.port, sdp), from);
    else if (/^(INFO|INVITE) /.test(msg)) self.send(answer(msg, '599 Whatever', self.port), from);
    else if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
}

const caller = (t: TestContext) => ua(t, (msg, self, from) => {
  if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
});

/** An in-dialog request from the caller with a CSeq of its own (placeCall's inDialog counts from 2). */
function request(callerPort: number, call: { callId: string; final: string }, method: string, cseq: number, body = ''): string {
  const contact = /<([^>]+)>/.exec(header(call.final, 'Contact'))![1]!;
  return [`${method} ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${callerPort};branch=z9hG4bK${method}${cseq}${call.callId};rport`,
    'Max-Forwards: 70', `From: ${header(call.final, 'From')}`, `To: ${header(call.final, 'To')}`, `Call-ID: ${call.callId}`,
    `CSeq: ${cseq} ${method}`, `Contact: <sip:1000@127.0.0.1:${callerPort}>`, ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

test('policy gateway: a B leg refusing with 607 after a 184: the caller gets 183, then 600 with Reason cause=607; the next call goes through', async (t) => {
  const b = await farEnd(t);
  const r = await callRig(t, pbxToFar(b.port));
  const a = await caller(t);
  const call = await placeCall(a, r.sipPort, '6071');
  assert.match(call.final, /^SIP\/2\.0 600 /);
  assert.match(header(call.final, 'Reason'), /^SIP;cause=607;/);
  const early = await within(a, /^SIP\/2\.0 18\d /, 2_000);
  assert.match(early.msg, /^SIP\/2\.0 183 /);
  const cdr = await cdrWhere(r, (c) => c.cause === 'b-leg-607');
  assert.equal(cdr.status, 600, 'the A leg\'s final status');
  const next = await placeCall(a, r.sipPort, '2001');
  assert.match(next.final, /^SIP\/2\.0 200 /);
  next.inDialog('BYE');
  await cdrWhere(r, (c) => c.cause === 'normal');
});

test('policy gateway: INFO and re-INVITE answered 599 by the B leg: the caller gets 500 with Reason cause=599 each, and the call stays up', async (t) => {
  const b = await farEnd(t);
  const r = await callRig(t, pbxToFar(b.port));
  const a = await caller(t);
  const call = await placeCall(a, r.sipPort, '2002');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  call.inDialog('INFO', ['Content-Type: application/dtmf-relay']);
  const info = await within(a, /^SIP\/2\.0 \d+ [\s\S]*CSeq: \d+ INFO/m, 5_000);
  assert.match(info.msg, /^SIP\/2\.0 500 /);
  assert.match(header(info.msg, 'Reason'), /^SIP;cause=599;/);
  a.send(request(a.port, call, 'INVITE', 10, sdp), r.sipPort);
  const re = await within(a, /^SIP\/2\.0 [3-6]\d\d [\s\S]*CSeq: 10 INVITE/m, 5_000);
  assert.match(re.msg, /^SIP\/2\.0 500 /);
  assert.match(header(re.msg, 'Reason'), /^SIP;cause=599;/);
  assert.equal(r.app.stats().active, 1, 'the call is still up');
  a.send(request(a.port, call, 'BYE', 11), r.sipPort);
  await cdrWhere(r, (c) => c.cause === 'normal');
});

test('bridge mode: a B leg refusing with 607: the caller gets 600 with Reason cause=607, and the next call goes through', async (t) => {
  const b = await farEnd(t);
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'bridge-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { ...addrs.control, secret: 'bridge-secret' }, target: `127.0.0.1:${b.port}`, log });
  t.after(() => app.close());
  const sipPort = addrs.sip[0]!.port;
  const a = await caller(t);
  const call = await placeCall(a, sipPort, '6072');
  assert.match(call.final, /^SIP\/2\.0 600 /);
  assert.match(header(call.final, 'Reason'), /^SIP;cause=607;/);
  const next = await placeCall(a, sipPort, '2003');
  assert.match(next.final, /^SIP\/2\.0 200 /);
  next.inDialog('BYE');
  await cdrWhere({ cdrs } as never, (c) => c.cause === 'normal');
  assert.equal(cdrs.find((c) => c.cause === 'b-leg-607')?.status, 600);
});
