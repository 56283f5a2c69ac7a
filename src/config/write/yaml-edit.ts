import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { canonicalJson } from './etag.js';
import type { ConfigKind } from './kinds.js';
import { fitsOneLine, renderFlow, renderItem, renderPair } from './yaml-render.js';
import {
  afterTrailingComments, applyEdits, column, contentEnd, indentOf, isInline, lineAt, lineEndAfter, lineStart, linesOf,
  paragraphOf, startOf, type Edit,
} from './text-span.js';

/**
 * One entry of one file created, replaced or removed, as a text edit: every byte outside the entry stays as it
 * was (comments, blank lines, quoting, alignment), and inside a replaced entry only the values that changed are
 * rewritten, so the comments between them stay too. The result is read back and must hold exactly the intended
 * value; where the text cannot be edited in place (a section written on one line, an unusual layout) the `yaml`
 * Document API makes the change and writes the file out again, comments kept but the layout its own.
 */

/** `value` undefined removes the entry. */
export interface EntryChange {
  kind: ConfigKind;
  /** The entry's name, or a dial peer's id. */
  name: string;
  value: unknown;
}

export type EditMethod = 'in-place' | 'rewritten';

/**
 * The most cells (old items × new items) a list is compared item by item in: beyond, the list is written again whole
 * (its items' comments go), so a write of two long lists cannot hold the thread or its memory for seconds.
 */
export const MAX_LIST_DIFF_CELLS = 250_000;

/** What an edit had to do beyond the text it was given. */
interface EditStats {
  /** Lists written again whole, being too long to compare item by item (MAX_LIST_DIFF_CELLS). */
  listsWhole: number;
}

const keyOf = (p: Pair): string => (isScalar(p.key) ? String(p.key.value) : String(p.key));
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** The value of a parsed file after the change, as plain data (what the edited text must read back as). */
export function changedValue(before: unknown, c: EntryChange): Record<string, unknown> {
  const root: Record<string, unknown> = isObject(before) ? { ...before } : {};
  if (c.kind === 'dialPeers') {
    const list = Array.isArray(root.dialPeers) ? [...(root.dialPeers as unknown[])] : [];
    const i = list.findIndex((d) => isObject(d) && String(d.id) === c.name);
    if (c.value === undefined) { if (i >= 0) list.splice(i, 1); } else if (i >= 0) list[i] = c.value; else list.push(c.value);
    root.dialPeers = list;
  } else {
    const section = isObject(root[c.kind]) ? { ...(root[c.kind] as Record<string, unknown>) } : {};
    if (c.value === undefined) delete section[c.name]; else section[c.name] = c.value;
    root[c.kind] = section;
  }
  return root;
}

/**
 * The file's text with the change made; `method` says whether it was edited in place or written out again. A file
 * written with CRLF line ends keeps them. Throws when neither can make it, as when an alias (`*base`) would lose
 * the anchor (`&base`) it names.
 */
export function editEntry(text: string, c: EntryChange): { text: string; method: EditMethod } & EditStats {
  if (text.includes('\r\n')) {
    const r = editEntry(text.replace(/\r\n/g, '\n'), c);
    return { ...r, text: r.text.replace(/\n/g, '\r\n') };
  }
  const doc = parseDocument(text);
  const want = canonicalJson(changedValue(doc.toJS(), c));
  const readsBack = (t: string) => {
    try {
      const d = parseDocument(t);
      return d.errors.length === 0 && canonicalJson(d.toJS() ?? {}) === want;
    } catch {
      // An alias whose anchor the edit took away does not resolve.
      return false;
    }
  };
  const stats: EditStats = { listsWhole: 0 };
  let edits: Edit[] | undefined;
  try {
    edits = entryEdits(text, doc, c, stats);
  } catch {
    edits = undefined;
  }
  if (edits) {
    const edited = applyEdits(text, edits);
    if (readsBack(edited)) return { text: edited, method: 'in-place', ...stats };
  }
  return { text: rewrite(doc, c), method: 'rewritten', ...stats };
}

