import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callIdOf, checkRequest, cseqOf, parseMessage, getHeader, getHeaderValues, parseNameAddr, parseUri, parseVia } from '../../../../src/sip/message/index.js';

export interface TortureCase {
  file: string;
  rfc: number;
  section: string;
  valid: boolean;
  expect: 'parse' | 'reject' | number;
  note: string;
}

const dir = join(import.meta.dirname, '../../../fixtures/sip');
const cases = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TortureCase[];

/**
 * What RFC 4475 and RFC 5118 state about each valid message, written down from the RFC's text (start line, Call-ID,
 * CSeq, and the body the Content-Length delimits): the oracle for the parser, independent of it.
 */
interface ExpectedMessage {
  file: string;
  method?: string;
  uri?: string;
  status?: number;
  callId: string;
  cseq: { seq: number; method: string };
  bodyLength: number;
}
const expected = new Map((JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as ExpectedMessage[]).map((e) => [e.file, e]));

test('the RFC 4475 manifest covers every message of the RFC', () => {
  assert.equal(cases.filter((c) => c.rfc === 4475).length, 49);
});

test('the RFC 5118 manifest covers every message of the RFC', () => {
  assert.equal(cases.filter((c) => c.rfc === 5118).length, 12);
});

function request(file: string) {
  const r = parseMessage(readFileSync(join(dir, file)));
  assert.ok(r.ok && r.message.kind === 'request', `${file} parses as a request`);
  return r.message;
}

test('RFC 5118 §4.3/§4.4: a port belongs to the URI only outside the brackets', () => {
  const ambiguous = parseUri(request('rfc5118/port-ambiguous.dat').uri);
  assert.ok(ambiguous.ok);
  assert.equal(ambiguous.value.host, '[2001:db8::10:5070]');
  assert.equal(ambiguous.value.port, undefined);
  const clear = parseUri(request('rfc5118/port-unambiguous.dat').uri);
  assert.ok(clear.ok);
  assert.equal(clear.value.host, '[2001:db8::10]');
  assert.equal(clear.value.port, 5070);
});

test('RFC 5118 §4.5: received with and without IPv6 reference delimiters', () => {
  for (const [file, received] of [['rfc5118/via-received-param-with-delim.dat', '[2001:db8::9:255]'],
    ['rfc5118/via-received-param-no-delim.dat', '2001:db8::9:255']] as const) {
    const via = parseVia(getHeader(request(file), 'via')!);
    assert.ok(via.ok);
    assert.equal(via.value[0]!.host, '[2001:db8::9:1]');
    assert.equal(via.value[0]!.params['received'], received);
  }
});

test('RFC 5118 §4.7/§4.9: IPv6, IPv4 and IPv4-mapped sent-by hosts with and without ports', () => {
  const vias = getHeaderValues(request('rfc5118/mult-ip-in-header.dat'), 'via').flatMap((v) => {
    const r = parseVia(v);
    assert.ok(r.ok);
    return r.value;
  });
  assert.deepEqual(vias.map((v) => [v.transport, v.host, v.port]),
    [['UDP', '[2001:db8::9:1]', 6050], ['UDP', '192.0.2.1', undefined], ['TCP', '[2001:db8::9:255]', undefined]]);
  const mapped = request('rfc5118/ipv4-mapped-ipv6.dat');
  const top = parseVia(getHeaderValues(mapped, 'via')[0]!);
  assert.ok(top.ok);
  assert.equal(top.value[0]!.host, '[::ffff:192.0.2.10]');
  assert.equal(top.value[0]!.port, 19823);
  const contact = parseNameAddr(getHeader(mapped, 'contact')!);
  assert.ok(contact.ok);
  assert.equal(contact.value.uri.host, '[::ffff:192.0.2.2]');
});

test('RFC 5118 §4.10: both the three-colon and the two-colon reference are tolerated', () => {
  for (const file of ['rfc5118/ipv6-bug-abnf-3-colons.dat', 'rfc5118/ipv6-correct-abnf-2-colons.dat']) {
    const uri = parseUri(request(file).uri);
    assert.ok(uri.ok, file);
    assert.match(uri.value.host, /^\[2001:db8::?:192\.0\.2\.1\]$/);
  }
});

/**
 * Where the gateway answers otherwise than the RFC does, and why. RFC 4475 §3.1.1.5 calls esc02 valid, its method
 * `RE%47IST%45R` and its header `C%6Fntact` unknown ones; drachtio-srf unescape()s both (REGISTER, one more
 * Contact), so the engine answers 400 rather than hand an app a request it would read as another.
 */
const gatewayAnswers: Record<string, TortureCase['expect']> = { 'rfc4475/esc02.dat': 400 };

for (const c of cases) {
  const expect = gatewayAnswers[c.file] ?? c.expect;
  test(`RFC ${c.rfc} §${c.section} ${c.file}: ${c.note} → ${expect}`, () => {
    const bytes = readFileSync(join(dir, c.file));
    const r = parseMessage(bytes);
    if (expect === 'reject') {
      assert.equal(r.ok, false, 'the parser refuses it');
      return;
    }
    if (!r.ok && typeof expect === 'number') {
      // Refused by the parser with the request still addressable: the transport answers it with 400.
      assert.equal(expect, 400, `${r.code}: ${r.reason}`);
      assert.ok(r.partial, `${r.code}: ${r.reason}, and no partial request to answer 400 to`);
      return;
    }
    assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`);
    const msg = r.message;
    const problem = msg.kind === 'request' ? checkRequest(msg) : undefined;
    if (expect === 'parse') {
      assert.equal(problem, undefined, problem?.reason);
      const e = expected.get(c.file);
      assert.ok(e, `${c.file}: no expected values written down`);
      if (e.status !== undefined) {
        assert.equal(msg.kind, 'response');
        assert.equal(msg.kind === 'response' ? msg.status : undefined, e.status);
      } else {
        assert.equal(msg.kind, 'request');
        assert.equal(msg.kind === 'request' ? msg.method : undefined, e.method);
        assert.equal(msg.kind === 'request' ? msg.uri : undefined, e.uri);
      }
      assert.equal(callIdOf(msg), e.callId);
      assert.deepEqual(cseqOf(msg), e.cseq);
      assert.equal(msg.body.length, e.bodyLength);
    } else {
      assert.equal(problem?.status, expect, problem ? problem.reason : 'no problem found');
    }
  });
}
