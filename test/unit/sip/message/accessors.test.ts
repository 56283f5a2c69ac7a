import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cseqOf, parseVia, sentByOf, serializeMessage as serialize, tagOf as tagOfValue, topViaOf, topViaText, type Via,
} from '../../../../src/sip/message/index.js';
import { makeRequest } from '../transaction/support.js';

const parseViaText = (text: string): Via | undefined => {
  const r = parseVia(text);
  return r.ok ? r.value[0] : undefined;
};

test('parseVia reads transport, host, port and parameters, IPv6 included', () => {
  assert.deepEqual(parseViaText('SIP/2.0/udp 10.0.0.1:5060;branch=z9hG4bK1;rport;Received=1.2.3.4'), {
    protocolName: 'SIP', protocolVersion: '2.0', transport: 'UDP', host: '10.0.0.1', port: 5060,
    params: { branch: 'z9hG4bK1', rport: null, received: '1.2.3.4' },
  });
  const v6 = parseViaText('SIP / 2.0 / TLS [2001:db8::1]:5061 ;branch=z9hG4bKx');
  assert.equal(v6?.host, '[2001:db8::1]');
  assert.equal(v6?.port, 5061);
  assert.equal(v6?.params.branch, 'z9hG4bKx');
  assert.equal(sentByOf(parseViaText('SIP/2.0/UDP PBX.Example;branch=z9hG4bK2')!), 'pbx.example');
  assert.equal(parseViaText('garbage'), undefined);
  assert.equal(parseViaText('SIP/2.0/UDP host:99999;branch=x'), undefined);
});

test('topViaText takes the first entry of a comma list', () => {
  const req = makeRequest('OPTIONS');
  req.headers[0] = { name: 'via', raw: 'Via', value: 'SIP/2.0/UDP a:1;branch=z9hG4bKa, SIP/2.0/UDP b:2;branch=z9hG4bKb' };
  assert.equal(topViaText(req), 'SIP/2.0/UDP a:1;branch=z9hG4bKa');
  assert.equal(topViaOf(req)?.host, 'a');
  req.headers[0] = { name: 'via', raw: 'Via', value: '  SIP/2.0/UDP c:3;branch=z9hG4bKc  ' };
  assert.equal(topViaText(req), 'SIP/2.0/UDP c:3;branch=z9hG4bKc');
  req.headers = req.headers.filter((h) => h.name !== 'via');
  assert.equal(topViaText(req), undefined);
  assert.equal(topViaOf(req), undefined);
});

test('tagOf ignores a tag inside the URI and quoted display names', () => {
  assert.equal(tagOfValue('"A;tag=no" <sip:a@b;tag=nope>;tag=yes'), 'yes');
  assert.equal(tagOfValue('sip:a@b;tag=bare'), 'bare');
  assert.equal(tagOfValue('<sip:a@b>'), undefined);
  assert.equal(tagOfValue('<sip:a@b> ; TAG = x1'), 'x1');
});

test('cseqOf and serialize: Content-Length follows the body', () => {
  const req = makeRequest('INFO', { cseq: 42 });
  assert.deepEqual(cseqOf(req), { seq: 42, method: 'INFO' });
  req.body = Buffer.from('hello');
  const text = serialize(req).toString();
  assert.ok(text.startsWith('INFO sip:bob@127.0.0.3:5080 SIP/2.0\r\nVia: '));
  assert.ok(text.includes('\r\nContent-Length: 5\r\n\r\nhello'));
  req.headers = req.headers.filter((h) => h.name !== 'content-length');
  assert.ok(serialize(req).toString().endsWith('Content-Length: 5\r\n\r\nhello'));
});
