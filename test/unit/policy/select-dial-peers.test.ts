import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFailoverStatus, literalPrefixLength, nextDialPeer, selectDialPeers, type DialPeer } from '../../../src/policy/index.js';

test('literalPrefixLength: characters a pattern fixes at the start', () => {
  const table: [string, number][] = [
    ['^\\+?1[2-9]\\d{9}$', 1],
    ['^\\+44', 3],
    ['^\\+4420', 5],
    ['^011', 3],
    ['^01144', 5],
    ['^\\+1800\\d{7}$', 5],
    ['^\\d{4}$', 0],
    ['^[2-9]\\d{6}$', 0],
    ['^(011|\\+)\\d+', 0],
    ['^911$', 3],
    ['911', 0], // unanchored
    ['^911|^112', 0], // top-level alternation
    ['^9(11|99)', 1],
    ['^1{2}2', 3],
    ['^1{1,3}2', 1],
    ['^1{0,2}2', 1],
    ['^0{2}44', 4],
    ['^12+3', 2],
    ['^12*3', 2],
    ['^1.2', 1],
    ['^\\*72', 3],
    ['^\\d', 0],
    ['^', 0],
    ['^44?5', 2],
    ['^4(?:4)5', 1],
  ];
  for (const [p, n] of table) assert.equal(literalPrefixLength(p), n, p);
});

const peers: DialPeer[] = [
  { id: 'nanp', destinationPattern: '^(\\+?1)?[2-9]\\d{9}$', tenant: 'carrier', from: ['pbx'] },
  { id: 'nanp-backup', destinationPattern: '^(\\+?1)?[2-9]\\d{9}$', tenant: 'backup', from: ['pbx'], preference: 5 },
  { id: 'nanp-primary', destinationPattern: '^(\\+?1)?[2-9]\\d{9}$', tenant: 'carrier', from: ['pbx'], preference: 1 },
  { id: 'intl', destinationPattern: '^(011|\\+)\\d{6,}$', tenant: 'carrier', from: ['pbx'] },
  { id: 'uk', destinationPattern: '^(\\+44|01144)\\d+$', tenant: 'uk-trunk', from: ['pbx'] },
  { id: 'uk-plus', destinationPattern: '^\\+44\\d+$', tenant: 'uk-trunk' },
  { id: 'london', destinationPattern: '^\\+4420\\d+$', tenant: 'london' },
  { id: 'toll', destinationPattern: '^\\+?1?8(00|88)\\d{7}$', tenant: 'tollfree' },
  { id: 'tf-1800', destinationPattern: '^\\+1800\\d{7}$', tenant: 'tollfree' },
  { id: 'ext', destinationPattern: '^\\d{4}$', tenant: 'pbx', from: ['carrier', 'backup'] },
  { id: 'did', destinationPattern: '^\\+?1?212555\\d{4}$', tenant: 'pbx', from: ['carrier'] },
  { id: 'emergency', destinationPattern: '^911$', tenant: 'carrier' },
  { id: 'any', destinationPattern: '.*', tenant: 'fallback', preference: 100 },
];

test('selectDialPeers: preference, then longest match, then order; restricted by from', () => {
  const table: [string, string | undefined, string[]][] = [
    // explicit preferences first (1, 5, 100), then the rest by literal prefix, then file order
    ['2125550100', 'pbx', ['nanp-primary', 'nanp-backup', 'any', 'nanp']],
    ['+1 212 555 0100', 'pbx', ['nanp-primary', 'nanp-backup', 'any', 'nanp', 'intl']],
    ['2125550100', 'carrier', ['any', 'did']], // nanp* are restricted to pbx
    ['+12125550100', 'carrier', ['any', 'did']],
    ['12125551234', 'carrier', ['any', 'did']],
    ['+442079460018', 'pbx', ['any', 'london', 'uk-plus', 'intl', 'uk']], // 5 > 3 > 0 = 0 (file order)
    ['+442079460018', 'carrier', ['any', 'london', 'uk-plus']],
    ['+441610000000', undefined, ['any', 'uk-plus']],
    ['011442079460018', 'pbx', ['any', 'intl', 'uk']],
    ['+18005550100', 'pbx', ['nanp-primary', 'nanp-backup', 'any', 'tf-1800', 'toll', 'nanp', 'intl']],
    ['8885550100', 'carrier', ['any', 'toll']],
    ['1234', 'carrier', ['any', 'ext']],
    ['1234', 'backup', ['any', 'ext']],
    ['1234', 'pbx', ['any']],
    ['911', 'pbx', ['any', 'emergency']],
    ['911', undefined, ['any', 'emergency']],
    ['+7 495 123 4567', 'pbx', ['any', 'intl']],
    ['011442079', 'pbx', ['any', 'intl', 'uk']],
    ['0114420', 'pbx', ['any', 'uk']], // too short for intl (6+ digits after 011)
  ];
  for (const [number, from, want] of table) {
    assert.deepEqual(selectDialPeers(number, from, peers).map((c) => c.dialPeer.id), want, `${number} from ${from}`);
  }
});

test('selectDialPeers: no match is an empty list (404), and the literal prefix is reported', () => {
  const noAny = peers.filter((p) => p.id !== 'any');
  assert.deepEqual(selectDialPeers('12', 'pbx', noAny), []);
  assert.deepEqual(selectDialPeers('', 'pbx', noAny), []);
  assert.deepEqual(selectDialPeers('abc', 'carrier', noAny), []);
  const c = selectDialPeers('+442079460018', 'carrier', noAny);
  assert.deepEqual(c.map((x) => [x.dialPeer.id, x.prefixLength]), [['london', 5], ['uk-plus', 3]]);
  // from: [] means any source
  assert.equal(selectDialPeers('5', 'x', [{ id: 'a', destinationPattern: '^5$', tenant: 't', from: [] }]).length, 1);
});

test('nextDialPeer: failover past attempted and down trunks', () => {
  const c = selectDialPeers('2125550100', 'pbx', peers);
  const down = new Set(['backup']);
  const isDown = (d: DialPeer) => down.has(d.tenant);
  const steps: [string[], string | undefined][] = [
    [[], 'nanp-primary'],
    [['nanp-primary'], 'any'], // nanp-backup's trunk is down
    [['nanp-primary', 'any'], 'nanp'],
    [['nanp-primary', 'any', 'nanp'], undefined],
  ];
  for (const [attempted, want] of steps) {
    assert.equal(nextDialPeer(c, { attempted, isDown })?.dialPeer.id, want, attempted.join(','));
    assert.equal(nextDialPeer(c, { attempted: new Set(attempted), isDown })?.dialPeer.id, want);
  }
  assert.equal(nextDialPeer(c, { attempted: ['nanp-primary'] })?.dialPeer.id, 'nanp-backup');
  assert.equal(nextDialPeer([], { attempted: [] }), undefined);
});

test('isFailoverStatus: a server failure (500, 502, 503, 504) and 408 move on, the called party answers do not', () => {
  const table: [number, boolean][] = [[503, true], [408, true], [500, true], [502, true], [504, true], [486, false], [404, false], [403, false],
    [480, false], [200, false], [487, false], [501, false], [505, false], [513, false], [600, false], [603, false], [604, false], [606, false]];
  for (const [s, want] of table) assert.equal(isFailoverStatus(s), want, String(s));
});
