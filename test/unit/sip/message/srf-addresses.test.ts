import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, tagOf, type ParseResult, type SipMessage } from '../../../../src/sip/message/index.js';
import { srfProblem } from './srf-oracle.js';

/**
 * From and To tags as the engine and drachtio-srf read them. The engine keys dialogs by its reading (tagOf) and
 * writes the From tag into the `|`-separated meta line of each frame it hands an app; the app's dialogs go by srf's
 * reading. What the two would read otherwise is refused.
 */

const lines = (from: string, to = 'To: <sip:b@example.com>') => [
  'INVITE sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1', from, to, 'Call-ID: c1@192.0.2.1',
  'CSeq: 1 INVITE', 'Contact: <sip:a@192.0.2.1>', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
].join('\r\n');
const parse = (from: string, to?: string): ParseResult => parseMessage(Buffer.from(lines(from, to)));
const outcome = (r: ParseResult) => (r.ok ? 'ok' : `${r.code}: ${r.reason}`);

test('a tag written with a Unicode space around its `=` is no tag to the engine and one to srf: refused with 400', () => {
  for (const space of ['\u00a0', '\u2003', '\u3000', '\ufeff']) {
    const from = parse(`From: <sip:a@b>;tag${space}=x|network|9|udp`);
    assert.equal(outcome(from), 'ERR_SIP_PARSE_FROM: From tag is not the one drachtio-srf reads', `U+${space.codePointAt(0)!.toString(16)}`);
    assert.ok(!from.ok && from.partial, 'answered with 400');
    const to = parse('From: <sip:a@b>;tag=1', `To: <sip:b@example.com>;${space}tag=x|y`);
    assert.equal(outcome(to), 'ERR_SIP_PARSE_TO: To tag is not the one drachtio-srf reads');
  }
});

test('tagOf reads only SP and HTAB around `;`, `tag` and `=`, and returns only a token', () => {
  assert.equal(tagOf('<sip:a@b>;tag\u00a0=x|network|9|udp'), undefined);
  assert.equal(tagOf('<sip:a@b>;\u00a0tag=x'), undefined);
  assert.equal(tagOf('<sip:a@b>;tag=x|network'), undefined);
  assert.equal(tagOf('<sip:a@b>;tag="q"'), undefined);
  assert.equal(tagOf('<sip:a@b>;tag='), undefined);
  assert.equal(tagOf('<sip:a@b> ;\ttag \t= \tt1\t ;x'), 't1');
  // The first `>` closes the address, as srf reads it: a `>` in a later quoted parameter does not hide the tag.
  assert.equal(tagOf('<sip:a@b>;tag=t2;x=">"'), 't2');
});

test('a tag srf reads otherwise is refused: a second tag, one srf cannot reach, an address srf reads short', () => {
  for (const [from, why] of [
    ['From: <sip:a@b>;tag=a;tag=b', 'srf keeps the last'],
    ['From: <sip:a@b>;tag=a;tag', 'srf keeps the last, with no value'],
    ['From: <sip:a@b>;x=[v6];tag=a', 'srf stops at a value that is no token'],
    ['From: !"Alice" <sip:a@b>;tag=a', 'srf reads `!"Alice"` as the address'],
    ['From: Zoë <sip:a@b>;tag=a', 'srf reads an unquoted non-ASCII name as the address'],
  ] as const) {
    const r = parse(from);
    assert.equal(r.ok ? 'ok' : r.code, 'ERR_SIP_PARSE_FROM', why);
    assert.ok(!r.ok && r.partial, why);
  }
  for (const from of ['From: "Zoë" <sip:a@b>;tag=a', 'From: A B <sip:a@b> ; tag = a', 'From: sip:a@b;tag=a', 'From: <sip:a@b;tag=u>;x="y;z";tag=a']) {
    const r = parse(from);
    assert.ok(r.ok, `${from}: ${outcome(r)}`);
    assert.equal(tagOf(from.slice(6)), 'a', from);
    assert.equal(srfProblem(r.message), undefined, from);
  }
});

