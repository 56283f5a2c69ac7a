/**
 * The header block's lines: split at LF, a CR before it dropped (RFC 3261 §7 writes CRLF; a bare LF is read too).
 * The same lines as `split(/\r?\n/)`, at a fraction of a regular expression's cost.
 */
export function splitLines(head: string): string[] {
  const lines: string[] = [];
  let from = 0;
  for (;;) {
    const lf = head.indexOf('\n', from);
    if (lf < 0) {
      lines.push(head.slice(from));
      return lines;
    }
    lines.push(head.slice(from, lf > from && head.charCodeAt(lf - 1) === 13 ? lf - 1 : lf));
    from = lf + 1;
  }
}
