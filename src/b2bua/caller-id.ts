/**
 * The caller ID a B leg presents. The gateway writes the B leg's From itself: left to createB2BUA, drachtio-srf
 * builds it from `req.callingNumber` and `req.callingName`, which read P-Asserted-Identity before From. Any peer
 * could then set the number and name the carrier and the callee see, a number withheld with `Privacy` would be
 * shown, and the CDR (which records the From user) would name another caller than the one presented. The gateway
 * trusts no P-Asserted-Identity, so the identity is the From's: the number the policy classified the call by and the
 * From's display name, or the anonymous identity when the caller asked for privacy.
 */

/** RFC 3323 §4.2 privacy values under which the caller's identity is not shown to the far end. */
const WITHHELD = new Set(['id', 'user', 'header']);

/** A priv-value (RFC 3323 §4.2: a token). */
const PRIV_VALUE = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** RFC 3323 §4.1.1.3: the From of a caller who asked for anonymity. */
export const ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>';

/** Longest display name carried (the rest is cut): a caller's name is short, a flood of one is not passed on. */
const MAX_NAME = 80;

/** The priv-values of a Privacy header (RFC 3323 §4.2: `priv-value *(";" priv-value)`), lower case; malformed ones left out. */
export function privacyValues(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header.split(/[;,]/).map((v) => v.trim()).filter((v) => PRIV_VALUE.test(v)).map((v) => v.toLowerCase());
}

/** True when the Privacy header asks for the caller's identity to be withheld. */
export function identityWithheld(header: string | undefined): boolean {
  return privacyValues(header).some((v) => WITHHELD.has(v));
}

/**
 * The display name of a From value, unescaped: a quoted-string or the tokens before `<` (RFC 3261 §25.1
 * name-addr), or undefined.
 */
export function displayName(from: string | undefined): string | undefined {
  if (from === undefined) return undefined;
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"\s*</.exec(from);
  const raw = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : /^\s*([^"<]*?)\s*</.exec(from)?.[1];
  // eslint-disable-next-line no-control-regex
  const flat = raw?.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, MAX_NAME);
  return flat === undefined || flat === '' ? undefined : flat;
}

/**
 * A display name as a quoted-string. `@` goes as a quoted-pair too: the engine puts its own address in place of the
 * first `@localhost` in a new request's From, which must be the URI's and never a name's.
 */
function quoted(name: string): string {
  return `"${name.replace(/["\\@]/g, (c) => `\\${c}`)}"`;
}

/**
 * A number as a SIP URI user part (RFC 3261 §25.1 `user`): what is not unreserved or user-unreserved is
 * percent-encoded, each byte of its UTF-8 form (RFC 3986 §2.5), and so are `;` and `?`, which other parsers read as the
 * end of the user. The B leg's Request-URI user is written by it too (b-leg-target.ts `bLegUri`).
 */
export function userPart(number: string): string {
  // A lone surrogate has no UTF-8 form (encodeURIComponent would throw): it goes as U+FFFD.
  return encodeURIComponent(number.replace(/[\uD800-\uDFFF]/gu, '\uFFFD')).replace(/%(2B|26|3D|24|2C|2F)/gi, (m) => decodeURIComponent(m));
}

/**
 * The B leg's From, and its Privacy when the caller sent one. `callingNumber` is the A-leg From's user (what the
 * policy and the CDR use); the host is `localhost`, which the engine replaces with the address the INVITE leaves
 * from (docs/control-protocol.md §2.8); `scheme` follows the target's, as drachtio-srf's own From does. A caller
 * that withholds its identity, or has no number to show, is presented as anonymous; its Privacy goes on, so the
 * next hop keeps withholding whatever it learns of the caller.
 */
export function bLegIdentity(aFrom: string | undefined, privacy: string | undefined, callingNumber: string | undefined,
  scheme: 'sip' | 'sips'): Record<string, string> {
  const values = privacyValues(privacy);
  const carried: Record<string, string> = values.length > 0 ? { Privacy: values.join(';') } : {};
  if (identityWithheld(privacy) || callingNumber === undefined || callingNumber === '') return { From: ANONYMOUS_FROM, ...carried };
  const name = displayName(aFrom);
  const uri = `<${scheme}:${userPart(callingNumber)}@localhost>`;
  return { From: name === undefined ? uri : `${quoted(name)} ${uri}`, ...carried };
}
