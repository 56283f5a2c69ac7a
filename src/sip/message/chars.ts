/**
 * Character classes of RFC 3261 §25.1 as lookup tables, for the grammar checks (grammar.ts) and the header-name
 * table (headers.ts). A leaf: it imports nothing, so both can use it.
 */

/** A table of the ASCII characters in `chars`, plus the alphanumerics unless `ranges` is false. */
export function charTable(chars: string, ranges = true): Uint8Array {
  const t = new Uint8Array(128);
  if (ranges) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** RFC 3261 §25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~". */
export const TOKEN = charTable("-.!%*_+`'~");

/** Whether s[from..to) is not empty and every character of it is in `table`. */
export function allIn(s: string, table: Uint8Array, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || table[c] === 0) return false;
  }
  return true;
}

export function isToken(s: string): boolean {
  return allIn(s, TOKEN);
}

const ESCAPE = /%(?:[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})/;

/**
 * Whether s holds a `%XX` or `%uXXXX` escape: what JavaScript's unescape() decodes, and drachtio-srf unescape()s
 * header names, the method and the CSeq method. A `%` followed by anything else stays as written (RFC 4475 §3.1.1.2
 * `…0123456789_*+\`.%indeed'~` is one method to both).
 */
export function hasEscape(s: string): boolean {
  return s.indexOf('%') >= 0 && ESCAPE.test(s);
}
