import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseMessage, serializeMessage, getHeader, getHeaderValues, parseUri, parseNameAddr, parseVia,
  callIdOf, cseqOf, fromTagOf, toTagOf, branchOf, formatUri, formatNameAddr, setHeader, prependHeader, removeHeader,
} from '../../../../src/sip/message/index.js';

const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
const invite = [
  'INVITE sip:bob@example.com;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport',
  'v: SIP/2.0/TCP [::1]:5070;branch=z9hG4bK-2, SIP/2.0/UDP h.example.com;branch=z9hG4bK-3',
  'Max-Forwards: 70',
  'f: "Alice \\"A\\"" <sip:alice@example.com>;tag=abc',
  'To: sip:bob@example.com',
  'i: call-1@127.0.0.1',
  'CSeq: 4711 INVITE',
  'Contact: <sip:alice@127.0.0.1:5061;transport=udp>;expires=60, <sip:alt@127.0.0.1>',
  'Subject: first line',
  '  continued',
  'c: application/sdp',
  `l: ${Buffer.byteLength(sdp)}`,
  '',
  sdp,
].join('\r\n');

test('parses a request with compact forms, folding and multi-value headers', () => {
  const r = parseMessage(Buffer.from(invite));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  const m = r.message;
  assert.equal(m.kind, 'request');
  if (m.kind !== 'request') return;
  assert.equal(m.method, 'INVITE');
  assert.equal(m.uri, 'sip:bob@example.com;transport=udp');
  assert.equal(getHeader(m, 'Call-ID'), 'call-1@127.0.0.1');
  assert.equal(getHeader(m, 'subject'), 'first line continued');
  assert.deepEqual(getHeaderValues(m, 'via').length, 3);
  assert.equal(getHeaderValues(m, 'contact').length, 2);
  assert.equal(m.body.toString(), sdp);
  assert.equal(callIdOf(m), 'call-1@127.0.0.1');
  assert.deepEqual(cseqOf(m), { seq: 4711, method: 'INVITE' });
  assert.equal(fromTagOf(m), 'abc');
  assert.equal(toTagOf(m), undefined);
  assert.equal(branchOf(m), 'z9hG4bK-1');
});

test('serialize then parse gives the same message, with Content-Length recomputed', () => {
  const a = parseMessage(Buffer.from(invite));
  assert.ok(a.ok);
  const bytes = serializeMessage(a.message);
  const b = parseMessage(bytes);
  assert.ok(b.ok);
  assert.deepEqual(b.message.body, a.message.body);
  assert.equal(getHeaderValues(b.message, 'via').length, 3);
  assert.equal(bytes.toString().match(/Content-Length/gi)?.length, 1);
});

test('a response parses, and status and reason are read', () => {
  const r = parseMessage(Buffer.from('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'));
  assert.ok(r.ok);
  assert.equal(r.message.kind, 'response');
  if (r.message.kind === 'response') {
    assert.equal(r.message.status, 180);
    assert.equal(r.message.reason, 'Ringing');
  }
});

test('failures are values with codes; a bad but addressable request keeps a partial', () => {
  const base = 'Via: SIP/2.0/UDP a;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n';
  const cases: Array<[string, string, boolean]> = [
    ['', 'ERR_SIP_PARSE_EMPTY', false],
    ['OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n\r\n', 'ERR_SIP_PARSE_MISSING_HEADER', false],
    [`OPTIONS sip:a@b SIP/2.0\r\n${base}CSeq: 1 INVITE\r\n\r\n`, 'ERR_SIP_PARSE_CSEQ', true],
    [`OPTIONS sip:a@b SIP/2.0\r\n${base}CSeq: 99999999999 OPTIONS\r\n\r\n`, 'ERR_SIP_PARSE_CSEQ', true],
    [`OPTIONS sip:a@b SIP/7.0\r\n${base}CSeq: 1 OPTIONS\r\n\r\n`, 'ERR_SIP_PARSE_VERSION', true],
    [`OPTIONS sip:a@b SIP/2.0\r\n${base}CSeq: 1 OPTIONS\r\nContent-Length: 50\r\n\r\nabc`, 'ERR_SIP_PARSE_CONTENT_LENGTH', true],
    [`OPTIONS sip:a@b SIP/2.0\r\n${base}CSeq: 1 OPTIONS\r\nContent-Length: -1\r\n\r\n`, 'ERR_SIP_PARSE_CONTENT_LENGTH', true],
    ['SIP/2.0 99 Odd\r\n\r\n', 'ERR_SIP_PARSE_START_LINE', false],
  ];
  for (const [text, code, partial] of cases) {
    const r = parseMessage(Buffer.from(text));
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.equal(r.code, code, text);
      assert.equal(r.partial !== undefined, partial, text);
    }
  }
});

