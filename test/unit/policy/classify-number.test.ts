import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_CATEGORIES } from '../../../src/config/default-categories.js';
import { classifyNumber, normalizeNumber, orderCategories, type PermissionCategory } from '../../../src/policy/index.js';

test('normalizeNumber strips visual separators and keeps a leading +', () => {
  const table: [string, string][] = [
    ['+1 (212) 555-0100', '+12125550100'],
    ['212.555.0100', '2125550100'],
    ['  011 44 20 7946 0018 ', '011442079460018'],
    ['+44 (0)20 7946 0018', '+4402079460018'],
    ['1-800-FLOWERS', '1800FLOWERS'],
    ['*72#', '*72#'],
    ['++1', '++1'],
    ['1 2 3 4', '1234'],
    ['+', '+'],
    ['', ''],
    ['(555)/1234', '5551234'],
    ['+1\u00a0212\u00a05550100', '+12125550100'],
  ];
  for (const [input, want] of table) assert.equal(normalizeNumber(input), want, JSON.stringify(input));
});

test('built-in categories classify North American and international numbers', () => {
  const table: [string, string | undefined][] = [
    // toll free, every 8YY code, with and without 1 / +1
    ['8005550100', 'tollFree'],
    ['18005550100', 'tollFree'],
    ['+18005550100', 'tollFree'],
    ['1-833-555-0100', 'tollFree'],
    ['844 555 0100', 'tollFree'],
    ['+1 (855) 555-0100', 'tollFree'],
    ['8665550100', 'tollFree'],
    ['18775550100', 'tollFree'],
    ['8885550100', 'tollFree'],
    ['8225550100', 'local'], // 822 is not a toll-free code
    ['8001550100', undefined], // exchange cannot start with 1
    // 900
    ['9005550100', '900Dialing'],
    ['1-900-555-0100', '900Dialing'],
    ['+19005550100', '900Dialing'],
    // international: 011 and E.164 outside +1
    ['011442079460018', 'international'],
    ['011 33 1 23 45 67 89', 'international'],
    ['+442079460018', 'international'],
    ['+33 1 23 45 67 89', 'international'],
    ['+8613800138000', 'international'],
    ['+800 1234 5678', 'international'], // UIFN freephone is not NANP toll free
    ['+7 495 123 4567', 'international'],
    ['0114', undefined], // too short to be a number
    // long distance: 1 or +1 and ten digits
    ['12125550100', 'longDistance'],
    ['+12125550100', 'longDistance'],
    ['1 (415) 555-0100', 'longDistance'],
    ['+1 604 555 0100', 'longDistance'], // Canada is NANP
    ['11125550100', undefined], // area code cannot start with 1
    ['12121550100', undefined], // exchange cannot start with 1
    // local: ten and seven digits
    ['2125550100', 'local'],
    ['(415) 555-0100', 'local'],
    ['5550100', 'local'],
    ['555-0100', 'local'],
    ['1550100', undefined],
    // not categorised
    ['1234', undefined],
    ['911', undefined],
    ['', undefined],
    ['*72', undefined],
    ['07700900123', undefined], // mobile ships without patterns
  ];
  for (const [number, want] of table) {
    assert.equal(classifyNumber(number, BUILTIN_CATEGORIES)?.category.name, want, number);
  }
});

test('custom categories, overrides and order', () => {
  const custom: PermissionCategory[] = [
    ...BUILTIN_CATEGORIES.filter((c) => c.name !== 'mobile'),
    { name: 'mobile', order: 40, default: true, patterns: ['^07\\d{9}$', '^\\+447\\d{9}$'] },
    { name: 'emergency', default: true, patterns: ['^911$', '^112$'] },
    { name: 'premiumUk', order: 25, default: false, patterns: ['^\\+449\\d{9}$'] },
    { name: 'caribbean', order: 45, default: false, patterns: ['^\\+?1876\\d{7}$'] },
    { name: 'other', order: 1000, default: false, patterns: ['.*'] },
  ];
  const table: [string, string][] = [
    ['911', 'emergency'],
    ['112', 'emergency'],
    ['07700900123', 'mobile'],
    ['+447700900123', 'international'], // international (30) is checked before mobile (40)
    ['+449098790000', 'premiumUk'], // 25 comes before international
    ['18765550100', 'caribbean'], // caribbean (45) is checked before longDistance (50)
    ['1876555010', 'other'],
    ['1234', 'other'],
    ['18005550100', 'tollFree'],
    ['9005550100', '900Dialing'],
  ];
  for (const [number, want] of table) assert.equal(classifyNumber(number, custom)?.category.name, want, number);
  const ordered = orderCategories(custom);
  assert.deepEqual(ordered.map((c) => c.name).slice(0, 3), ['emergency', 'tollFree', '900Dialing']);
  assert.equal(ordered.at(-1)!.name, 'other');
  // already ordered: the given order is used as is
  assert.equal(classifyNumber('+447700900123', [custom.find((c) => c.name === 'mobile')!, ...custom], { ordered: true })?.category.name, 'mobile');
});

test('classification reports the pattern and the normalised number; an empty category never matches', () => {
  const r = classifyNumber('+44 20 7946 0018', BUILTIN_CATEGORIES);
  assert.equal(r?.pattern, '^\\+(?!1)\\d{4,}$');
  assert.equal(r?.number, '+442079460018');
  assert.equal(classifyNumber('123', [{ name: 'x', default: true, patterns: [] }]), undefined);
});
