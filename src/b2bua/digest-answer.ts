import type { Logger } from 'pino';
import type { RateLimitedLog } from '../log/index.js';
import { readChallenge, type ChallengeFault } from './digest-challenge.js';
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

/**
 * drachtio-srf's `auth` callback for a tenant's credentials. They are given only to one well-formed Digest
 * challenge that drachtio-srf reads as the gateway does (digest-challenge.ts `readChallenge`: the realm checked is
 * the realm hashed), with MD5 and qop auth or none, from the configured realm (any realm when none is configured:
 * `config check` warns). Anything else is refused, counted in `counts` and logged with its code
 * (ERR_B2BUA_DIGEST_REALM, _CHALLENGE, _UNSUPPORTED) through `refusals` when given: one line per tenant and code a
 * window, however many calls meet it.
 */
export function digestAnswer(d: DigestCredentials, log: Logger, tenant: string, refusals?: RateLimitedLog, counts: DigestRefusalCounts = digestRefusals):
  (req: unknown, res: ChallengeResponse, cb: (err: Error | null, user?: string, pass?: string) => void) => void {
  const refuse = (code: B2buaLogCode, count: keyof DigestRefusalCounts, fields: Record<string, unknown>, msg: string, cb: (err: Error) => void, err: string): void => {
    counts[count]++;
    const text = `b2bua: ${msg}`;
    if (refusals) refusals.line('warn', code, { tenantOut: tenant, ...fields }, text, `tenant:${tenant}`);
    else log.warn({ code, tenantOut: tenant, ...fields }, text);
    cb(new Error(err));
  };
  return (_req, res, cb) => {
    const text = challengeText(res);
    const read = text === undefined ? undefined : readChallenge(text);
    if (read !== undefined && !read.ok) {
      const { code, count } = CODES[read.fault];
      refuse(code, count, { status: res.statusCode, why: read.why }, `challenge on tenant ${tenant} not answered: ${read.why}`, cb, `challenge not answered: ${read.why}`);
      return;
    }
    const realm = read?.challenge.realm;
    if (d.realm !== undefined && realm !== d.realm) {
      refuse('ERR_B2BUA_DIGEST_REALM', 'realm', { realm, expected: d.realm }, `challenge from realm ${realm ?? '(none)'} on tenant ${tenant} not answered: credentials are for ${d.realm}`,
        cb, `challenge realm ${realm ?? '(none)'} is not ${d.realm}`);
      return;
    }
    if (read === undefined) {
      refuse('ERR_B2BUA_DIGEST_CHALLENGE', 'challenge', { status: res.statusCode }, `${res.statusCode ?? 'a'} on tenant ${tenant} without a challenge: not answered`, cb, 'no challenge to answer');
      return;
    }
    cb(null, d.username, d.password);
  };
}
