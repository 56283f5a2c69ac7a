import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Wraps a fuzz target: an exception is a finding. Its input is written to fuzz/findings/<target>/ and the process
 * ends with status 1 (the libFuzzer build this runs on keeps going after a thrown error, so the target stops it).
 */
export function guard(target: string, run: (data: Buffer) => void): (data: Buffer) => void {
  return (data: Buffer) => {
    try {
      run(data);
    } catch (e) {
      finding(target, data, e);
    }
  };
}

/** The same for a target that awaits (run without --sync: Jazzer.js waits for each input's promise). */
export function guardAsync(target: string, run: (data: Buffer) => Promise<void>): (data: Buffer) => Promise<void> {
  return async (data: Buffer) => {
    try {
      await run(data);
    } catch (e) {
      finding(target, data, e);
    }
  };
}

function finding(target: string, data: Buffer, e: unknown): never {
  const dir = join(process.env.FUZZ_FINDINGS_DIR ?? join(process.cwd(), 'fuzz', 'findings'), target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `crash-${createHash('sha1').update(data).digest('hex')}`);
  writeFileSync(file, data);
  process.stderr.write(`\n==fuzz== ${target}: finding written to ${file}\n${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}

export function fail(message: string): never {
  throw new Error(message);
}
