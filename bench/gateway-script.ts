/**
 * How the benches start bench/gateway-process.ts. With the product from dist/ (as `npm start` runs it) the script
 * is first transpiled to JavaScript (TypeScript's transpileModule: types dropped, `npm run typecheck` checks them)
 * into .tmp/ (ignored by git), so the gateway's process is plain node as in production. Through tsx it would also
 * carry tsx's module loader, which Node 20 runs in a thread of its own with a heap of its own: its idle-time
 * collections (memory-reducer mark-compacts, 6–12 ms each) took a core from the gateway's two threads under load.
 * With --product src the TypeScript sources need tsx anyway.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'bench', 'gateway-process.ts');
const OUT = join(ROOT, '.tmp', 'bench-gateway', 'gateway-process.mjs');
let transpiled = false;

/** The node arguments that run bench/gateway-process.ts on the given product (before the script's own arguments). */
export function gatewayProcessArgs(product: 'dist' | 'src'): string[] {
  if (product === 'src') return ['--import', 'tsx', SOURCE];
  if (!transpiled) {
    const out = ts.transpileModule(readFileSync(SOURCE, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: SOURCE,
    });
    mkdirSync(join(ROOT, '.tmp', 'bench-gateway'), { recursive: true });
    writeFileSync(OUT, out.outputText);
    transpiled = true;
  }
  return [OUT, '--repo', ROOT];
}