test('the oracle itself fails on a From tag srf reads otherwise', () => {
  const r = parse('From: <sip:a@b>;tag=1');
  assert.ok(r.ok);
  const withFrom = (value: string): SipMessage => ({ ...r.message, headers: r.message.headers.map((h) => (h.name === 'from' ? { ...h, value } : h)) });
  assert.equal(srfProblem(withFrom('<sip:a@b>;tag\u00a0=x|network|9|udp')), "from tag 'undefined' is 'x' to drachtio-srf");
  assert.equal(srfProblem(withFrom('<sip:a@b>;tag=a;tag=b')), "from tag 'a' is 'b' to drachtio-srf");
});

const response = (extra: string) => Buffer.from(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1',
  'From: <sip:a@b>;tag=1', 'To: <sip:b@example.com>;tag=2', 'Call-ID: c1@192.0.2.1', 'CSeq: 1 INVITE', extra, 'Content-Length: 0', '', ''].join('\r\n'));
const withHeader = (extra: string) => Buffer.from(lines('From: <sip:a@b>;tag=1').replace('Max-Forwards: 70', `Max-Forwards: 70\r\n${extra}`));

test('a < or a quote inside an address\'s <...> is refused: srf closes it at the first >, and then throws or splits otherwise', () => {
  // A callee's 200 with this Contact made the app's dialog throw as it read the Contact: dropped, as any response
  // the parser refuses.
  for (const contact of ['Contact: <sip:b@9.9.9.9;x=<y>,;z>', 'Contact: <sip:b@9.9.9.9;x=">,">', 'Record-Route: <sip:p;x=<y>,;z>']) {
    assert.equal(outcome(parseMessage(response(contact))).split(':')[0], 'ERR_SIP_PARSE_ADDRESS', contact);
  }
  for (const [header, reason] of [
    ['Record-Route: <sip:p;x=<y>,;z>', 'Record-Route: < inside <...>'],
    ['Route: <sip:p;lr>, <sip:q;x=">,;z">', 'Route: quote inside <...>'],
    ['Path: <sip:p<q>>', 'Path: < inside <...>'],
    ['Contact: "A" <sip:a@b;x=<y>>', 'Contact: < inside <...>'],
    ['Refer-To: <sip:c@d;x=<y>>', 'Refer-To: < inside <...>'],
    ['P-Asserted-Identity: <sip:c@d;x=">">', 'P-Asserted-Identity: quote inside <...>'],
  ] as const) {
    const r = parseMessage(withHeader(header));
    assert.equal(outcome(r), `ERR_SIP_PARSE_ADDRESS: ${reason}`, header);
    assert.ok(!r.ok && r.partial, 'answered with 400');
  }
  assert.equal(outcome(parse('From: <sip:a@b;x=<y>>;tag=1')), 'ERR_SIP_PARSE_FROM: From: < inside <...>');
  assert.equal(outcome(parse('From: <sip:a@b>;tag=1', 'To: <sip:b@c;x=">">')), 'ERR_SIP_PARSE_TO: To: quote inside <...>');
  // In a quoted display name both are plain characters.
  for (const ok of ['Contact: "a<b>\\"c," <sip:a@b>, <sip:c@d>', 'Record-Route: "<" <sip:p;lr>']) {
    const r = parseMessage(withHeader(ok));
    assert.ok(r.ok, `${ok}: ${outcome(r)}`);
    assert.equal(srfProblem(r.message), undefined, ok);
  }
});

test('the oracle itself fails on an address list srf reads otherwise or throws on', () => {
  const r = parseMessage(response('Contact: <sip:c@192.0.2.20>'));
  assert.ok(r.ok);
  const withContact = (value: string): SipMessage => ({ ...r.message, headers: r.message.headers.map((h) => (h.name === 'contact' ? { ...h, value } : h)) });
  assert.match(srfProblem(withContact('<sip:b@9.9.9.9;x=<y>,;z>')) ?? '', /^getParsedHeader\(contact\)/);
  assert.equal(srfProblem(withContact('<sip:b@9.9.9.9;x=">,">')), 'contact: 1 addresses to the engine, 2 to drachtio-srf');
});
