/**
 * What the engine could not send: an app's new request (NOK to the app) and a BYE of the engine's own (the call still
 * ends for the app and in the CDR). Each is counted, and however many there are, one rate-limited line a minute says
 * so with ERR_ENGINE_SEND_FAILED, never a line apiece.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { captureLog } from '../../../support/log-capture.js';
import { flush, invite, setup } from './core-harness.js';

const unresolvable = (host: string): Promise<string> => Promise.reject(Object.assign(new Error(`${host} does not resolve`), { code: 'ENOTFOUND' }));
const sendFailedLines = (c: ReturnType<typeof captureLog>) => c.records.filter((r) => r['code'] === 'ERR_ENGINE_SEND_FAILED');

test("an app's new requests that cannot be sent get NOK, are counted, and share one log line", async () => {
  const c = captureLog();
  const h = setup(undefined, { lookup: unresolvable, log: c.log });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(h.fromApp(`OPTIONS sip:x@peer${i}.invalid SIP/2.0\nContent-Length: 0\n\n`));
    await flush();
  }
  for (const id of ids) {
    const r = h.hub.replies.find((x) => x.appMsgId === id)!;
    assert.equal(r.fields[0], 'NOK');
    assert.match(r.fields[1]!, /does not resolve/);
  }
  assert.equal(h.core.stats()['appRequestsNotSent'], 5);
  await flush();
  assert.equal(sendFailedLines(c).length, 1, 'one line for five failures');
  assert.match(String(sendFailedLines(c)[0]!['reason']), /^ENOTFOUND: /);
});

test('an engine BYE whose target does not resolve is counted; the app still hears the call ended and the CDR stops', async () => {
  const c = captureLog();
  const h = setup(undefined, { lookup: unresolvable, log: c.log });
  h.fromNet(invite().replace('Contact: <sip:alice@127.0.0.2:5070>', 'Contact: <sip:alice@pbx.invalid:5070>'));
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromApp('SIP/2.0 200 OK\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n\n', txnId);
  // No ACK: after 64*T1 the engine ends the dialog with a BYE of its own, which has nowhere to go.
  h.clock.advance(32_000);
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(h.transport.sent.filter((s) => s.text.startsWith('BYE ')).length, 0, 'no BYE went out');
  assert.equal(h.core.stats()['engineByesNotSent'], 1);
  assert.equal(h.core.stats()['dialogs'], 0);
  const frame = h.hub.sips.at(-1)!;
  assert.equal(frame.meta.transactionId, 'unsolicited');
  assert.match(frame.sip, /^BYE sip:alice@pbx\.invalid:5070 SIP\/2\.0\r\n/);
  assert.match(frame.sip, /\r\nVia: SIP\/2\.0\/UDP /, 'the BYE the app is told of has a Via');
  assert.equal(h.hub.cdrs.at(-1)!.kind, 'stop');
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'ack-timeout');
  await flush();
  assert.equal(sendFailedLines(c).length, 1);
});

test("an app's requests waiting for their target's name count against the client cap: past it they get NOK at once", async () => {
  const never = (): Promise<string> => new Promise(() => undefined);
  const h = setup({ maxClientTransactions: 2 }, { lookup: never });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(h.fromApp('OPTIONS sip:x@slow.invalid SIP/2.0\nContent-Length: 0\n\n'));
    await flush();
  }
  assert.equal(h.core.stats()['clientPending'], 2, 'two wait for the name');
  const third = h.hub.replies.find((r) => r.appMsgId === ids[2])!;
  assert.deepEqual(third.fields, ['NOK', 'too many pending requests or dialogs in the engine']);
  assert.equal(h.core.stats()['clientTableFull'], 1);
});
