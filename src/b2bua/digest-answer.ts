import type { Logger } from 'pino';
import type { RateLimitedLog } from '../log/index.js';
import { readChallenge, type ChallengeFault, type DigestChallenge } from './digest-challenge.js';
import type { B2buaLogCode } from './errors.js';
import type { DigestCredentials } from './policy-types.js';

type ChallengeResponse = { get?(name: string): string | undefined; statusCode?: number };

/** The challenge of a 401 or 407, the header drachtio-srf answers (WWW-Authenticate, Proxy-Authenticate). */
function challengeText(res: ChallengeResponse): string | undefined {
  return res.get?.(res.statusCode === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate');
}

/** The realm of a 401/407 challenge, if it is one challenge the gateway can read and answer (digest-challenge.ts). */
export function challengeRealm(res: ChallengeResponse): string | undefined {
  const text = challengeText(res);
  if (text === undefined) return undefined;
  const r = readChallenge(text);
  return r.ok ? r.challenge.realm : undefined;
}

/** Challenges not answered, by why: another realm, a challenge not well formed or read otherwise by srf, one srf cannot answer. */
export interface DigestRefusalCounts {
  realm: number;
  challenge: number;
  unsupported: number;
}

/** This thread's counts, where a caller does not give its own. */
export const digestRefusals: DigestRefusalCounts = { realm: 0, challenge: 0, unsupported: 0 };

const CODES: Record<ChallengeFault, { code: B2buaLogCode; count: keyof DigestRefusalCounts }> = {
  malformed: { code: 'ERR_B2BUA_DIGEST_CHALLENGE', count: 'challenge' },
  repeated: { code: 'ERR_B2BUA_DIGEST_CHALLENGE', count: 'challenge' },
  misread: { code: 'ERR_B2BUA_DIGEST_CHALLENGE', count: 'challenge' },
  unsupported: { code: 'ERR_B2BUA_DIGEST_UNSUPPORTED', count: 'unsupported' },
};

/** The outcome of one challenge: the challenge to answer, or why it is not answered (refused, counted and logged). */
export type ChallengeVerdict = { ok: true; challenge: DigestChallenge } | { ok: false; why: string };

/**
 * One request's judge of the challenges it meets, with a tenant's credentials. They are given only to one
 * well-formed Digest challenge that drachtio-srf reads as the gateway does (digest-challenge.ts `readChallenge`: the
 * realm checked is the realm hashed), with MD5 and qop auth or none, from the configured realm (any realm when none
 * is configured: `config check` warns), and once a request: a second challenge after the credentials were given
 * is answered only when it says the nonce was stale and brings a new one, and never a third time. Anything else is
 * refused, counted in `counts` and logged with its code (ERR_B2BUA_DIGEST_REALM, _CHALLENGE, _UNSUPPORTED) through
 * `refusals` when given: one line per tenant and code a window, however many calls meet it. Make one a request:
 * it counts the answers given.
 */
export function challengeJudge(d: DigestCredentials, log: Logger, tenant: string, refusals?: RateLimitedLog, counts: DigestRefusalCounts = digestRefusals):
  (res: ChallengeResponse) => ChallengeVerdict {
  let answered = 0;
  let lastNonce: string | undefined;
  /** A challenge after the credentials was refused: this request is not answered again. */
  let closed = false;
  const refuse = (code: B2buaLogCode, count: keyof DigestRefusalCounts, fields: Record<string, unknown>, msg: string, why: string): ChallengeVerdict => {
    counts[count]++;
    const text = `b2bua: ${msg}`;
    if (refusals) refusals.line('warn', code, { tenantOut: tenant, ...fields }, text, `tenant:${tenant}`);
    else log.warn({ code, tenantOut: tenant, ...fields }, text);
    return { ok: false, why };
  };
  return (res) => {
    const text = challengeText(res);
    const read = text === undefined ? undefined : readChallenge(text);
    if (read !== undefined && !read.ok) {
      const { code, count } = CODES[read.fault];
      return refuse(code, count, { status: res.statusCode, why: read.why }, `challenge on tenant ${tenant} not answered: ${read.why}`, `challenge not answered: ${read.why}`);
    }
    if (answered > 0) {
      // "A UAC MUST NOT re-attempt requests with the credentials that have just been rejected (though the request
      // may be retried if the nonce was stale)." https://www.rfc-editor.org/rfc/rfc3261#section-22.1
      const nonce = read?.challenge.nonce;
      const stale = read?.challenge.params.get('stale')?.toLowerCase() === 'true';
      if (closed || answered > 1 || !stale || nonce === undefined || nonce === lastNonce) {
        closed = true;
        return refuse('ERR_B2BUA_DIGEST_CHALLENGE', 'challenge', { status: res.statusCode, answered, stale },
          `${res.statusCode ?? 'a'} on tenant ${tenant} not answered: challenged again after credentials were given`, 'challenged again after credentials were given');
      }
    }
    const realm = read?.challenge.realm;
    if (d.realm !== undefined && realm !== d.realm) {
      return refuse('ERR_B2BUA_DIGEST_REALM', 'realm', { realm, expected: d.realm }, `challenge from realm ${realm ?? '(none)'} on tenant ${tenant} not answered: credentials are for ${d.realm}`,
        `challenge realm ${realm ?? '(none)'} is not ${d.realm}`);
    }
    if (read === undefined) {
      return refuse('ERR_B2BUA_DIGEST_CHALLENGE', 'challenge', { status: res.statusCode }, `${res.statusCode ?? 'a'} on tenant ${tenant} without a challenge: not answered`, 'no challenge to answer');
    }
    answered++;
    lastNonce = read.challenge.nonce;
    return { ok: true, challenge: read.challenge };
  };
}

/**
 * drachtio-srf's `auth` callback for one request (a B leg's INVITE): the credentials for a challenge
 * `challengeJudge` lets through, an error for any other, which drachtio-srf then hands up as the request's final
 * answer. Its loop guard alone would not stop a far end that sends a provisional before each new challenge
 * (node_modules/drachtio-srf/lib/drachtio-agent.js clears it on the first answer to a retry): the judge does.
 */
export function digestAnswer(d: DigestCredentials, log: Logger, tenant: string, refusals?: RateLimitedLog, counts: DigestRefusalCounts = digestRefusals):
  (req: unknown, res: ChallengeResponse, cb: (err: Error | null, user?: string, pass?: string) => void) => void {
  const judge = challengeJudge(d, log, tenant, refusals, counts);
  return (_req, res, cb) => {
    const v = judge(res);
    if (v.ok) cb(null, d.username, d.password);
    else cb(new Error(v.why));
  };
}
