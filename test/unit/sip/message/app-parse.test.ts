import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAppText, parseMessage, type ParseResult } from '../../../../src/sip/message/index.js';
import { srfProblem } from './srf-oracle.js';

/**
 * Whatever the engine's parser accepts, drachtio-srf can parse (issue: a lower-case `sip/2.0` or a bare CR passed
 * the engine, srf threw and the transaction leaked). Every byte value goes into every position of every header
 * value and of the start line of a real request and a real response; each message the parser accepts goes through
 * drachtio-srf's parser, its header parsers and its meta-line split, and none may fail.
 */

const requestLines = [
  'INVITE sip:+15551234567@gw.example.com;user=phone SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-74bf9;rport',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@example.com>;tag=9fxced76sl',
  'To: <sip:+15551234567@gw.example.com>',
  'Call-ID: 3848276298220188511@192.0.2.10',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@192.0.2.10:5060;transport=udp>',
  'Route: <sip:gw.example.com;lr>',
  'Record-Route: <sip:p1.example.com;lr>',
  'Authorization: Digest username="alice", realm="example.com", nonce="ab1", uri="sip:gw.example.com", response="00"',
  'P-Asserted-Identity: <sip:alice@example.com>',
  'Refer-To: <sip:carol@example.com>',
  'Subject: lunch',
  'Content-Type: application/sdp',
  'X-Custom: a=b;c',
];
const responseLines = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/TCP 192.0.2.20;branch=z9hG4bK-1;received=192.0.2.21',
  'From: <sip:b@example.com>;tag=a1',
  'To: <sip:c@example.com>;tag=b2',
  'Call-ID: x7@host',
  'CSeq: 2 INVITE',
  'Contact: <sip:c@192.0.2.20>',
  'WWW-Authenticate: Digest realm="example.com", nonce="n", algorithm=MD5',
  'Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c"',
  'Server: trunkgate-test',
];
const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

function message(lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'utf8');
}

/**
 * Every byte value 0x00–0xff. A lone byte of 0x80 or above is not UTF-8 and reads as U+FFFD whatever its value,
 * so 0x81–0xff repeat 0x80's verdict; the characters after them are the multi-byte ones that matter: C1 NEL,
 * NO-BREAK SPACE, the two JavaScript line terminators, BOM and IDEOGRAPHIC SPACE (white space to srf's `\s`).
 */
const INSERTS: { bytes: Buffer; label: string }[] = [
  ...Array.from({ length: 256 }, (_, b) => ({ bytes: Buffer.from([b]), label: `byte 0x${b.toString(16)}` })),
  ...['\u0085', '\u00a0', '\u2028', '\u2029', '\ufeff', '\u3000'].map((c) => ({
    bytes: Buffer.from(c, 'utf8'), label: `U+${c.codePointAt(0)!.toString(16)}`,
  })),
];

interface Sweep {
  tried: number;
  accepted: number;
  failures: string[];
}

/** Inserts each byte value at each offset of the line's value (after ': ', or anywhere in a start line). */
function sweep(lines: string[], line: number, into: Sweep): void {
  const text = lines[line]!;
  const from = line === 0 ? 0 : text.indexOf(':') + 1;
  const head = lines.slice(0, line).map((l) => `${l}\r\n`).join('');
  const tail = `${lines.slice(line + 1).map((l) => `${l}\r\n`).join('')}Content-Length: ${body.length}\r\n\r\n${body}`;
  for (let at = from; at <= text.length; at++) {
    let lone: boolean | undefined;
    for (const ins of INSERTS) {
      into.tried++;
      const b = ins.bytes.length === 1 ? ins.bytes[0]! : -1;
      if (b > 0x80) {
        if (lone) into.accepted++;
        continue;
      }
      const bytes = Buffer.concat([Buffer.from(head + text.slice(0, at)), ins.bytes, Buffer.from(`${text.slice(at)}\r\n${tail}`)]);
      const r: ParseResult = parseMessage(bytes);
      if (b === 0x80) lone = r.ok;
      if (!r.ok) continue;
      into.accepted++;
      const problem = srfProblem(r.message);
      if (problem && into.failures.length < 10) into.failures.push(`${ins.label} at ${at} of '${text}': ${problem}`);
    }
  }
}

