// Prints the error-code table from src/error-codes.ts, or with --write puts it into README.md between its markers.
// npm run codes [-- --write]
import { readFileSync, writeFileSync } from 'node:fs';
import { errorCodeTable, README_END, README_START } from '../src/error-codes-table.js';

const table = errorCodeTable();
if (!process.argv.includes('--write')) {
  process.stdout.write(table);
} else {
  const readme = readFileSync('README.md', 'utf8');
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${README_START} ... ${README_END} markers`);
  writeFileSync('README.md', readme.slice(0, a + README_START.length) + '\n' + table + readme.slice(b));
}
