import type { Logger } from 'pino';
import type { DigestCredentials } from './policy-types.js';

/** The realm of a 401/407 challenge (WWW-Authenticate or Proxy-Authenticate), if it names one. */
export function challengeRealm(res: { get?(name: string): string | undefined; statusCode?: number }): string | undefined {
  const header = res.get?.(res.statusCode === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate');
  return header === undefined ? undefined : /realm\s*=\s*"([^"]*)"/i.exec(header)?.[1];
}

/**
 * drachtio-srf's `auth` callback for a tenant's credentials: given to a challenge from the configured realm (or
 * any realm when none is configured), refused with a log line otherwise, so credentials never go to a stranger.
 */
export function digestAnswer(d: DigestCredentials, log: Logger, tenant: string):
  (req: unknown, res: { get?(name: string): string | undefined; statusCode?: number }, cb: (err: Error | null, user?: string, pass?: string) => void) => void {
  return (_req, res, cb) => {
    const realm = challengeRealm(res);
    if (d.realm !== undefined && realm !== d.realm) {
      log.warn({ tenantOut: tenant, realm, expected: d.realm }, `b2bua: challenge from realm ${realm ?? '(none)'} on tenant ${tenant} not answered: credentials are for ${d.realm}`);
      cb(new Error(`challenge realm ${realm ?? '(none)'} is not ${d.realm}`));
      return;
    }
    cb(null, d.username, d.password);
  };
}
