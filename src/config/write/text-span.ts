import { isCollection, isMap, isPair, isScalar, isSeq, type Node, type Pair } from 'yaml';

/** Positions in a file's text, and the spans of the nodes the `yaml` parser read from it. */

/** A replacement of `text[start, end)`; an insertion has start === end. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Applies edits that do not overlap, from the end of the text back (a deletion before an insertion at one place). */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

export function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** Just past the newline that ends the line holding `pos` (or the end of the text). */
export function lineEndAfter(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  return nl < 0 ? text.length : nl + 1;
}

export function column(text: string, pos: number): number {
  return pos - lineStart(text, pos);
}

/** The line starting at `start` (without its newline). */
export function lineAt(text: string, start: number): string {
  const nl = text.indexOf('\n', start);
  return text.slice(start, nl < 0 ? text.length : nl);
}

export function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

export const isBlank = (line: string): boolean => line.trim() === '';
export const isComment = (line: string): boolean => line.trimStart().startsWith('#');

type Ranged = { range?: [number, number, number] | null };

export function startOf(node: unknown): number | undefined {
  return (node as Ranged | null)?.range?.[0] ?? undefined;
}

/** Whether a node is written on one line of its own syntax: a scalar or a flow collection. */
export function isInline(node: unknown): boolean {
  return isScalar(node) || (isCollection(node) && node.flow === true);
}

/**
 * Where a node's content ends: a scalar's or flow collection's last character, or that of the last item of a block
 * collection (so comments after it are not counted as its content).
 */
export function contentEnd(node: unknown): number | undefined {
  if (isPair(node)) return contentEnd(node.value ?? node.key);
  if (isMap(node) || isSeq(node)) {
    if (node.flow || node.items.length === 0) return (node as Ranged).range?.[1];
    return contentEnd(node.items.at(-1));
  }
  return (node as Ranged | null)?.range?.[1] ?? undefined;
}

/** The whole lines a map pair or a list item takes, from its key (or dash) to the end of its content's last line. */
export function linesOf(text: string, node: Pair | Node): { start: number; end: number } | undefined {
  const first = isPair(node) ? startOf(node.key) : startOf(node);
  const last = contentEnd(node);
  if (first === undefined || last === undefined) return undefined;
  return { start: lineStart(text, first), end: lineEndAfter(text, last) };
}

/**
 * After the lines of a collection's last entry, the comment lines indented deeper than its entries (they belong to
 * that entry), so an entry added after it goes below them.
 */
export function afterTrailingComments(text: string, pos: number, entryIndent: number): number {
  let at = pos;
  let scan = pos;
  while (scan < text.length) {
    const line = lineAt(text, scan);
    const next = lineEndAfter(text, scan);
    if (isComment(line) && indentOf(line) > entryIndent) at = next;
    else if (!isBlank(line)) break;
    scan = next;
  }
  return at;
}

/**
 * The span to remove with an entry: its lines, and when the entry stands as a paragraph of its own (a blank line,
 * a line less indented or the end of the text after it) the comment lines right above it at its indentation, with
 * one of the blank lines around it.
 */
export function paragraphOf(text: string, span: { start: number; end: number }, indent: number): { start: number; end: number } {
  const atEnd = span.end >= text.length;
  const after = atEnd ? '' : lineAt(text, span.end);
  if (!atEnd && !isBlank(after) && indentOf(after) >= indent) return span;
  let start = span.start;
  while (start > 0) {
    const prev = lineStart(text, start - 1);
    const line = lineAt(text, prev);
    if (!isComment(line) || indentOf(line) !== indent) break;
    start = prev;
  }
  const above = start > 0 ? lineAt(text, lineStart(text, start - 1)) : '';
  if (start > 0 && !isBlank(above) && indentOf(above) >= indent) start = span.start;
  let end = span.end;
  if (!atEnd && isBlank(after)) end = lineEndAfter(text, end);
  else if (start > 0 && isBlank(lineAt(text, lineStart(text, start - 1)))) start = lineStart(text, start - 1);
  return { start, end };
}
