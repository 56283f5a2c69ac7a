/**
 * A Digest challenge (WWW-Authenticate or Proxy-Authenticate) read at its parameter boundaries, and the one
 * question the gateway asks before it gives credentials: would drachtio-srf, which computes the answer, read the
 * challenge as we do? Nothing here trusts the text: a value that is not one well-formed challenge is refused.
 */

/** A challenge the gateway may answer (RFC 3261 §25.1 `digest-cln`, RFC 7616 §3.3). */
export interface DigestChallenge {
  realm?: string;
  nonce?: string;
  opaque?: string;
  algorithm?: string;
  /** The qop options, in the server's order (RFC 7616 §3.3 `qop`). */
  qop?: string[];
  /** Every parameter by its lower-case name, values unquoted. */
  params: ReadonlyMap<string, string>;
}

/**
 * Why a challenge is not answered: `malformed` (not the auth-param grammar, or more than one challenge), `repeated`
 * (a parameter named twice), `unsupported` (not Digest, an algorithm other than MD5, a qop without `auth`, which is
 * all drachtio-srf computes), `misread` (drachtio-srf would read a realm, nonce, qop or opaque otherwise than this).
 */
export type ChallengeFault = 'malformed' | 'repeated' | 'unsupported' | 'misread';

export type ChallengeReading = { ok: true; challenge: DigestChallenge } | { ok: false; fault: ChallengeFault; why: string };

