#!/usr/bin/env node
// `npm run build`: src/ into dist/, the JavaScript `npm start` runs.
// esbuild bundles the product's own modules into a few entry files and the chunks they share; the packages under
// node_modules stay imports. A start then reads a handful of files instead of about three hundred modules in each of
// its threads (the main thread, the engine's, each app worker's): loading the gateway's module graph took 0.74 CPU-s
// as separate modules and 0.40 as one bundle (docs/performance.md). Types are checked by `npm run typecheck`, not here.
//
// Entries: the CLI, and every module that is loaded by URL rather than imported (worker entries, a worker's warm-up
// module; src/common/product-files.ts finds them), plus the modules the benches import from dist/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES = [
  'main',
  // Loaded by URL: productModuleUrl() in src/engine/worker.ts, src/b2bua/workers/app-worker.ts and src/gateway.ts.
  'engine/worker',
  'b2bua/workers/app-worker',
  'prewarm/b2bua-prewarm',
  // Imported from dist/ by bench/gateway-process.ts and bench/latency-probe.ts.
  'gateway',
  'config/index',
  'log/index',
];

// --outdir: another folder than dist/ (a test lays out the image's files elsewhere), --quiet: no closing line.
const { values: args } = parseArgs({ options: { outdir: { type: 'string' }, quiet: { type: 'boolean' } } });
const outdir = resolve(root, args.outdir ?? 'dist');
const started = Date.now();
// Nothing from an earlier build stays: a module left over from it would hide a missing entry.
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ENTRIES.map((e) => `src/${e}.ts`),
  outdir,
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
});
if (!args.quiet) console.error(`${outdir} built in ${Date.now() - started} ms (${ENTRIES.length} entries)`);
