#!/usr/bin/env node
// `npm run build`: src/ into dist/, the JavaScript `npm start` runs.
// esbuild bundles the product's modules and the packages they use into a few entry files and the chunks they share.
// A start then reads a handful of files instead of about three hundred of ours and as many again under node_modules,
// in each of its threads (the main thread, the engine's, each app worker's): a gateway start took 2.0 CPU-s with
// every module a file, 1.26 with ours bundled and 0.90 with the packages too (docs/performance.md). Types are checked
// by `npm run typecheck`, not here.
//
// Entries: the CLI, and every module that is loaded by URL rather than imported (worker entries, a worker's warm-up
// module; src/common/product-files.ts finds them), plus the modules the benches import from dist/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { guardDebugPlugin } from './guard-debug.mjs';

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
// Packages that stay imports from node_modules: pg reaches for an optional native module, and @fastify/swagger reads
// its own package.json from beside its files. Everything under node_modules stays installed (npm ci; the image keeps
// the production dependencies), so the console's vendor files and these resolve there.
const EXTERNAL = ['pg', '@fastify/swagger'];
// The packages' CommonJS code calls require(), which ES modules do not have.
const BANNER = "import { createRequire as tgCreateRequire } from 'node:module'; const require = tgCreateRequire(import.meta.url);";

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
  external: EXTERNAL,
  banner: { js: BANNER },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  // drachtio-srf's debug lines build their text only when DEBUG asks for them (scripts/guard-debug.mjs).
  plugins: [guardDebugPlugin],
});
if (!args.quiet) console.error(`${outdir} built in ${Date.now() - started} ms (${ENTRIES.length} entries)`);
