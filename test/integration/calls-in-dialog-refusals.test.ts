import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answer, header, ua } from '../support/mini-ua.js';
import { answeringUa, callRig, cdrWhere, pbxToFar, placeCall, within } from './calls-support.js';

/**
 * In-dialog methods the gateway does not relay, through the real engine and the real drachtio-srf: each gets 405 with
 * Allow and a Reason, reaches neither far end, and the call stays up.
 */


test('REFER, MESSAGE, NOTIFY, PUBLISH and SUBSCRIBE in a call: 405 with Allow and a Reason each, none relayed, the call stays up', async (t) => {
  const b = await answeringUa(t);
  const r = await callRig(t, pbxToFar(b.port));
  const a = await ua(t, (msg, self, from) => {
    if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
  const call = await placeCall(a, r.sipPort, '2001');
  assert.match(call.final, /^SIP\/2\.0 200 /);
  const extra: Record<string, string[]> = {
    REFER: [`Refer-To: <sip:3000@127.0.0.1:${b.port}>`],
    MESSAGE: ['Content-Type: text/plain'],
    NOTIFY: ['Event: refer', 'Subscription-State: active;expires=60'],
    PUBLISH: ['Event: presence', 'Expires: 60'],
    SUBSCRIBE: ['Event: dialog', 'Expires: 60'],
  };
  for (const method of Object.keys(extra)) {
    call.inDialog(method, extra[method]);
    const got = await within(a, new RegExp(`^SIP/2\\.0 \\d+ [\\s\\S]*CSeq: \\d+ ${method}`, 'm'), 5_000);
    assert.match(got.msg, /^SIP\/2\.0 405 /, method);
    assert.equal(header(got.msg, 'Allow'), 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK', method);
    assert.equal(header(got.msg, 'Reason'), `SIP;cause=405;text="${method} is not relayed by the gateway"`, method);
  }
  assert.equal(b.received.filter((m) => /^(REFER|MESSAGE|NOTIFY|PUBLISH|SUBSCRIBE) /.test(m)).length, 0, 'nothing reached the B leg');
  assert.deepEqual(r.app.stats().inDialogRefused, { 405: 5 });
  assert.equal(r.app.stats().active, 1, 'the call is still up');
  call.inDialog('BYE');
  await cdrWhere(r, (c) => c.cause === 'normal');
});
