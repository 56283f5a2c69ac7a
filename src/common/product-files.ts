import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

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
  const built = !fromSources || workersFromBuild;
  return pathToFileURL(join(productRoot(), built ? 'dist' : 'src', `${path}.${built ? 'js' : 'ts'}`));
}

/**
 * A worker thread that runs the product module at `path` (as productModuleUrl names it).
 * - A TypeScript module goes through a small bootstrap that registers tsx's loader in the thread first: Node 20
 *   resolves a worker's entry before preloaded loaders are ready.
 * - A built module does without the TypeScript loader of a test process (`--import tsx`): a thread that needs none
 *   would otherwise start tsx's loader for nothing, about 0.2 CPU-s each. Otherwise the thread inherits the
 *   process's options, as Node does by default.
 * - Its environment is a copy of process.env as it is now (unless `env` is given).
 */
export function startProductWorker(path: string, given: WorkerOptions): Worker {
  // The thread's environment is the one this thread's JavaScript sees: Node's default copies the C runtime's, which
  // no longer follows process.env once a thread has swapped it for a plain copy (b2bua/plain-environment.ts).
  const options: WorkerOptions = { env: process.env, ...given };
  const url = productModuleUrl(path);
  if (url.pathname.endsWith('.ts')) {
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    return new Worker(`import(${tsx}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
      { ...options, eval: true });
  }
  const execArgv = withoutTypeScriptLoader(process.execArgv);
  if (execArgv.length === process.execArgv.length) return new Worker(url, options);
  try {
    return new Worker(url, { ...options, execArgv });
  } catch {
    // Options given explicitly are checked, and some that a thread may inherit are refused there (V8's, such as
    // --expose-gc): the thread inherits them all then, the loader with them. Any other fault fails again below.
    return new Worker(url, options);
  }
}

const LOADER_FLAGS = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);
const isTsx = (spec: string): boolean => /(^|[\\/])tsx([\\/]|$)/.test(spec);

/** `args` without the flags that load tsx (`--import tsx`, `--import=tsx`, `--loader tsx/esm`, ...). */
export function withoutTypeScriptLoader(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    if (eq > 0 && LOADER_FLAGS.has(arg.slice(0, eq)) && isTsx(arg.slice(eq + 1))) continue;
    if (LOADER_FLAGS.has(arg) && i + 1 < args.length && isTsx(args[i + 1]!)) {
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * The test runner (scripts/test.mjs) builds dist/ before the tiers that start the gateway and says so with
 * TRUNKGATE_TEST_PRODUCT=dist. A gateway a test starts in its own process from the sources then runs its worker
 * threads from that build: each thread would otherwise compile the sources through tsx again (about 1 CPU-s per
 * engine thread, many times a run). The build and the sources are the same commit's, and the threads share only
 * messages and shared memory laid out by the same modules.
 */
const workersFromBuild = fromSources && process.env.TRUNKGATE_TEST_PRODUCT === 'dist';
