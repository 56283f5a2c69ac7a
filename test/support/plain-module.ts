import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * One source module and what it imports, bundled into a JavaScript file that a plain `node` child or a worker thread
 * can import (one started with tsx pays about 0.2-0.35 CPU-s for its loader). The file goes away after the test.
 */
export function plainModule(t: { after(fn: () => void): void }, source: URL): string {
  const dir = mkdtempSync(join(tmpdir(), 'plain-module-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'module.mjs');
  buildSync({ entryPoints: [source.pathname], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile, logLevel: 'warning' });
  return outfile;
}
