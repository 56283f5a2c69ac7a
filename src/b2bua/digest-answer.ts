import type { Logger } from 'pino';
import type { RateLimitedLog } from '../log/index.js';
import type { DigestCredentials } from './policy-types.js';

/** The realm of a 401/407 challenge (WWW-Authenticate or Proxy-Authenticate), if it names one. */
export function challengeRealm(res: { get?(name: string): string | undefined; statusCode?: number }): string | undefined {
  const header = res.get?.(res.statusCode === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate');
  return header === undefined ? undefined : /realm\s*=\s*"([^"]*)"/i.exec(header)?.[1];
}

/**
 * drachtio-srf's `auth` callback for a tenant's credentials: given to a challenge from the configured realm (or
 * any realm when none is configured), refused otherwise, so credentials never go to a stranger. The refusal's line
 * (ERR_B2BUA_DIGEST_REALM) goes through `refusals` when given: one per tenant a window, however many calls meet it.
 */
export function digestAnswer(d: DigestCredentials, log: Logger, tenant: string, refusals?: RateLimitedLog):
  (req: unknown, res: { get?(name: string): string | undefined; statusCode?: number }, cb: (err: Error | null, user?: string, pass?: string) => void) => void {
  return (_req, res, cb) => {
    const realm = challengeRealm(res);
    if (d.realm !== undefined && realm !== d.realm) {
      const fields = { tenantOut: tenant, realm, expected: d.realm };
      const msg = `b2bua: challenge from realm ${realm ?? '(none)'} on tenant ${tenant} not answered: credentials are for ${d.realm}`;
      if (refusals) refusals.line('warn', 'ERR_B2BUA_DIGEST_REALM', fields, msg, `tenant:${tenant}`);
      else log.warn({ code: 'ERR_B2BUA_DIGEST_REALM', ...fields }, msg);
      cb(new Error(`challenge realm ${realm ?? '(none)'} is not ${d.realm}`));
      return;
    }
    cb(null, d.username, d.password);
  };
}
