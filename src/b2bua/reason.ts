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

/**
 * The standard reason phrases of the final statuses drachtio-srf sends (its `sip-status` table, which
 * sendable-status.ts follows; test/unit/b2bua/b-leg-answers.test.ts keeps the two the same). A caller is given these,
 * never the phrase a far end chose.
 */
const PHRASES: ReadonlyMap<number, string> = new Map([
  [300, 'Multiple Choices'], [301, 'Moved Permanently'], [302, 'Moved Temporarily'], [305, 'Use Proxy'],
  [380, 'Alternative Service'], [400, 'Bad Request'], [401, 'Unauthorized'], [402, 'Payment Required'],
  [403, 'Forbidden'], [404, 'Not Found'], [405, 'Method Not Allowed'], [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'], [408, 'Request Timeout'], [409, 'Conflict'], [410, 'Gone'],
  [411, 'Length Required'], [412, 'Conditional Request Failed'], [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Long'], [415, 'Unsupported Media Type'], [416, 'Unsupported URI Scheme'],
  [417, 'Unknown Resource-Priority'], [420, 'Bad Extension'], [421, 'Extension Required'],
  [422, 'Session Interval Too Small'], [423, 'Interval Too Brief'], [424, 'Bad Location Information'],
  [428, 'Use Identity Header'], [429, 'Provide Referrer Identity'], [430, 'Flow Failed'],
  [433, 'Anonymity Disallowed'], [436, 'Bad Identity-Info'], [437, 'Unsupported Certificate'],
  [438, 'Invalid Identity Header'], [439, 'First Hop Lacks Outbound Support'], [470, 'Consent Needed'],
  [480, 'Temporarily Unavailable'], [481, 'Call Leg/Transaction Does Not Exist'], [482, 'Loop Detected'],
  [483, 'Too Many Hops'], [484, 'Address Incomplete'], [485, 'Ambiguous'], [486, 'Busy Here'],
  [487, 'Request Terminated'], [488, 'Not Acceptable Here'], [489, 'Bad Event'], [491, 'Request Pending'],
  [493, 'Undecipherable'], [494, 'Security Agreement Required'], [500, 'Server Internal Error'],
  [501, 'Not Implemented'], [502, 'Bad Gateway'], [503, 'Service Unavailable'], [504, 'Server Timeout'],
  [505, 'Version Not Supported'], [513, 'Message Too Large'], [580, 'Precondition Failure'],
  [600, 'Busy Everywhere'], [603, 'Decline'], [604, 'Does Not Exist Anywhere'], [606, 'Not Acceptable'],
]);

/** The standard phrase of a final status, or undefined for one drachtio-srf does not know. */
export function statusPhrase(status: number): string | undefined {
  return PHRASES.get(status);
}

/**
 * A far end's Reason as the caller may see it: its protocol (SIP or Q.850, RFC 3326 §2; another token could carry
 * anything) and cause only (`SIP;cause=486`, `Q.850;cause=17`), a SIP cause with its standard phrase as text. The far end's own text is its to write (a host name, an address of its
 * core): it stays in the CDR (`reasonOut`), and does not leave the gateway. Undefined when the value names no cause.
 */
export function ownedReason(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^\s*(SIP|Q\.850)\s*;\s*cause\s*=\s*(\d{1,5})\s*(?:[;,]|$)/i.exec(value);
  if (!m) return undefined;
  const protocol = m[1]!.toUpperCase();
  const cause = Number(m[2]);
  const phrase = protocol === 'SIP' ? statusPhrase(cause) : undefined;
  return `${protocol};cause=${cause}${phrase !== undefined ? `;text="${phrase}"` : ''}`;
}
