import type { RegistrationEntry, RegistrationSpec } from './register-types.js';

/** What makes a registration another one: a change to any of these starts it afresh (new Call-ID, CSeq from 1). */
const IDENTITY = ['registrar', 'username', 'password', 'realm', 'domain', 'contactUser', 'expires', 'transport', 'scheme', 'tlsProfile'] as const;

export function sameRegistration(a: RegistrationSpec, b: RegistrationSpec): boolean {
  return IDENTITY.every((k) => a[k] === b[k]);
}

/** A registration handed from the registrations a policy reload replaces: where it stood, and what was pending. */
export interface Carried {
  /** A REGISTER was out: its answer goes to the registrations replaced, so the next waits for its timeout. */
  busy: boolean;
  /** When the next REGISTER was due (epoch ms), if one was waiting. */
  dueAt?: number;
}

/**
 * The entry for `spec` carried over from `previous` (the same tenant, an unchanged registration): its Call-ID,
 * CSeq, interval, state, flow and the registrar address in use go on, so a reload that does not touch a
 * registration neither restarts it nor reports a binding still valid as failed. "A UA SHOULD use the same Call-ID
 * for all registrations during a single boot cycle" and increment the CSeq by one each.
 * https://www.rfc-editor.org/rfc/rfc3261#section-10.2
 */
export function carriedOver(spec: RegistrationSpec, previous: readonly RegistrationEntry[]): { entry: RegistrationEntry; carried: Carried } | undefined {
  const p = previous.find((e) => e.spec.tenant === spec.tenant && sameRegistration(e.spec, spec));
  if (!p) return undefined;
  const entry: RegistrationEntry = {
    spec, status: { ...p.status }, callId: p.callId, cseq: p.cseq, next: p.next, expires: p.expires, seq: 0, probeSeq: 0, lost: p.lost, busy: false, retried423: false,
    ...(p.flow !== undefined ? { flow: p.flow } : {}),
  };
  return { entry, carried: { busy: p.busy, ...(p.dueAt !== undefined ? { dueAt: p.dueAt } : {}) } };
}
