import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decidingCategory, dialableKind, featureNumbers, readings, type PermissionCategory } from '../../../src/policy/index.js';

const categories: PermissionCategory[] = [
  { name: '900Dialing', order: 20, default: false, patterns: ['^(\\+?1)?900[2-9]\\d{6}$'] },
  { name: 'international', order: 30, default: false, patterns: ['^011\\d{4,}$', '^\\+(?!1)\\d{4,}$'] },
  { name: 'longDistance', order: 50, default: true, patterns: ['^\\+?1[2-9]\\d{2}[2-9]\\d{6}$'] },
  { name: 'service', order: 70, default: true, patterns: ['^\\*\\d{2}#?$'] },
];
const permissions = { '900Dialing': false, international: false, longDistance: true, service: true };

test('dialableKind: digits with an optional leading +, or a feature code; nothing else', () => {
  for (const n of ['19005551234', '+442071234567', '0']) assert.equal(dialableKind(n), 'number', n);
  for (const n of ['*72#', '#31#19005551234', '*67*82', '*', '#']) assert.equal(dialableKind(n), 'feature', n);
  for (const n of ['', '+', '19005551234#', '1900p5551234', '1900_5551234', '19005551234;foo', '011442071234,5', 'ⴙ005551234', '１9005551234', 'alice', '+*67', '*67+1']) {
    assert.equal(dialableKind(n), undefined, n);
  }
});

test('featureNumbers: each digit run, and it less one to three leading digits', () => {
  assert.deepEqual(featureNumbers('*6719005551234'), ['6719005551234', '719005551234', '19005551234', '9005551234']);
  assert.deepEqual(featureNumbers('*72#'), ['72', '2']);
  assert.deepEqual(featureNumbers('#31#19005551234'), ['31', '1', '19005551234', '9005551234', '005551234', '05551234']);
  assert.deepEqual(featureNumbers('*#'), []);
});

test('decidingCategory: a feature prefix cannot hide a denied number; an allowed one keeps its own category', () => {
  assert.equal(decidingCategory('*6719005551234', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('*67*19005551234#', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('*72011442071234567', categories, permissions), 'international');
  assert.equal(decidingCategory('*6712125551234', categories, permissions), 'longDistance');
  assert.equal(decidingCategory('*72#', categories, permissions), 'service', 'its own category');
  assert.equal(decidingCategory('*98', categories, {}), 'service', 'denied by an empty permission set: its own');
  assert.equal(decidingCategory('19005551234', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('12125551234', categories, permissions), 'longDistance');
  assert.equal(decidingCategory('4711', categories, permissions), undefined);
});

test('readings: the compatibility form, the digits alone with a leading + kept, and the digits with * and #', () => {
  assert.deepEqual(readings('1900p5551234'), ['19005551234']);
  assert.deepEqual(readings('19005551234#'), ['19005551234']);
  assert.deepEqual(readings('１9005551234'), ['19005551234']);
  assert.deepEqual(readings('+44 20,'), ['+4420', '4420']);
  assert.deepEqual(readings('p*6719005551234'), ['6719005551234', '*6719005551234']);
  assert.deepEqual(readings('alice'), []);
});

test('decidingCategory: decoration does not carry a number past the category that denies it; a name is in none', () => {
  assert.equal(decidingCategory('1900p5551234', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('19005551234;foo', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('１9005551234', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('p*6719005551234', categories, permissions), '900Dialing');
  assert.equal(decidingCategory('011442071234,5', categories, permissions), 'international');
  assert.equal(decidingCategory('x+442071234567', categories, permissions), 'international');
  assert.equal(decidingCategory('2125551234x', categories, permissions), undefined, 'no category matches its digits either');
  assert.equal(decidingCategory('alice', categories, permissions), undefined);
});
