/**
 * RFC 3326 Reason values for the final responses and BYEs the b2bua generates itself.
 *
 * RFC 3326 §2: `Reason: SIP ;cause=200 ;text="Call completed elsewhere"`; the text is a quoted-string
 * (RFC 3261 §25.1: `"` and `\` escaped, no CR or LF).
 * https://www.rfc-editor.org/rfc/rfc3326#section-2
 */

/** Longest text put in a Reason (the rest is cut), so a long peer identity list cannot blow up a header. */
const MAX_TEXT = 400;

/** A text made safe for a quoted-string: control characters become spaces, `"` and `\` are escaped. */
export function reasonText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  const cut = flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
  return cut.replace(/["\\]/g, (c) => `\\${c}`);
}

/** `SIP;cause=<status>;text="<text>"`. */
export function sipReason(cause: number, text: string): string {
  return `SIP;cause=${cause};text="${reasonText(text)}"`;
}

/** The Reason header of the final response that failed a B leg (drachtio-srf puts it on SipError as `res`). */
export function failureReason(err: unknown): string | undefined {
  const res = (err as { res?: { get?(name: string): string | undefined } } | null)?.res;
  const v = typeof res?.get === 'function' ? res.get('Reason') : undefined;
  // eslint-disable-next-line no-control-regex
  return typeof v === 'string' && v.length > 0 && !/[\x00-\x1f\x7f]/.test(v) ? v : undefined;
}

/** The `text` of a Reason value, unescaped, or undefined. */
export function reasonTextOf(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /;\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(value);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/**
 * How the caller of a call cleared while it rings is answered, given the Reason the clearing carries: with the
 * Reason's own failure status (a shutdown's 503), else 480, and the Reason's cause made that status (RFC 3326).
 */
export function clearedAnswer(reason: string): { status: number; reasonHeader: string } {
  const named = Number(/^SIP;cause=(\d{3})/i.exec(reason)?.[1] ?? 0);
  const status = named >= 400 && named < 700 ? named : 480;
  return { status, reasonHeader: reason.replace(/^SIP;cause=\d+/i, `SIP;cause=${status}`) };
}
