// The default JSON-lines CDR file of a test gateway (`<profiles>/../cdr/cdr.jsonl`), read whole: the file rotates at
// the first record of a new UTC day (and by size), so a run that crosses midnight has its records in two files. The
// rotated ones (`cdr-<UTC start>.jsonl`, names sorting in time order) come first, then the current file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROTATED = /^cdr-\d{8}T\d{6}\.\d{3}Z\.jsonl$/;

/** Every record of the gateway whose profiles directory is `profilesDir`, oldest first; [] before the file exists. */
export function readCdrFile(profilesDir: string): Array<Record<string, unknown>> {
  const dir = join(profilesDir, '..', 'cdr');
  if (!existsSync(dir)) return [];
  const names = [...readdirSync(dir).filter((n) => ROTATED.test(n)).sort(), ...(existsSync(join(dir, 'cdr.jsonl')) ? ['cdr.jsonl'] : [])];
  return names.flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
}
