/**
 * The value of a Reason header the gateway writes itself: `SIP;cause=NNN;text="…"`, the text a quoted-string
 * (RFC 3261 §25.1: `"` and `\` escaped, no CR or LF; line breaks become a space).
 * https://www.rfc-editor.org/rfc/rfc3326#section-2
 */
export function reasonValue(cause: number, text: string): string {
  return `SIP;cause=${cause};text="${text.replace(/[\r\n]+/g, ' ').replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
