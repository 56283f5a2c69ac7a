import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse } from '../../../../src/sip/transaction/build-response.js';
import { header } from '../../../../src/sip/message/index.js';
import { makeRequest } from './support.js';

const values = (m: { headers: { name: string; value: string }[] }, n: string) => m.headers.filter((h) => h.name === n).map((h) => h.value);

test('buildResponse copies the Via list in order, From, Call-ID and CSeq (§8.2.6.2)', () => {
  const req = makeRequest('INVITE', { extraVia: ['SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2', 'SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK-3'] });
  const res = buildResponse(req, 180, 'Ringing', { toTag: 'abc' });
  assert.equal(res.status, 180);
  assert.equal(res.reason, 'Ringing');
  assert.deepEqual(values(res, 'via'), values(req, 'via'));
  for (const n of ['from', 'call-id', 'cseq']) assert.deepEqual(values(res, n), values(req, n), n);
  assert.deepEqual(values(res, 'to'), ['<sip:bob@127.0.0.3>;tag=abc']);
});

test('buildResponse keeps an existing To tag and adds extra headers and body', () => {
  const req = makeRequest('BYE', { toTag: 'keep' });
  const res = buildResponse(req, 200, 'OK', { toTag: 'other', headers: [header('Contact', '<sip:gw@127.0.0.1>')], body: Buffer.from('x') });
  assert.deepEqual(values(res, 'to'), ['<sip:bob@127.0.0.3>;tag=keep']);
  assert.deepEqual(values(res, 'contact'), ['<sip:gw@127.0.0.1>']);
  assert.equal(res.body.toString(), 'x');
  const res2 = buildResponse(req, 481, 'Call/Transaction Does Not Exist', [header('Reason', 'SIP;cause=481')]);
  assert.deepEqual(values(res2, 'reason'), ['SIP;cause=481']);
});

test('buildResponse copies Timestamp into 100 Trying only (§8.2.6.1)', () => {
  const req = makeRequest('INVITE');
  req.headers.push(header('Timestamp', '54'));
  assert.deepEqual(values(buildResponse(req, 100, 'Trying'), 'timestamp'), ['54']);
  assert.deepEqual(values(buildResponse(req, 180, 'Ringing', { toTag: 't' }), 'timestamp'), []);
});