for (const [kind, lines] of [['request', requestLines], ['response', responseLines]] as const) {
  test(`every byte in every position of every ${kind} header value: what the parser accepts, drachtio-srf parses`, () => {
    const base = parseMessage(message(lines));
    assert.ok(base.ok, base.ok ? '' : base.reason);
    assert.equal(srfProblem(base.message), undefined);
    const s: Sweep = { tried: 0, accepted: 0, failures: [] };
    for (let i = 0; i < lines.length; i++) sweep(lines, i, s);
    assert.deepEqual(s.failures, []);
    // The sweep exercised both sides: most single-byte insertions are harmless, some are refused.
    assert.ok(s.accepted > s.tried / 4 && s.accepted < s.tried, `${s.accepted} of ${s.tried} accepted`);
  });
}

test('every message of the SIP fuzz corpus (RFC 4475/5118, traces, past findings) the parser accepts, drachtio-srf parses', () => {
  const dir = join(import.meta.dirname, '../../../../fuzz/corpus/sip-parser');
  let accepted = 0;
  const files = readdirSync(dir);
  for (const f of files) {
    const r = parseMessage(readFileSync(join(dir, f)));
    if (!r.ok) continue;
    accepted++;
    assert.equal(srfProblem(r.message), undefined, f);
  }
  assert.ok(files.length >= 60 && accepted >= 30, `${accepted} of ${files.length} accepted`);
});

test('fuzz finding: a quote and comma in a Via sent-by made srf read a second Via it could not parse', () => {
  const r = parseMessage(readFileSync(join(import.meta.dirname, '../../../../fuzz/corpus/sip-parser/crash-119602875d27ae0b42456526ccfc9cf79fde852b')));
  assert.equal(r.ok ? 'ok' : r.code, 'ERR_SIP_PARSE_VIA');
});

test("the compact form e (Content-Encoding) is refused naming it, since drachtio-srf files it as another header; the long form passes", () => {
  const withLine = (line: string) => parseMessage(message([...requestLines.slice(0, 2), line, ...requestLines.slice(2)]));
  const compact = withLine('e: gzip');
  assert.ok(!compact.ok);
  assert.match(compact.reason, /compact header name 'e'/);
  const long = withLine('Content-Encoding: gzip');
  assert.ok(long.ok, long.ok ? '' : long.reason);
  assert.equal(srfProblem(long.message), undefined);
});

test('a header whose lower-cased name is a property of a plain object (constructor, __proto__) is refused: drachtio-srf would not file it under its name', () => {
  const withLine = (line: string) => parseMessage(message([...requestLines.slice(0, 2), line, ...requestLines.slice(2)]));
  for (const name of ['constructor', 'Constructor', '__proto__', '__PROTO__']) {
    const r = withLine(`${name}: x`);
    assert.ok(!r.ok, name);
    assert.match(r.reason, /property name/);
  }
  // srf lower-cases first: valueOf and toString are valueof and tostring to it, which no plain object holds.
  for (const name of ['X-Constructor', 'valueOf', 'toString']) assert.ok(withLine(`${name}: x`).ok, name);
});

test('Contact, Route, Record-Route and Path lists must read as the same addresses to drachtio-srf, over all their lines', () => {
  const withLines = (...lines: string[]) => parseMessage(message([...requestLines.slice(0, 2), ...lines, ...requestLines.slice(2)]));
  const refused = (...lines: string[]) => {
    const r = withLines(...lines);
    assert.ok(!r.ok, lines.join(' / '));
    assert.equal(r.code, 'ERR_SIP_PARSE_ADDRESS');
    assert.match(r.reason, /drachtio-srf reads/);
  };
  refused('Record-Route: sip:p1.example, sip:p2.example'); // a bare URI swallows the comma after it
  refused('Record-Route: <sip:p1.example;lr>;x=a/b, <sip:p2.example;lr>'); // a parameter value srf stops at
  refused('Route: <sip:p1.example;lr>', 'Route: sip:p2.example', 'Route: <sip:p3.example;lr>'); // lines joined by srf
  for (const ok of [['Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>'], ['Route: <sip:p1.example;lr>', 'Route: <sip:p2.example;lr>'],
    ['Record-Route: sip:p1.example;lr, <sip:p2.example;lr>']]) {
    const r = withLines(...ok);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(srfProblem(r.message), undefined);
  }
});

