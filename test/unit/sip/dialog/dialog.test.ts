import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Dialog, DialogTable, dialogIdOf } from '../../../../src/sip/dialog/index.js';

const base = { callId: 'c1', localUri: '<sip:a@x>;tag=L', remoteUri: '<sip:b@y>', localSeq: 10, localContact: '<sip:x>' };

test('the dialog id is callid;from-tag=<UAC tag> in both roles', () => {
  assert.equal(dialogIdOf('abc@h', 't1'), 'abc@h;from-tag=t1');
  assert.equal(new Dialog({ ...base, role: 'uac', localTag: 'L', remoteTag: 'R' }).id, 'c1;from-tag=L');
  assert.equal(new Dialog({ ...base, role: 'uas', localTag: 'L', remoteTag: 'R' }).id, 'c1;from-tag=R');
});

test('local CSeq counts up by one; an older remote CSeq is refused, ACK and CANCEL are exempt', () => {
  const d = new Dialog({ ...base, role: 'uac', localTag: 'L' });
  assert.equal(d.nextSeq(), 11);
  assert.equal(d.nextSeq(), 12);
  assert.equal(d.acceptRemoteSeq(5, 'INFO'), true);
  assert.equal(d.acceptRemoteSeq(4, 'INFO'), false);
  assert.equal(d.acceptRemoteSeq(1, 'ACK'), true);
  assert.equal(d.acceptRemoteSeq(6, 'BYE'), true);
});

test('the table finds a dialog by id, by Call-ID and, once the remote tag is known, by (Call-ID, local, remote)', () => {
  const t = new DialogTable();
  const d = new Dialog({ ...base, role: 'uac', localTag: 'L' });
  t.add(d);
  assert.equal(t.get('c1;from-tag=L'), d);
  assert.equal(t.byCallId('c1'), d);
  assert.equal(t.match('c1', 'L', 'R'), undefined);
  d.remoteTag = 'R';
  t.rekey(d);
  assert.equal(t.match('c1', 'L', 'R'), d);
  t.remove(d);
  assert.equal(t.get('c1;from-tag=L'), undefined);
  assert.equal(t.size, 0);
  assert.equal(t.match('c1', 'L', 'R'), undefined);
  assert.equal(t.byCallId('c1'), undefined);
});
