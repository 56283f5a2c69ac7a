import { Document, isCollection } from 'yaml';

/**
 * YAML text for values the write API puts into a file, in the shipped files' style: an entry as a block (or on one
 * line where its siblings are), and inside it short collections on one line (`optionsPing: { intervalSeconds: 30 }`)
 * and longer ones as blocks. The `yaml` library chooses the quoting, so a string that would read back as another
 * type or cut the flow syntax is quoted.
 */

const OPTIONS = { lineWidth: 0, flowCollectionPadding: true } as const;

/** Longest collection written on one line inside a block. */
const SHORT = 72;

const isContainer = (v: unknown): v is object => v !== null && typeof v === 'object';

const isEmpty = (v: object): boolean => (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);

/** A scalar alone, or a collection on one line (`{ id: 400, tenant: pbx }`). */
export function renderFlow(value: unknown): string {
  const doc = new Document(value);
  if (isCollection(doc.contents)) doc.contents.flow = true;
  const text = unpadLists(doc.toString(OPTIONS).trimEnd());
  // A string the flow syntax would cut (a comma, a bracket) is quoted even where the block syntax would not need it.
  if (typeof value === 'string' && text === value && /[,[\]{}#&*!|>'"%@`]|^[-?:]|:\s|\s$/.test(value)) return JSON.stringify(value);
  return text;
}

/** Whether a value goes on one line inside a block: a scalar, an empty collection, or a short one. */
export function fitsOneLine(value: unknown): boolean {
  return !isContainer(value) || isEmpty(value) || renderFlow(value).length <= SHORT;
}

/** A key as YAML writes it (`"*.example.com"` is quoted: `*` would start an alias). */
export function renderKey(key: string): string {
  return renderFlow(key);
}

/** A collection's lines at `indent`: items as `- x`, pairs as `key: value`, short inner collections on one line. */
export function renderBlock(value: object, indent: number): string {
  if (Array.isArray(value)) return value.map((v: unknown) => renderItem(v, indent, fitsOneLine(v))).join('');
  return Object.entries(value).map(([k, v]) => renderPair(k, v, indent, 2, fitsOneLine(v))).join('');
}

/**
 * `key: value` at `indent`, as the lines it takes: a non-empty collection as a block under the key (its items
 * `step` further in) unless `flow`, anything else on the key's line.
 */
export function renderPair(key: string, value: unknown, indent: number, step: number, flow: boolean): string {
  const pad = ' '.repeat(indent);
  if (!flow && isContainer(value) && !isEmpty(value)) return `${pad}${renderKey(key)}:\n${renderBlock(value, indent + step)}`;
  return `${pad}${renderKey(key)}: ${renderFlow(value)}\n`;
}

/** `- value` with the dash at `indent`: one line when `flow`, else a block whose first line follows the dash. */
export function renderItem(value: unknown, indent: number, flow: boolean): string {
  const pad = ' '.repeat(indent);
  if (flow || !isContainer(value) || isEmpty(value) || Array.isArray(value)) return `${pad}- ${renderFlow(value)}\n`;
  return `${pad}- ${renderBlock(value, indent + 2).slice(indent + 2)}`;
}

/** `[ a, b ]` as `[a, b]` (the shipped files' lists), `{ a: 1 }` left padded; quoted text untouched. */
function unpadLists(text: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      out += ch;
      if (ch === '\\' && quote === '"') out += text[++i] ?? '';
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    if (ch === ' ' && (out.endsWith('[') || text[i + 1] === ']')) continue;
    out += ch;
  }
  return out;
}
