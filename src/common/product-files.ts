import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Where the product's own files are, whichever form this process runs:
 * - the TypeScript sources under src/ through tsx (tests, development), module by module;
 * - the build under dist/ (`npm run build`, scripts/build.mjs): a few entry modules and shared chunks, so a module's
 *   code is not where its source file is, and `new URL('./x.js', import.meta.url)` would point at nothing.
 * The root is the folder with package.json above this module; the form is told by this module's own extension.
 */
const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');

function findRoot(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`trunkgate: no package.json above ${from}`);
  }
}

let root: string | undefined;

/** The folder that holds package.json, src/ or dist/, console/ and the default profiles/ and pki/. */
export function productRoot(): string {
  root ??= findRoot(here);
  return root;
}

/**
 * The URL of a module that can be loaded on its own (a worker's entry, a module a worker imports by URL), by its path
 * under src/ without extension: `src/engine/worker.ts` from the sources, `dist/engine/worker.js` from the build, where
 * scripts/build.mjs makes it an entry (test/unit/common/product-files.test.ts checks each call names one).
 */
export function productModuleUrl(path: string): URL {
  return pathToFileURL(join(productRoot(), fromSources ? 'src' : 'dist', `${path}.${fromSources ? 'ts' : 'js'}`));
}
