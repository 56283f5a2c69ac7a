/**
 * Text the network sent, as the gateway keeps it or shows it. A number a URI percent-decoded (`%00`, `%1b[2J`), an
 * SNI name or a certificate name can hold any character; kept as sent, it is refused by PostgreSQL (NUL), rewrites an
 * operator's terminal (ESC) or forges a line in a text log (CR, LF). Every such string the gateway keeps (a CDR's
 * Call-ID and numbers, the call list's numbers, a connection's SNI, a TLS failure's log text) goes through
 * `printable` where it enters the record; the CLI prints every cell through `withoutControls`, whatever its source.
 *
 * The rule, one for every record: at most MAX_KEPT_CHARS UTF-16 code units, and each C0 control (U+0000-U+001F),
 * DEL (U+007F) and C1 control (U+0080-U+009F) replaced by `?`. Replaced rather than escaped (`\xNN`): one character
 * stands for one, as in the engine's refusal records (src/engine/refusal-record.ts), so the CDRs of refused and of
 * placed calls read alike in one table.
 */

/** Longest text a record keeps of any string the network sent (the engine's refusal records keep as much). */
export const MAX_KEPT_CHARS = 256;

/** What stands for each control character. */
export const CONTROL_REPLACEMENT = '?';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** `text` with each C0 control, DEL and C1 control replaced by `?`; the same string when it has none. */
export function withoutControls(text: string): string {
  return HAS_CONTROL.test(text) ? text.replace(CONTROL, CONTROL_REPLACEMENT) : text;
}

/**
 * The copy of network text a record keeps: at most `max` code units (a surrogate pair is never cut in half) with
 * no control character. A cut copy holds on to nothing of the text it was cut from (a header block, a decoded URI).
 */
export function printable(text: string, max: number = MAX_KEPT_CHARS): string {
  if (text.length <= max) return withoutControls(text);
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  // Concatenating flattens into a new string; the slice of that holds one character more than the cut.
  return withoutControls(` ${text.slice(0, end)}`.slice(1));
}

/** `printable` of a value that may be absent: null stays null (a record's "not known"). */
export function printableOrNull(text: string | null | undefined, max: number = MAX_KEPT_CHARS): string | null {
  return text === null || text === undefined ? null : printable(text, max);
}
