import type { ChallengeVerdict } from './digest-answer.js';
import { digestAuthorization } from './digest-authorization.js';
import type { RegistrarTarget } from './register-target.js';
import type { RegisterAnswer } from './register-timing.js';
import type { RegisterSrf } from './register-types.js';

export interface RegisterSend {
  srf: RegisterSrf;
  target: RegistrarTarget;
  /** Every header but CSeq and the credentials. */
  headers: Record<string, string>;
  /** The CSeq number of the next REGISTER of this Call-ID (each one sent takes one). */
  nextCSeq(): number;
  username: string;
  password: string;
  /** This REGISTER's judge of its challenges (digest-answer.ts `challengeJudge`: once, a stale nonce once more). */
  judge(res: { statusCode: number; get(name: string): string | undefined }): ChallengeVerdict;
  /** Still waited for: false once the attempt timed out or the registrations closed. */
  current(): boolean;
  /** The final answer (a challenge not answered is one), or why there is none. */
  done(res: RegisterAnswer | undefined, why: string): void;
}

/**
 * One REGISTER, its registrar's challenges answered here rather than by drachtio-srf: srf sends its retry to the
 * challenger's address as `sip:` address `:` port, which for an IPv6 registrar is no URI
 * (node_modules/drachtio-srf/lib/digest-client.js), and its one-challenge guard is cleared by any answer. The retry
 * goes the way the first did (the same Request-URI and proxy), with the same Call-ID and the next CSeq: "When a UAC
 * resubmits a request with its credentials after receiving a 401 (Unauthorized) or 407 (Proxy Authentication
 * Required) response, it MUST increment the CSeq header field value as it would normally when sending an updated
 * request." https://www.rfc-editor.org/rfc/rfc3261#section-22.2
 */
export function sendRegister(o: RegisterSend): void {
  const t = o.target;
  const send = (credentials?: Record<string, string>): void => {
    const headers = { ...o.headers, CSeq: `${o.nextCSeq()} REGISTER`, ...credentials };
    const notSent = (err: unknown): void => o.done(undefined, `not sent: ${err instanceof Error ? err.message : String(err)}`);
    try {
      o.srf.request(t.uri, { method: 'REGISTER', headers, ...(t.proxy !== undefined ? { proxy: t.proxy } : {}) }, (err, req) => {
        if (err || !req) return notSent(err);
        req.on('response', (res) => {
          if (res.status < 200) return;
          if ((res.status === 401 || res.status === 407) && o.current()) {
            const v = o.judge({ statusCode: res.status, get: (n) => res.get?.(n) });
            if (v.ok) {
              const value = digestAuthorization(v.challenge, { method: 'REGISTER', uri: t.uri, username: o.username, password: o.password });
              return send({ [res.status === 407 ? 'Proxy-Authorization' : 'Authorization']: value });
            }
          }
          o.done(res, `answered ${res.status}`);
        });
      });
    } catch (err) {
      notSent(err);
    }
  };
  send();
}