/** The change through the Document API: comments stay with their nodes, the layout is the library's. */
function rewrite(doc: Document, c: EntryChange): string {
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as never;
  if (c.kind === 'dialPeers') {
    const seq = doc.get('dialPeers', true);
    if (!isSeq(seq)) doc.set('dialPeers', doc.createNode(c.value === undefined ? [] : [c.value]));
    else {
      const i = seq.items.findIndex((it) => isMap(it) && String(it.get('id')) === c.name);
      if (c.value === undefined) { if (i >= 0) seq.delete(i); } else if (i >= 0) seq.set(i, doc.createNode(c.value)); else seq.add(doc.createNode(c.value));
    }
  } else if (c.value === undefined) doc.deleteIn([c.kind, c.name]);
  else if (isMap(doc.get(c.kind, true))) doc.setIn([c.kind, c.name], doc.createNode(c.value));
  else doc.set(c.kind, doc.createNode({ [c.name]: c.value }));
  return doc.toString({ lineWidth: 0 });
}

function entryEdits(text: string, doc: Document, c: EntryChange, stats: EditStats): Edit[] | undefined {
  const root = doc.contents;
  if (root !== null && !isMap(root)) return undefined;
  const sectionPair = root?.items.find((p) => keyOf(p) === c.kind);
  const list = c.kind === 'dialPeers';
  const newSection = () => `${c.kind}:\n${list ? renderItem(c.value, 2, true) : renderPair(c.name, c.value, 2, 2, false)}`;
  if (!sectionPair) {
    if (c.value === undefined) return undefined;
    const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    return [{ start: text.length, end: text.length, text: `${sep}${newSection()}` }];
  }
  const section = sectionPair.value;
  const whole = linesOf(text, sectionPair);
  if (!whole) return undefined;
  const empty = section === null || (isScalar(section) && section.value === null) || ((isMap(section) || isSeq(section)) && section.items.length === 0);
  if (empty) return c.value === undefined ? undefined : [{ ...whole, text: newSection() }];
  if (!(isMap(section) || isSeq(section)) || section.flow || isSeq(section) !== list) return undefined;
  const items = section.items as (Pair | Node)[];
  const index = list
    ? items.findIndex((it) => isMap(it) && String((it as YAMLMap).get('id')) === c.name)
    : items.findIndex((p) => keyOf(p as Pair) === c.name);
  const first = items[0]!;
  const indent = indentOf(lineAt(text, lineStart(text, (list ? startOf(first) : startOf((first as Pair).key))!)));
  const valueOf = (it: Pair | Node): unknown => (list ? it : (it as Pair).value);

  if (c.value === undefined) {
    if (index < 0) return undefined;
    if (items.length === 1) return [{ ...whole, text: `${c.kind}: ${list ? '[]' : '{}'}\n` }];
    const span = linesOf(text, items[index]!);
    return span ? [{ ...paragraphOf(text, span, indent), text: '' }] : undefined;
  }
  if (index < 0) {
    const last = items.at(-1)!;
    const flow = isInline(valueOf(last));
    const lastValue = valueOf(last);
    const step = isMap(lastValue) && !lastValue.flow && lastValue.items[0] ? column(text, startOf(lastValue.items[0].key)!) - indent : 2;
    const at = afterTrailingComments(text, lineEndAfter(text, contentEnd(section)!), indent);
    const entry = list ? renderItem(c.value, indent, flow) : renderPair(c.name, c.value, indent, step, flow);
    return [{ start: at, end: at, text: entry }];
  }
  const entry = items[index]!;
  const js = doc.toJS() as Record<string, unknown>;
  const old: unknown = list ? (js.dialPeers as unknown[])[index] : (js[c.kind] as Record<string, unknown>)[c.name];
  const inner = valueEdits(text, valueOf(entry), old, c.value, stats);
  if (inner) return inner;
  const span = linesOf(text, entry);
  if (!span) return undefined;
  return [{ ...span, text: list ? renderItem(c.value, indent, false) : renderPair(c.name, c.value, indent, 2, false) }];
}

