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