test('Content-Length shorter than the datagram truncates the body', () => {
  const r = parseMessage(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhello'));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'he');
});

test('limits reject hostile input quickly with their own codes', () => {
  const big = Buffer.alloc(1024 * 1024, 0x41);
  let r = parseMessage(big);
  assert.ok(!r.ok && r.code === 'ERR_SIP_PARSE_TOO_LARGE');
  const many = 'OPTIONS sip:a@b SIP/2.0\r\n' + 'X-A: 1\r\n'.repeat(10000) + '\r\n';
  r = parseMessage(Buffer.from(many), { maxMessageBytes: 1 << 20 });
  assert.ok(!r.ok && r.code === 'ERR_SIP_PARSE_TOO_MANY_HEADERS');
  const long = 'OPTIONS sip:a@b SIP/2.0\r\nX-A: ' + 'a'.repeat(100000) + '\r\n\r\n';
  r = parseMessage(Buffer.from(long), { maxMessageBytes: 1 << 20 });
  assert.ok(!r.ok && r.code === 'ERR_SIP_PARSE_LINE_TOO_LONG');
  // Complete limits are used as given, each of the three.
  const msg = Buffer.from(invite);
  const lines = invite.split('\r\n\r\n')[0]!.split('\r\n');
  const headerCount = lines.length - 2; // the start line, and Subject's continuation
  const complete = { maxMessageBytes: msg.length, maxHeaders: headerCount, maxLineBytes: 8192 };
  assert.equal(parseMessage(msg, complete).ok, true);
  r = parseMessage(msg, { ...complete, maxHeaders: headerCount - 1 });
  assert.ok(!r.ok && r.code === 'ERR_SIP_PARSE_TOO_MANY_HEADERS');
  r = parseMessage(msg, { ...complete, maxMessageBytes: msg.length - 1 });
  assert.ok(!r.ok && r.code === 'ERR_SIP_PARSE_TOO_LARGE');
  r = parseMessage(msg, { ...complete, maxLineBytes: 40 });
  assert.ok(!r.ok && r.code === 'ERR_SIP_PARSE_LINE_TOO_LONG');
});

test('URIs: sip, sips, tel, IPv6, escapes, params and headers; other schemes are an error naming the scheme', () => {
  const u = parseUri('sips:al%20ice:pw@[2001:db8::1]:5061;transport=tls;lr?Subject=hi%20there');
  assert.ok(u.ok);
  if (u.ok) {
    assert.equal(u.value.scheme, 'sips');
    assert.equal(u.value.user, 'al ice');
    assert.equal(u.value.password, 'pw');
    assert.equal(u.value.host, '[2001:db8::1]');
    assert.equal(u.value.port, 5061);
    assert.deepEqual(u.value.params, { transport: 'tls', lr: null });
    assert.deepEqual(u.value.headers, { Subject: 'hi there' });
    const again = parseUri(formatUri(u.value));
    assert.ok(again.ok);
    assert.deepEqual(again.ok && again.value, u.value);
  }
  const t = parseUri('tel:+1-212-555-0101;phone-context=example.com');
  assert.ok(t.ok && t.value.scheme === 'tel' && t.value.host === '+1-212-555-0101');
  const x = parseUri('http://example.com');
  assert.ok(!x.ok && /unsupported scheme/.test(x.reason));
  assert.ok(!parseUri('sip:a@b:99999').ok);
  assert.ok(!parseUri('sip:a@exa mple.com').ok);
});

test('name-addr: quoted names, addr-spec params belong to the header, round trip', () => {
  const a = parseNameAddr('"A \\"quoted\\" name" <sip:a@b;transport=tcp>;tag=x;expires=5');
  assert.ok(a.ok);
  if (a.ok) {
    assert.equal(a.value.displayName, 'A "quoted" name');
    assert.deepEqual(a.value.uri.params, { transport: 'tcp' });
    assert.deepEqual(a.value.params, { tag: 'x', expires: '5' });
    const b = parseNameAddr(formatNameAddr(a.value));
    assert.deepEqual(b.ok && b.value, a.value);
  }
  const c = parseNameAddr('sip:a@b;tag=y');
  assert.ok(c.ok && c.value.params.tag === 'y' && Object.keys(c.value.uri.params).length === 0);
  const d = parseNameAddr('Bob Smith <sip:bob@b>');
  assert.ok(d.ok && d.value.displayName === 'Bob Smith');
});

test('Via: several per value, IPv6 sent-by, received and rport', () => {
  const v = parseVia('SIP/2.0/UDP [::1]:5060;branch=z9hG4bKa;rport=5062;received=10.0.0.1, SIP / 2.0 / tcp host;branch=z9hG4bKb');
  assert.ok(v.ok);
  if (v.ok) {
    assert.equal(v.value.length, 2);
    assert.equal(v.value[0]!.host, '[::1]');
    assert.equal(v.value[0]!.params.rport, '5062');
    assert.equal(v.value[1]!.transport, 'TCP');
  }
  assert.ok(!parseVia('garbage').ok);
});

test('header editing helpers keep order and display names', () => {
  const r = parseMessage(Buffer.from(invite));
  assert.ok(r.ok);
  const m = r.message;
  prependHeader(m, 'via', 'SIP/2.0/UDP top;branch=z9hG4bKtop');
  assert.equal(branchOf(m), 'z9hG4bKtop');
  setHeader(m, 'call-id', 'new');
  assert.equal(callIdOf(m), 'new');
  assert.equal(removeHeader(m, 'contact'), 1);
  assert.equal(getHeader(m, 'contact'), undefined);
  setHeader(m, 'x-trunkgate-peer', 'a');
  assert.ok(serializeMessage(m).toString().includes('X-Trunkgate-Peer: a\r\n'));
  assert.ok(serializeMessage(m).toString().includes('Call-ID: new\r\n'));
});

// A mutation run (stryker.config.mjs sets TG_MUTATION_RUN) executes this file once per mutant on instrumented code,
// ten times slower: it takes 1,000 messages there; npm test and the fuzz tier keep the full count.
const FUZZ_ROUNDS = process.env.TG_MUTATION_RUN ? 1000 : 20000;

test('seeded mutation fuzz: 20,000 mutated messages never throw', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const src = Buffer.from(invite);
  let accepted = 0;
  for (let i = 0; i < FUZZ_ROUNDS; i++) {
    const b = Buffer.from(src);
    const edits = 1 + rnd(8);
    for (let e = 0; e < edits; e++) b[rnd(b.length)] = rnd(256);
    const cut = rnd(4) === 0 ? b.subarray(0, rnd(b.length)) : b;
    const r = parseMessage(cut);
    if (r.ok) accepted++;
    else assert.match(r.code, /^ERR_SIP_PARSE_/);
  }
  // Single-byte mutations of a valid message leave some of them valid and make many invalid.
  assert.ok(accepted > 0 && accepted < FUZZ_ROUNDS, `accepted ${accepted}`);
});