/** Edits that turn one node's text into `value`'s, or undefined when the node is best written again whole. */
function valueEdits(text: string, node: unknown, old: unknown, value: unknown, stats: EditStats): Edit[] | undefined {
  if (isInline(node)) {
    if (isScalar(node) && node.value === null && (node.source === '' || node.source === undefined)) return undefined;
    const r = (node as { range?: [number, number, number] }).range;
    return r ? [{ start: r[0], end: r[1], text: renderFlow(value) }] : undefined;
  }
  if (isMap(node) && isObject(value) && isObject(old)) return mapEdits(text, node, old, value, stats);
  if (isSeq(node) && Array.isArray(value) && Array.isArray(old)) return seqEdits(text, node, old, value, stats);
  return undefined;
}

function mapEdits(text: string, node: YAMLMap, old: Record<string, unknown>, value: Record<string, unknown>, stats: EditStats): Edit[] | undefined {
  const firstKey = startOf(node.items[0]?.key);
  if (firstKey === undefined) return undefined;
  const indent = column(text, firstKey);
  const edits: Edit[] = [];
  const seen = new Set<string>();
  for (const pair of node.items) {
    const k = keyOf(pair);
    seen.add(k);
    const span = linesOf(text, pair);
    if (!span) return undefined;
    if (!Object.hasOwn(value, k)) { edits.push({ ...span, text: '' }); continue; }
    const v = value[k];
    if (same(old[k], v)) continue;
    const inner = valueEdits(text, pair.value, old[k], v, stats);
    edits.push(...(inner ?? [{ ...span, text: renderPair(k, v, indent, 2, fitsOneLine(v)) }]));
  }
  const at = lineEndAfter(text, contentEnd(node)!);
  const added = Object.entries(value).filter(([k]) => !seen.has(k)).map(([k, v]) => renderPair(k, v, indent, 2, fitsOneLine(v))).join('');
  if (added) edits.push({ start: at, end: at, text: added });
  return edits;
}

/**
 * A block list changed item by item along their longest common run, so a kept item keeps its line and its comment,
 * a removed one loses its line, and a new one gets a line where it stands in the new list.
 */
function seqEdits(text: string, node: YAMLSeq, old: unknown[], value: unknown[], stats: EditStats): Edit[] | undefined {
  const first = startOf(node.items[0]);
  if (first === undefined || node.items.length !== old.length) return undefined;
  // The comparison holds a table of (old + 1) × (new + 1) cells: two long lists are written again whole instead.
  if (old.length * value.length > MAX_LIST_DIFF_CELLS) {
    stats.listsWhole++;
    return undefined;
  }
  const indent = indentOf(lineAt(text, lineStart(text, first)));
  const spans = node.items.map((it) => linesOf(text, it as Node));
  if (spans.some((s) => s === undefined)) return undefined;
  const kept = commonRun(old.map(canonicalJson), value.map(canonicalJson));
  const keptOld = new Set(kept.map(([i]) => i));
  const edits: Edit[] = spans.flatMap((s, i) => (keptOld.has(i) ? [] : [{ ...s!, text: '' }]));
  const inserts = new Map<number, string>();
  let k = 0;
  value.forEach((v, j) => {
    if (k < kept.length && kept[k]![1] === j) { k++; return; }
    const at = k > 0 ? spans[kept[k - 1]![0]]!.end : lineStart(text, first);
    inserts.set(at, (inserts.get(at) ?? '') + renderItem(v, indent, fitsOneLine(v)));
  });
  for (const [at, t] of inserts) edits.push({ start: at, end: at, text: t });
  return edits;
}

/** The longest common subsequence of two lists, as pairs of indexes in order. */
function commonRun(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  }
  const out: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m;) {
    if (a[i] === b[j]) { out.push([i, j]); i++; j++; } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++; else j++;
  }
  return out;
}