test("a second To tag is refused in a request (the app would key its dialog by another tag) and let through in a response, as sipp's [last_To:];tag= writes it", () => {
  const request = parseMessage(message(requestLines.map((l) => (l.startsWith('To:') ? `${l};tag=x1;tag=x2` : l))));
  assert.ok(!request.ok);
  assert.equal(request.code, 'ERR_SIP_PARSE_TO');
  const response = parseMessage(message(responseLines.map((l) => (l.startsWith('To:') ? `${l};tag=b3` : l))));
  assert.ok(response.ok, response.ok ? '' : response.reason);
  assert.equal(srfProblem(response.message), undefined);
});

test('app text is held to the wire parser\'s address lists and request tags: the engine would send what its own parser refuses', () => {
  const problems: string[] = [];
  const twoContacts = 'SIP/2.0 200 OK\r\nContact: <sip:+1@localhost>q:? 1 INVITE\r\nContact: <sip:a@127.0.0.2:5060>\r\nContent-Length: 0\r\n\r\n';
  assert.equal(parseAppText(twoContacts, (p) => problems.push(p)), undefined);
  assert.match(problems[0] ?? '', /drachtio-srf reads 1/);
  const twoTags = 'INVITE sip:b@127.0.0.3 SIP/2.0\r\nFrom: <sip:a@localhost>;tag=1;tag=2\r\nTo: <sip:b@127.0.0.3>\r\n\r\n';
  assert.equal(parseAppText(twoTags, (p) => problems.push(p)), undefined);
  assert.match(problems[1] ?? '', /tag is not the one drachtio-srf reads/);
  assert.ok(parseAppText('SIP/2.0 200 OK\r\nContact: <sip:a@127.0.0.2:5060>, <sip:b@127.0.0.2:5062>\r\n\r\n'));
});

test('the oracle itself fails on what drachtio-srf cannot take', () => {
  const ok = parseMessage(message(requestLines));
  assert.ok(ok.ok && ok.message.kind === 'request');
  const m = ok.message;
  assert.match(srfProblem({ ...m, version: 'sip/2.0' }) ?? '', /SipMessage/);
  const withHeader = (name: string, value: string) => ({ ...m, headers: m.headers.map((h) => (h.name === name ? { ...h, value } : h)) });
  assert.match(srfProblem(withHeader('to', ';tag=1')) ?? '', /getParsedHeader\(to\)/);
  assert.match(srfProblem(withHeader('via', 'sip/2.0/udp 192.0.2.1')) ?? '', /getParsedHeader\(via\)/);
  assert.match(srfProblem(withHeader('authorization', 'Digest')) ?? '', /getParsedHeader\(authorization\)/);
  assert.match(srfProblem(withHeader('call-id', 'a|b')) ?? '', /meta line/);
});

test('the parser refuses, naming the part: lower-case version, a bare CR, a | in the Call-ID, a repeated Max-Forwards', () => {
  const refused = (lines: string[]) => {
    const r = parseMessage(message(lines));
    assert.equal(r.ok, false, lines.join(' / '));
    return r.ok ? undefined : r;
  };
  const swap = (i: number, line: string) => requestLines.map((l, j) => (j === i ? line : l));
  let r = refused(swap(0, 'INVITE sip:+15551234567@gw.example.com sip/2.0'));
  assert.equal(r?.code, 'ERR_SIP_PARSE_VERSION');
  assert.ok(r?.partial, 'answerable with 400');
  r = refused(swap(5, 'Call-ID: 38|48@192.0.2.10'));
  assert.equal(r?.code, 'ERR_SIP_PARSE_CALL_ID');
  r = refused(swap(3, 'From: "Alice" <sip:alice@example.com>;tag=9f|x'));
  assert.equal(r?.code, 'ERR_SIP_PARSE_FROM');
  r = refused(swap(13, 'Subject: lu\rnch'));
  assert.equal(r?.code, 'ERR_SIP_PARSE_CONTROL_CHARACTER');
  assert.match(r?.reason ?? '', /^Subject: character 0x0d/);
  r = refused([...requestLines, 'Max-Forwards: 69']);
  assert.equal(r?.code, 'ERR_SIP_PARSE_DUPLICATE_HEADER');
  r = refused(swap(1, 'Via: sip/2.0/udp 192.0.2.10:5060;branch=z9hG4bK-74bf9'));
  assert.equal(r?.code, 'ERR_SIP_PARSE_VIA');
  assert.equal(r?.partial, undefined, 'no usable top Via: dropped, not answered');
  const resp = parseMessage(message(['SIP/2.0 200 O\u0000K', ...responseLines.slice(1)]));
  assert.equal(resp.ok ? 'ok' : resp.code, 'ERR_SIP_PARSE_START_LINE');
});