/** Longer than any challenge a registrar or carrier sends; past it the value is not read at all. */
const MAX_LENGTH = 4096;
const MAX_PARAMS = 32;
/** RFC 3261 §25.1 `token`. */
const TOKEN = /[A-Za-z0-9\-.!%*_+`'~]+/y;
const WS = /[ \t]*/y;

function refuse(fault: ChallengeFault, why: string): ChallengeReading {
  return { ok: false, fault, why };
}

function sticky(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/** RFC 3261 §25.1 `quoted-string` from the opening quote at `at`: its text unescaped and where it ends, or undefined. */
function quoted(text: string, at: number): { value: string; end: number } | undefined {
  let value = '';
  for (let i = at + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\r' || ch === '\n') return undefined;
    if (ch === '\\') {
      const next = text[++i];
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): never a line end.
      if (next === undefined || next === '\r' || next === '\n') return undefined;
      value += next;
    } else {
      value += ch;
    }
  }
  return undefined;
}

/**
 * The auth-params of one challenge: `Digest` then `name=token` or `name="quoted string"`, comma-separated, names
 * case-insensitive (RFC 7235 §2.1; RFC 3261 §25.1 `challenge`). "Each parameter name MUST only occur once per
 * challenge" (RFC 7235 §2.1): a second one is refused, whichever it is.
 * https://www.rfc-editor.org/rfc/rfc7235#section-2.1
 */
export function parseDigestChallenge(text: string): ChallengeReading {
  if (text.length > MAX_LENGTH) return refuse('malformed', `longer than ${MAX_LENGTH} characters`);
  let at = sticky(WS, text, 0)!.length;
  const scheme = sticky(TOKEN, text, at);
  if (scheme === undefined) return refuse('malformed', 'no auth scheme');
  if (scheme.toLowerCase() !== 'digest') return refuse('unsupported', `scheme ${scheme}, not Digest`);
  at += scheme.length;
  const gap = sticky(WS, text, at)!.length;
  if (gap === 0) return refuse('malformed', 'no parameters after Digest');
  at += gap;
  const params = new Map<string, string>();
  for (;;) {
    const name = sticky(TOKEN, text, at);
    if (name === undefined) return refuse('malformed', `no parameter name at ${at}`);
    at += name.length;
    at += sticky(WS, text, at)!.length;
    if (text[at] !== '=') {
      // `, Basic realm="x"` or `, Digest realm=…`: a second challenge in the same value (two header fields joined).
      return sticky(TOKEN, text, at) !== undefined ? refuse('malformed', 'more than one challenge') : refuse('malformed', `${name} has no value`);
    }
    at += 1;
    at += sticky(WS, text, at)!.length;
    let value: string;
    if (text[at] === '"') {
      const q = quoted(text, at);
      if (q === undefined) return refuse('malformed', `${name}: unterminated quoted string`);
      value = q.value;
      at = q.end;
    } else {
      const t = sticky(TOKEN, text, at);
      if (t === undefined) return refuse('malformed', `${name}: a value is a token or a quoted string`);
      value = t;
      at += t.length;
    }
    const key = name.toLowerCase();
    if (params.has(key)) return refuse('repeated', `${key} given twice`);
    if (params.size >= MAX_PARAMS) return refuse('malformed', `more than ${MAX_PARAMS} parameters`);
    params.set(key, value);
    at += sticky(WS, text, at)!.length;
    if (at === text.length) break;
    if (text[at] !== ',') return refuse('malformed', `unexpected ${JSON.stringify(text[at])} after ${name}`);
    at += 1;
    at += sticky(WS, text, at)!.length;
  }
  return supported(params);
}

/**
 * What drachtio-srf can answer: it hashes with MD5 and sends `algorithm=MD5` whatever the challenge asked
 * (node_modules/drachtio-srf/lib/digest-client.js), and computes only qop `auth` (no body hash for `auth-int`).
 */
function supported(params: Map<string, string>): ChallengeReading {
  const algorithm = params.get('algorithm');
  if (algorithm !== undefined && algorithm.toLowerCase() !== 'md5') return refuse('unsupported', `algorithm ${algorithm}`);
  const qopText = params.get('qop');
  const qop = qopText?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (qop !== undefined && !qop.includes('auth')) return refuse('unsupported', `qop ${qopText} has no auth`);
  const challenge: DigestChallenge = { params };
  for (const k of ['realm', 'nonce', 'opaque', 'algorithm'] as const) {
    const v = params.get(k);
    if (v !== undefined) challenge[k] = v;
  }
  if (qop !== undefined) challenge.qop = qop;
  return { ok: true, challenge };
}

/** The parameters drachtio-srf puts in its answer's hash and header. */
export interface SrfChallengeView {
  realm?: string;
  nonce?: string;
  qop?: string;
  opaque?: string;
}

/**
 * How drachtio-srf reads a challenge before it answers (node_modules/drachtio-srf/lib/digest-client.js
 * `_parseChallenge`, 5.0.29): the text after `Digest ` split at every comma, quotes or not, each piece
 * `name="value"` with case-sensitive names, the last of a name winning. test/unit/b2bua/digest-challenge.test.ts
 * holds this to srf's own function.
 */
export function srfChallengeView(text: string): SrfChallengeView {
  const view: SrfChallengeView = {};
  const m = /^\s*digest\s+/i.exec(text);
  if (!m) return view;
  for (const part of text.slice(m[0].length).split(',')) {
    const p = /^\s*?([a-zA-Z0-9]+)="?(.*?)"?\s*?$/.exec(part);
    if (p && (p[1] === 'realm' || p[1] === 'nonce' || p[1] === 'qop' || p[1] === 'opaque')) view[p[1]] = p[2]!;
  }
  return view;
}

/**
 * A challenge the gateway may answer: well-formed, supported, and read by drachtio-srf as here, so the realm the
 * gateway checks is the realm drachtio-srf hashes and sends. A quoted comma (`nonce="a,realm=x"`), an escaped
 * quote, or a name in capitals reads otherwise there and is refused (`misread`).
 */
export function readChallenge(text: string): ChallengeReading {
  const r = parseDigestChallenge(text);
  if (!r.ok) return r;
  const c = r.challenge;
  const srf = srfChallengeView(text);
  if (c.qop !== undefined && srf.qop !== 'auth') return refuse('unsupported', `qop ${c.params.get('qop')}: drachtio-srf would answer ${srf.qop ?? 'none'}`);
  if (c.qop === undefined && srf.qop !== undefined) return refuse('misread', 'drachtio-srf reads a qop the challenge does not have');
  for (const k of ['realm', 'nonce', 'opaque'] as const) {
    if (c[k] !== srf[k]) return refuse('misread', `drachtio-srf reads ${k} ${JSON.stringify(srf[k] ?? null)}, not ${JSON.stringify(c[k] ?? null)}`);
  }
  return r;
}
