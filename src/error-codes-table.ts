import { errorCodes, moduleOf } from './error-codes.js';

export const README_START = '<!-- error-codes:start -->';
export const README_END = '<!-- error-codes:end -->';

/** The registry as a Markdown table, by module then code: what `npm run codes` prints and the README carries. */
export function errorCodeTable(): string {
  const codes = (Object.keys(errorCodes) as (keyof typeof errorCodes)[]).sort((x, y) =>
    moduleOf(x).localeCompare(moduleOf(y)) || x.localeCompare(y));
  const rows = codes.map((c) => `| ${moduleOf(c)} | \`${c}\` | ${errorCodes[c].replace(/\|/g, '\\|')} |`);
  return ['| part | code | meaning |', '| --- | --- | --- |', ...rows, ''].join('\n');
}
