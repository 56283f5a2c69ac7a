import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendHeader, canonicalName, displayName, getHeaderValues, header, headersNamed, isListHeader, parseMessage, prependHeader,
  removeHeader, setHeader, splitListKeepingEmpty, type ParseResult, type SipMessage,
} from '../../../../src/sip/message/index.js';

const HEAD = {
  via: 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1', from: 'From: <sip:a@example.com>;tag=1', to: 'To: <sip:b@example.com>',
  'call-id': 'Call-ID: c1@192.0.2.1', cseq: 'CSeq: 1 OPTIONS',
} as const;

function request(drop: string[] = [], extra: string[] = [], body = '', eol = '\r\n'): Buffer {
  const lines = ['OPTIONS sip:b@example.com SIP/2.0', ...Object.entries(HEAD).filter(([k]) => !drop.includes(k)).map(([, v]) => v), 'Max-Forwards: 70', ...extra];
  return Buffer.from(`${lines.join(eol)}${eol}${eol}${body}`);
}
const failure = (r: ParseResult) => (r.ok ? 'ok' : `${r.code}: ${r.reason}`);

test('a missing mandatory header is named, in the order Via, From, To, Call-ID, CSeq, and nothing partial is kept', () => {
  for (const [drop, names] of [[['via'], 'Via'], [['from'], 'From'], [['to'], 'To'], [['call-id'], 'Call-ID'], [['cseq'], 'CSeq'],
    [['from', 'call-id'], 'From, Call-ID'], [['via', 'to', 'cseq'], 'Via, To, CSeq']] as const) {
    const r = parseMessage(request([...drop]));
    assert.equal(failure(r), `ERR_SIP_PARSE_MISSING_HEADER: missing ${names}`);
    assert.equal(!r.ok && r.partial, undefined);
  }
});

test('a repeated single-valued header is refused, with the request kept for a 400; a response keeps nothing', () => {
  for (const dup of ['From: <sip:x@example.com>;tag=2', 'To: <sip:y@example.com>', 'Call-ID: other', 'CSeq: 2 OPTIONS']) {
    const r = parseMessage(request([], [dup]));
    assert.equal(failure(r), 'ERR_SIP_PARSE_HEADER: a single-valued header (From, To, Call-ID, CSeq) appears more than once', dup);
    assert.equal(!r.ok && r.partial?.method, 'OPTIONS', dup);
  }
  const res = parseMessage(Buffer.from(`SIP/2.0 200 OK\r\n${Object.values(HEAD).join('\r\n')}\r\nTo: <sip:z@example.com>\r\n\r\n`));
  assert.equal(res.ok, false);
  assert.equal(!res.ok && res.partial, undefined);
});

test('CSeq: unreadable, or naming another method, is refused with the request kept', () => {
  const bad = parseMessage(request(['cseq'], ['CSeq: one OPTIONS']));
  assert.equal(!bad.ok && bad.code, 'ERR_SIP_PARSE_CSEQ');
  assert.ok(!bad.ok && bad.partial);
  const other = parseMessage(request(['cseq'], ['CSeq: 1 INVITE']));
  assert.equal(failure(other), 'ERR_SIP_PARSE_CSEQ: CSeq method INVITE does not match OPTIONS');
  assert.ok(!other.ok && other.partial);
});

test('Content-Length: repeated, not a number or over the body are refused; under it the body is cut', () => {
  assert.equal(failure(parseMessage(request([], ['Content-Length: 0', 'l: 0']))), 'ERR_SIP_PARSE_CONTENT_LENGTH: Content-Length appears more than once');
  assert.equal(failure(parseMessage(request([], ['Content-Length: 1x']))), "ERR_SIP_PARSE_CONTENT_LENGTH: bad Content-Length '1x'");
  assert.equal(failure(parseMessage(request([], ['Content-Length: 5'], 'abc'))), 'ERR_SIP_PARSE_CONTENT_LENGTH: Content-Length 5 exceeds the 3 body bytes');
  const cut = parseMessage(request([], ['Content-Length: 2'], 'abcd'));
  assert.ok(cut.ok);
  assert.equal(cut.message.body.toString(), 'ab');
  const exact = parseMessage(request([], ['Content-Length: 4'], 'abcd'));
  assert.ok(exact.ok && exact.message.body.toString() === 'abcd');
  const none = parseMessage(request([], [], 'xyz'));
  assert.ok(none.ok && none.message.body.toString() === 'xyz', 'no Content-Length on a datagram: the rest is the body');
});

test('line breaks: leading CRLFs are skipped, bare LF ends lines and the header block, the first blank line wins', () => {
  const lf = parseMessage(request([], [], 'v=0\n', '\n'));
  assert.ok(lf.ok, failure(lf));
  assert.equal(lf.message.body.toString(), 'v=0\n');
  const lead = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n\n'), request()]));
  assert.ok(lead.ok, failure(lead));
  assert.equal(failure(parseMessage(Buffer.from('\r\n\r\n'))), 'ERR_SIP_PARSE_EMPTY: only line breaks');
  assert.equal(failure(parseMessage(Buffer.alloc(0))), 'ERR_SIP_PARSE_EMPTY: empty message');
  // A CRLF blank line before an LF one: the CRLF one ends the headers, and the LF pair is body.
  const mixed = parseMessage(request([], ['Content-Length: 4'], 'a\n\nb'));
  assert.ok(mixed.ok && mixed.message.body.toString() === 'a\n\nb');
});