test('a %-escape in a header name, the method or the CSeq method is refused, naming it: drachtio-srf unescapes all three', () => {
  const refused = (lines: string[]) => {
    const r = parseMessage(message(lines));
    assert.equal(r.ok, false, lines.join(' / '));
    return r.ok ? undefined : r;
  };
  const escapes = 'holds a %-escape, which drachtio-srf unescapes';
  // To an app `%58-Trunkgate-Peer` would be the engine's own X-Trunkgate-Peer, filed before the engine's copy.
  for (const name of ['%58-Trunkgate-Peer', 'x-trunkgate%2Dpeer', 'Content%2DLength', 'P-Asserted%2DIdentity', 'X-Foo%41', 'Subject%u0041']) {
    const r = refused([...requestLines, `${name}: tenant=bank;verified=1`]);
    assert.equal(r?.code, 'ERR_SIP_PARSE_HEADER', name);
    assert.equal(r?.reason, `header name '${name}' ${escapes}`);
    assert.ok(r?.partial, 'answered with 400');
    const res = parseMessage(message([...responseLines, `${name}: 0`]));
    assert.equal(res.ok ? 'ok' : res.code, 'ERR_SIP_PARSE_HEADER', `a response with ${name}`);
  }
  // `B%59E` is no method to the engine, and BYE to an app.
  const bye = ['B%59E sip:+15551234567@gw.example.com SIP/2.0', ...requestLines.slice(1).map((l) => l.replace('314159 INVITE', '2 B%59E'))];
  let r = refused(bye);
  assert.equal(r?.code, 'ERR_SIP_PARSE_START_LINE');
  assert.equal(r?.reason, `method 'B%59E' ${escapes}`);
  assert.ok(r?.partial, 'answered with 400');
  r = refused(requestLines.map((l) => l.replace('314159 INVITE', '1 INV%49TE')));
  assert.equal(r?.code, 'ERR_SIP_PARSE_CSEQ');
  assert.equal(r?.reason, `CSeq method 'INV%49TE' ${escapes}`);
  assert.ok(r?.partial, 'answered with 400');
  const res = parseMessage(message(responseLines.map((l) => l.replace('2 INVITE', '2 INV%49TE'))));
  assert.equal(res.ok ? 'ok' : `${res.code}: ${res.reason}`, `ERR_SIP_PARSE_CSEQ: CSeq method 'INV%49TE' ${escapes}`);
  // A % that is no escape is read as written by both: RFC 4475 §3.1.1.2 has one in a method and a name.
  const plain = parseMessage(message(['IN%in sip:+15551234567@gw.example.com SIP/2.0',
    ...requestLines.slice(1).map((l) => l.replace('314159 INVITE', '1 IN%in')), 'X-Per%zent%u12: 1']));
  assert.ok(plain.ok, plain.ok ? '' : plain.reason);
  assert.equal(srfProblem(plain.message), undefined);
  const problems: string[] = [];
  assert.equal(parseAppText('SIP/2.0 200 OK\r\n%58-Trunkgate-Peer: x\r\n\r\n', (p) => problems.push(p)), undefined);
  assert.deepEqual(problems, [`header name '%58-Trunkgate-Peer' ${escapes}`]);
});

test('the oracle itself fails on a header name, method or CSeq method drachtio-srf reads otherwise', () => {
  const req = parseMessage(message(requestLines));
  assert.ok(req.ok && req.message.kind === 'request');
  const m = req.message;
  const forged = { ...m, headers: [...m.headers, { name: '%58-trunkgate-peer', raw: '%58-Trunkgate-Peer', value: 'tenant=bank' }] };
  assert.equal(srfProblem(forged), "header '%58-Trunkgate-Peer' is %58-trunkgate-peer to the engine, x-trunkgate-peer to drachtio-srf");
  const withCSeq = (value: string) => m.headers.map((h) => (h.name === 'cseq' ? { ...h, value } : h));
  assert.equal(srfProblem({ ...m, method: 'B%59E', headers: withCSeq('2 B%59E') }), 'method B%59E is BYE to drachtio-srf');
  assert.equal(srfProblem({ ...m, headers: withCSeq('1 INV%49TE') }), 'CSeq method INV%49TE is INVITE to drachtio-srf');
});
