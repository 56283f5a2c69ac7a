import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  compactForms, displayName, parseMessage, serializeMessage, serializeMessageText, type SipMessage,
} from '../../../../src/sip/message/index.js';
import { appHeaderName } from '../../../../src/sip/message/app-reading.js';

/**
 * A header the engine read by a compact form goes to an app under a name drachtio-srf files as the same header
 * (docs/control-protocol.md §2.3): `x: 90` reaches the app as `Session-Expires: 90`, value unchanged. drachtio-srf's
 * own parser is the judge.
 */
const require = createRequire(import.meta.url);
interface SrfSipMessage { headers: Record<string, string>; get(name: string): string | undefined }
const SrfSipMessage = require('drachtio-srf/lib/sip-parser/message') as new (raw: string) => SrfSipMessage;
const srfParser = require('drachtio-srf/lib/sip-parser/parser') as { getHeaderName(written: string): string };

/** A value each header's grammar takes. */
const VALUES: Record<string, string> = {
  o: 'refer;id=7', r: '<sip:carol@example.com>;method=INVITE', b: '"Bob" <sip:bob@example.com>', x: '90;refresher=uac',
  u: 'talk, hold', a: '*;audio;require', j: '*;video', d: 'proxy, recurse', y: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://cert.example.com/a.pem>;alg=ES256',
  n: '<https://cert.example.com/a.pem>;alg=rsa-sha1',
};

function parsed(lines: readonly string[]): SipMessage {
  const text = ['INVITE sip:b@example.com SIP/2.0', 'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1', 'f: <sip:a@example.com>;tag=1',
    't: <sip:b@example.com>', 'i: c1@192.0.2.1', 'CSeq: 1 INVITE', 'Max-Forwards: 70', ...lines, 'l: 0', '', ''].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`);
  return r.message;
}

test('the compact forms rewritten are exactly those drachtio-srf does not expand to the same header', () => {
  const rewritten: string[] = [];
  for (const [letter, name] of Object.entries(compactForms)) {
    const srfReadsIt = srfParser.getHeaderName(letter) === name;
    for (const written of [letter, letter.toUpperCase()]) {
      assert.equal(appHeaderName(written), srfReadsIt ? written : displayName(name), written);
    }
    if (!srfReadsIt) rewritten.push(letter);
  }
  assert.deepEqual(rewritten.sort(), ['a', 'b', 'd', 'e', 'j', 'n', 'o', 'r', 'u', 'x', 'y']);
  assert.equal(appHeaderName('z'), 'z', 'an unregistered letter stays');
  assert.equal(appHeaderName('Session-Expires'), 'Session-Expires');
});

test('each such compact header reaches drachtio-srf under its long name with its value; the network text keeps it as written', () => {
  for (const [letter, value] of Object.entries(VALUES)) {
    for (const written of [letter, letter.toUpperCase()]) {
      const msg = parsed([`${written}: ${value}`]);
      const long = displayName(compactForms[letter]!);
      const text = serializeMessageText(msg);
      assert.ok(text.includes(`\r\n${long}: ${value}\r\n`), `${written}\n${text}`);
      const srf = new SrfSipMessage(text);
      assert.equal(srf.get(long), value, written);
      assert.equal(srf.headers[letter], undefined, `${written}: no header named ${letter} to the app`);
      assert.ok(serializeMessage(msg).toString().includes(`\r\n${written}: ${value}\r\n`), `${written}: as written to the network`);
    }
  }
});

test('compact forms drachtio-srf expands itself stay as written, and every header reads to it as to the engine', () => {
  const msg = parsed(['x: 1800', 'k: timer', 'c: application/sdp', 'm: <sip:a@192.0.2.1>', 's: lunch', 'r: <sip:carol@example.com>']);
  const text = serializeMessageText(msg);
  for (const kept of ['v: ', 'f: ', 't: ', 'i: ', 'k: timer', 'c: application/sdp', 'm: <sip:a@192.0.2.1>', 's: lunch']) {
    assert.ok(text.includes(`\r\n${kept}`), `${kept}\n${text}`);
  }
  const lines = text.split('\r\n').slice(1, -2);
  assert.equal(lines.length, msg.headers.length);
  for (const [i, line] of lines.entries()) {
    assert.equal(srfParser.getHeaderName(line.slice(0, line.indexOf(':'))), msg.headers[i]!.name, line);
  }
  const srf = new SrfSipMessage(text);
  assert.equal(srf.get('Session-Expires'), '1800');
  assert.equal(srf.get('Refer-To'), '<sip:carol@example.com>');
  assert.equal(srf.get('Supported'), 'timer');
});

test('a message without such a compact form is handed over exactly as the network serializer writes it', () => {
  const plain = parsed(['Session-Expires: 90', 'Refer-To: <sip:carol@example.com>', 'X-Y: z', 'Z: one letter']);
  assert.equal(serializeMessageText(plain), serializeMessage(plain).toString('utf8'));
});
