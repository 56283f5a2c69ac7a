import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { productModuleUrl, productRoot, withoutTypeScriptLoader } from '../../../src/common/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('the product root is the folder with package.json, and a module by URL is its source file when run from the sources', () => {
  assert.equal(join(productRoot(), '/'), root);
  const url = productModuleUrl('engine/worker');
  // Under scripts/test.mjs with dist/ built, worker threads run the build (product-files.ts, workersFromBuild).
  const built = process.env.TRUNKGATE_TEST_PRODUCT === 'dist';
  assert.equal(fileURLToPath(url), join(root, built ? 'dist/engine/worker.js' : 'src/engine/worker.ts'));
});

test('a built worker gets the process options without the flags that load tsx, and keeps the others', () => {
  assert.deepEqual(withoutTypeScriptLoader(['--import', 'tsx', '--enable-source-maps']), ['--enable-source-maps']);
  assert.deepEqual(withoutTypeScriptLoader(['--import=tsx', '--loader', '/x/node_modules/tsx/dist/esm/index.mjs']), []);
  assert.deepEqual(withoutTypeScriptLoader(['-r', 'tsx/cjs', '--stack-trace-limit=50']), ['--stack-trace-limit=50']);
  // Other loaders, and a flag whose value only contains the letters, stay.
  assert.deepEqual(withoutTypeScriptLoader(['--import', './setup.mjs', '--import', 'tsxish']), ['--import', './setup.mjs', '--import', 'tsxish']);
  assert.deepEqual(withoutTypeScriptLoader(['--import']), ['--import']);
});

test('every module the product loads by URL is an entry of the build, so dist/ has a file for it', () => {
  const build = readFileSync(join(root, 'scripts/build.mjs'), 'utf8');
  const entries = [...(/const ENTRIES = \[([\s\S]*?)\];/.exec(build)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  assert.ok(entries.includes('main'), `entries read from scripts/build.mjs: ${entries.join(', ')}`);
  const loaded = sources(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/(?:productModuleUrl|startProductWorker)\('([^']+)'/g)].map((m) => m[1]!));
  assert.ok(loaded.length >= 3, `found ${loaded.join(', ')}`);
  for (const m of loaded) {
    assert.ok(entries.includes(m), `${m} is loaded by URL but is not an entry of scripts/build.mjs`);
    assert.ok(existsSync(join(root, 'src', `${m}.ts`)), `src/${m}.ts exists`);
  }
});