test('header names are read once each, up to a bound: past it a name is still read right, and the table does not grow', async () => {
  const { MAX_HEADER_NAMES, headerNamesKept, headerNameOf, canonicalName } = await import('../../../../src/sip/message/index.js');
  for (let i = 0; i < MAX_HEADER_NAMES + 500; i++) {
    const r = parseMessage(Buffer.from(invite.replace('Subject: first line', `X-Flood-${i}: first line`)));
    assert.ok(r.ok && r.message.headers.some((h) => h.name === `x-flood-${i}`));
  }
  assert.equal(headerNamesKept(), MAX_HEADER_NAMES);
  assert.deepEqual(headerNameOf('I'), { name: 'call-id', problem: undefined, singleBit: headerNameOf('Call-ID').singleBit });
  assert.notEqual(headerNameOf('Call-ID').singleBit, 0);
  assert.deepEqual(headerNameOf('Bad Name'), { name: 'bad name', problem: "bad header name 'Bad Name'", singleBit: 0 });
  assert.equal(canonicalName('X-Past-The-Bound'), 'x-past-the-bound');
  assert.equal(headerNamesKept(), MAX_HEADER_NAMES);
  const bad = parseMessage(Buffer.from(invite.replace('Subject: first line', 'Bad Name: x')));
  assert.ok(!bad.ok && bad.code === 'ERR_SIP_PARSE_HEADER');
});
