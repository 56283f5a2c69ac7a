import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { plainModule } from '../../support/plain-module.js';

// Objects from one allocation site, all kept alive: V8 decides to allocate that site's objects in old space
// ("=> tenure" in its pretenuring trace). After keepCallObjectsYoung() it makes no such decision. The child runs
// plain node on the module compiled here: a loader in the child changes the heap enough to move V8's decision.
const script = (modulePath: string): string => `
  if (process.argv.at(-1) === 'young') {
    const { keepCallObjectsYoung } = await import(${JSON.stringify(modulePath)});
    if (keepCallObjectsYoung() !== true) throw new Error('first call did not apply');
    if (keepCallObjectsYoung() !== false) throw new Error('second call applied again');
  }
  const keep = [];
  function make(i) { return { a: i, b: [i, i + 1], c: 'x' }; }
  for (let i = 0; i < 1e6; i++) keep.push(make(i));
  console.log('kept ' + keep.length);`;

test('keepCallObjectsYoung turns off allocation-site pretenuring for the process, once', (t) => {
  const modulePath = plainModule(t, new URL('../../../src/common/young-calls.ts', import.meta.url));
  const tenureDecisions = (kind: string): number => {
    const out = execFileSync(process.execPath, ['--trace-pretenuring-statistics', '--input-type=module', '-e', script(modulePath), kind],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.match(out, /kept 1000000/);
    return [...out.matchAll(/=> tenure/g)].length;
  };
  const asShipped = tenureDecisions('default');
  const young = tenureDecisions('young');
  assert.ok(asShipped > 0, `V8 pretenured no site without the call (${asShipped} decisions): the test shows nothing`);
  assert.equal(young, 0, `V8 pretenured ${young} sites after keepCallObjectsYoung()`);
});
