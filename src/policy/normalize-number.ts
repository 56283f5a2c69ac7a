/**
 * RFC 3966 §5.1.1 visual separators ("-" / "." / "(" / ")") carry no meaning, nor does white space or "/":
 * they are removed. A leading "+" marks a global number and is kept; "*" and "#" (feature codes) stay.
 * https://www.rfc-editor.org/rfc/rfc3966#section-5.1.1
 */
export function normalizeNumber(number: string): string {
  const s = number.trim();
  const plus = s.startsWith('+');
  const rest = (plus ? s.slice(1) : s).replace(/[\s\-.()/\u00a0]/g, '');
  return plus ? `+${rest}` : rest;
}