test('compact forms expand as RFC 3261 §7.3.3 and the registrations after it say', () => {
  const table: Record<string, string> = {
    i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from', s: 'subject', k: 'supported',
    t: 'to', v: 'via', o: 'event', r: 'refer-to', b: 'referred-by', x: 'session-expires', u: 'allow-events', a: 'accept-contact',
    j: 'reject-contact', d: 'request-disposition', y: 'identity', n: 'identity-info',
  };
  for (const [short, long] of Object.entries(table)) {
    assert.equal(canonicalName(short), long, short);
    assert.equal(canonicalName(short.toUpperCase()), long, short.toUpperCase());
  }
  assert.equal(canonicalName('z'), 'z', 'an unregistered letter stays');
  assert.equal(canonicalName('X-Custom'), 'x-custom');
  assert.equal(canonicalName('X-Custom'), 'x-custom', 'and again from the cache');
});

test('display names: the irregular ones, and word capitals for the rest', () => {
  const table: Record<string, string> = {
    'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', rack: 'RAck', rseq: 'RSeq', 'mime-version': 'MIME-Version',
    'p-asserted-identity': 'P-Asserted-Identity', 'p-preferred-identity': 'P-Preferred-Identity', 'sip-etag': 'SIP-ETag',
    'sip-if-match': 'SIP-If-Match', 'max-forwards': 'Max-Forwards', 'x-trunkgate-peer': 'X-Trunkgate-Peer', via: 'Via',
  };
  for (const [name, shown] of Object.entries(table)) assert.equal(displayName(name), shown, name);
});

test('list headers split at top-level commas; others never do', () => {
  const lists = ['via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported', 'accept',
    'accept-encoding', 'accept-language', 'content-encoding', 'allow-events', 'path', 'service-route', 'in-reply-to', 'alert-info',
    'call-info', 'error-info', 'reason', 'p-asserted-identity', 'accept-contact', 'reject-contact', 'request-disposition',
    'security-client', 'security-server', 'security-verify'];
  for (const n of lists) assert.equal(isListHeader(n), true, n);
  for (const n of ['from', 'to', 'call-id', 'cseq', 'subject', 'date', 'authorization', 'www-authenticate', 'user-agent']) assert.equal(isListHeader(n), false, n);
  const m = parseMessage(request([], ['Supported: timer, 100rel', 'Subject: a, b', 'Supported: path'])) as { ok: true; message: SipMessage };
  assert.deepEqual(getHeaderValues(m.message, 'supported'), ['timer', '100rel', 'path']);
  assert.deepEqual(getHeaderValues(m.message, 'k'), ['timer', '100rel', 'path'], 'by the compact name too');
  assert.deepEqual(getHeaderValues(m.message, 'subject'), ['a, b']);
  assert.deepEqual(splitListKeepingEmpty('a,,b'), ['a', '', 'b']);
  assert.deepEqual(splitListKeepingEmpty(''), ['']);
  assert.deepEqual(splitListKeepingEmpty('single'), ['single']);
  assert.deepEqual(splitListKeepingEmpty('"x,y" <sip:a,b>, z'), ['"x,y" <sip:a,b>', 'z']);
});

test('header(): the name as given, or its display form when given lower case or compact', () => {
  assert.deepEqual(header('X-Foo', '1'), { name: 'x-foo', raw: 'X-Foo', value: '1' });
  assert.deepEqual(header('call-id', '2'), { name: 'call-id', raw: 'Call-ID', value: '2' });
  assert.deepEqual(header('i', '3'), { name: 'call-id', raw: 'Call-ID', value: '3' });
  assert.deepEqual(header('CALL-ID', '4'), { name: 'call-id', raw: 'CALL-ID', value: '4' });
});

test('set, prepend, append, remove and headersNamed keep positions and count what they do', () => {
  const m = parseMessage(request([], ['Route: <sip:r1>', 'X-A: 1', 'Route: <sip:r2>'])) as { ok: true; message: SipMessage };
  const msg = m.message;
  const names = () => msg.headers.map((h) => h.name);
  const at = (n: string) => names().indexOf(n);
  const routeAt = at('route');
  assert.deepEqual(headersNamed(msg, 'route').map((h) => h.value), ['<sip:r1>', '<sip:r2>']);
  assert.deepEqual(headersNamed(msg, 'ROUTE').length, 2);
  setHeader(msg, 'route', '<sip:only>');
  assert.equal(at('route'), routeAt, 'set replaces in place of the first');
  assert.deepEqual(headersNamed(msg, 'route').map((h) => h.value), ['<sip:only>']);
  setHeader(msg, 'X-New', 'n');
  assert.equal(names().at(-1), 'x-new', 'set of an absent header appends it');
  prependHeader(msg, 'Via', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-top');
  assert.equal(msg.headers[at('via')]!.value, 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-top', 'prepend goes before the first of its name');
  prependHeader(msg, 'Record-Route', '<sip:rr>');
  assert.equal(names()[0], 'record-route', 'an absent header is prepended at the top');
  appendHeader(msg, 'Via', 'SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-last');
  assert.equal(names().at(-1), 'via');
  assert.equal(removeHeader(msg, 'via'), 3);
  assert.equal(removeHeader(msg, 'via'), 0);
  assert.equal(at('via'), -1);
});
