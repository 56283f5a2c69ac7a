import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, normalizeDnsName, presentedNameMatches, sameIpAddress, wildcardCovers } from '../../../src/common/peer-name.js';

test('canonicalIp: one text per address', () => {
  const table: [string, string | undefined][] = [
    ['::1', '::1'], ['0:0:0:0:0:0:0:1', '::1'], ['[::1]', '::1'], ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['::ffff:127.0.0.1', '127.0.0.1'], ['::ffff:7f00:1', '127.0.0.1'],
    ['10.0.0.1', '10.0.0.1'], ['gw.example.com', undefined], ['', undefined], ['1.2.3', undefined], ['::g', undefined],
  ];
  for (const [text, want] of table) assert.equal(canonicalIp(text), want, text);
  assert.equal(sameIpAddress('::1', '0::1'), true);
  assert.equal(sameIpAddress('::1', '::2'), false);
  assert.equal(sameIpAddress('x', 'x'), false, 'not addresses');
});

test('wildcardCovers: the whole left-most label, one label deep, never an address or a pattern', () => {
  const table: [string, string, boolean][] = [
    ['*.example.com', 'a.example.com', true], ['*.Example.COM.', 'A.example.com', true],
    ['*.example.com', 'example.com', false], ['*.example.com', 'a.b.example.com', false], ['*.example.com', '.example.com', false],
    ['*.com', 'example.com', false], ['f*.example.com', 'fa.example.com', false], ['*.*.example.com', 'a.b.example.com', false],
    ['*.example..com', 'a.example..com', false], ['*.example.com', '*.example.com', false], ['*.0.0.1', '127.0.0.1', false],
    ['example.com', 'example.com', false],
  ];
  for (const [p, n, want] of table) assert.equal(wildcardCovers(p, n), want, `${p} ${n}`);
});

test('presentedNameMatches: case-insensitive names, addresses as addresses, wildcards only when allowed', () => {
  const table: [string, string, boolean | undefined, boolean][] = [
    ['GW.example.com.', 'gw.example.com', undefined, true],
    ['*.example.com', 'a.example.com', undefined, false],
    ['*.example.com', 'a.example.com', true, true],
    ['*.example.com', '*.example.com', true, false],
    ['0:0:0:0:0:0:0:1', '::1', undefined, true],
    ['::1', 'localhost', undefined, false],
    ['a.example.com', '', undefined, false],
  ];
  for (const [p, r, allow, want] of table) assert.equal(presentedNameMatches(p, r, allow === undefined ? {} : { allowWildcard: allow }), want, `${p} ${r} ${allow}`);
  assert.equal(normalizeDnsName(' A.B. '), 'a.b');
});
