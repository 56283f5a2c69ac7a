// Prints the error-code table from src/error-codes.ts and the events table from src/events.ts, or with --write puts
// each into README.md between its markers.
// npm run codes [-- --write]
import { readFileSync, writeFileSync } from 'node:fs';
import { errorCodeTable, README_END, README_START } from '../src/error-codes-table.js';
import { EVENTS_END, EVENTS_START, eventTable } from '../src/events.js';

function between(text: string, start: string, end: string, table: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} ... ${end} markers`);
  return text.slice(0, a + start.length) + '\n' + table + text.slice(b);
}

if (!process.argv.includes('--write')) {
  process.stdout.write(`${eventTable()}\n${errorCodeTable()}`);
} else {
  const readme = readFileSync('README.md', 'utf8');
  writeFileSync('README.md', between(between(readme, README_START, README_END, errorCodeTable()), EVENTS_START, EVENTS_END, eventTable()));
}
