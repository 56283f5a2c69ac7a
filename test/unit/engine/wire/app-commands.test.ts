import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControlMessage, toAppSipCommand, toAppProxyCommand, type ControlMessage } from '../../../../src/engine/wire/index.js';
import { golden, payloadOf } from './golden.js';

function parsed(frame: string): ControlMessage {
  const r = parseControlMessage(payloadOf(frame));
  assert.ok(r.ok);
  return r.value;
}

test('sip response from the app: transactionId, empty dialogId, no routeUri', () => {
  const r = toAppSipCommand('c1', parsed(golden.appToServer.sipResponse!));
  assert.ok(r.ok);
  assert.equal(r.value.connId, 'c1');
  assert.equal(r.value.msgId, '5f5c1e1a-1d9e-4a53-9a40-7a2b4c3d2e14');
  assert.equal(r.value.transactionId, 'b0f5a2c8-7a1e-4c4e-9d51-0c1f3ab2d001');
  assert.equal(r.value.dialogId, '');
  assert.equal('routeUri' in r.value, false);
  assert.ok(r.value.sip.startsWith('SIP/2.0 180 Ringing\r\n'));
});

test('sip new request with a per-request outbound proxy', () => {
  const r = toAppSipCommand('c1', parsed(golden.appToServer.sipNewRequest!));
  assert.ok(r.ok);
  assert.equal(r.value.transactionId, '');
  assert.equal(r.value.dialogId, '');
  assert.equal(r.value.routeUri, 'sip:127.0.0.1:5080;lr');
});

test('a sip command without SIP text is ERR_ENGINE_MESSAGE_MALFORMED', () => {
  for (const p of ['m|sip|t|d', 'm|sip|t|d\r\n']) {
    const m = parseControlMessage(p);
    assert.ok(m.ok);
    const r = toAppSipCommand('c', m.value);
    assert.equal(!r.ok && r.code, 'ERR_ENGINE_MESSAGE_MALFORMED');
  }
});

test('proxy: flags, timeouts and every destination', () => {
  const r = toAppProxyCommand('c2', parsed(golden.appToServer.proxy!));
  assert.ok(r.ok);
  assert.deepEqual({ ...r.value, sip: undefined }, {
    connId: 'c2', msgId: '7f5c1e1a-1d9e-4a53-9a40-7a2b4c3d2e16', transactionId: 'b0f5a2c8-7a1e-4c4e-9d51-0c1f3ab2d002',
    remainInDialog: true, fullResponse: true, followRedirects: false, simultaneous: false,
    provisionalTimeout: '2s', finalTimeout: '30s', destinations: ['sip:a@127.0.0.1:5070', 'sip:b@127.0.0.1:5071'], sip: undefined,
  });
  assert.ok(r.value.sip.startsWith('INVITE sip:a@127.0.0.1:5070 SIP/2.0\r\n'));
});

test('proxy simultaneous flag; missing destinations or SIP are malformed', () => {
  const sim = parseControlMessage('m|proxy|t||||simultaneous|||sip:x@127.0.0.1\r\nINVITE sip:x@127.0.0.1 SIP/2.0\r\n\r\n');
  assert.ok(sim.ok);
  const r = toAppProxyCommand('c', sim.value);
  assert.ok(r.ok && r.value.simultaneous && !r.value.remainInDialog);
  for (const bad of ['m|proxy|t||||serial|1|2|\r\nINVITE sip:x SIP/2.0\r\n\r\n', 'm|proxy|t||||serial|1|2|sip:x', 'm|proxy|t|']) {
    const m = parseControlMessage(bad);
    assert.ok(m.ok);
    const b = toAppProxyCommand('c', m.value);
    assert.equal(!b.ok && b.code, 'ERR_ENGINE_MESSAGE_MALFORMED', bad);
  }
});
