import { createHash, randomBytes } from 'node:crypto';
import type { DigestChallenge } from './digest-challenge.js';

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** RFC 3261 §25.1 `quoted-string`: a quote or backslash escaped. */
const quote = (text: string): string => `"${text.replace(/["\\]/g, '\\$&')}"`;

/**
 * The Authorization (a 401's) or Proxy-Authorization (a 407's) value answering `c` for `method` on `uri`, with
 * MD5 and qop `auth` or none, which is all digest-answer.ts `challengeJudge` lets through. "The response digest is
 * computed as described in RFC 2617" (RFC 3261 §22.4), whose §3.2.2.1 gives
 * request-digest = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)) with qop, KD(H(A1), nonce ":" H(A2))
 * without, A1 = user ":" realm ":" password, A2 = method ":" digest-uri.
 * https://www.rfc-editor.org/rfc/rfc2617#section-3.2.2.1
 */
export function digestAuthorization(c: DigestChallenge, a: { method: string; uri: string; username: string; password: string }, cnonce = randomBytes(8).toString('hex')): string {
  const realm = c.realm ?? '';
  const nonce = c.nonce ?? '';
  const ha1 = md5(`${a.username}:${realm}:${a.password}`);
  const ha2 = md5(`${a.method}:${a.uri}`);
  const qop = c.qop !== undefined ? 'auth' : undefined;
  // One answer to each nonce (a stale one brings a new nonce): the nonce count is always the first.
  const nc = '00000001';
  const response = qop !== undefined ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  const parts = [`username=${quote(a.username)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `uri=${quote(a.uri)}`, `response="${response}"`, 'algorithm=MD5'];
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
