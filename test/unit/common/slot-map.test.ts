import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { SlotMap } from '../../../src/common/index.js';

test('a SlotMap behaves as a Map: insertion order, a re-set key keeps its place, deleted slots are reused', () => {
  const m = new SlotMap<string, { n: number }>();
  assert.equal(m.size, 0);
  assert.equal(m.get('a'), undefined);
  assert.equal(m.delete('a'), false);
  m.set('a', { n: 1 }).set('b', { n: 2 }).set('c', { n: 3 });
  m.set('a', { n: 10 });
  assert.deepEqual([...m.keys()], ['a', 'b', 'c']);
  assert.deepEqual([...m.values()].map((v) => v.n), [10, 2, 3]);
  assert.equal(m.delete('b'), true);
  assert.equal(m.has('b'), false);
  assert.equal(m.get('b'), undefined);
  m.set('d', { n: 4 });
  assert.deepEqual([...m].map(([k, v]) => `${k}=${v.n}`), ['a=10', 'c=3', 'd=4']);
  assert.deepEqual([...m.entries()].map(([k]) => k), ['a', 'c', 'd']);
  const seen: string[] = [];
  m.forEach(function (this: unknown, v, k, map) {
    assert.equal(map, m);
    assert.equal(this, seen);
    seen.push(`${k}:${v.n}`);
  }, seen);
  assert.deepEqual(seen, ['a:10', 'c:3', 'd:4']);
  assert.equal(m.size, 3);
  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual([...m], []);
  m.set('e', { n: 5 });
  assert.equal(m.get('e')?.n, 5);
  assert.equal(Object.prototype.toString.call(m), '[object SlotMap]');
});

test('object keys and a value of undefined are kept apart from a missing key', () => {
  const k1 = {};
  const k2 = {};
  const m = new SlotMap<object, number | undefined>();
  m.set(k1, undefined).set(k2, 2);
  assert.equal(m.has(k1), true);
  assert.equal(m.get(k1), undefined);
  assert.equal(m.get(k2), 2);
  assert.equal(m.size, 2);
});

// The reason the class exists: under add/delete churn, a long-lived Map promotes every value it ever held to the
// old generation; a SlotMap's values die young. Measured in bytes the young collector promoted (no timing).
test('values of a churning SlotMap are not promoted by the young collector, where a Map\'s are', () => {
  const script = `
    const { SlotMap } = await import('./src/common/slot-map.ts');
    const kind = process.argv.at(-1);
    const table = kind === 'slot' ? new SlotMap() : new Map();
    const live = [];
    let id = 0;
    await new Promise((done) => {
      const step = () => {
        for (let k = 0; k < 50; k++) {
          const key = 'call-' + id++;
          table.set(key, Array.from({ length: 30 }, (_, i) => ({ i, s: 'x' + i })));
          live.push(key);
          if (live.length > 8) table.delete(live.shift());
        }
        if (id < 150000) setImmediate(step); else done();
      };
      step();
    });`;
  const promoted = (kind: string): number => {
    const out = execFileSync(process.execPath, ['--trace-gc-nvp', '--import', 'tsx', '--input-type=module', '-e', script, kind],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    let bytes = 0;
    for (const m of out.matchAll(/gc=s .*? promoted=(\d+)/g)) bytes += Number(m[1]);
    return bytes;
  };
  const asMap = promoted('map');
  const asSlots = promoted('slot');
  assert.ok(asMap > 40e6, `a churning Map promoted ${asMap} bytes (expected most of its values: over 40 MB)`);
  assert.ok(asSlots * 5 < asMap, `SlotMap promoted ${asSlots} bytes against the Map's ${asMap}`);
});
