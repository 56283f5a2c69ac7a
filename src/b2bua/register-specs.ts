import type { B2buaPolicy } from './policy-types.js';
import type { RegistrationSpec } from './register-types.js';

/** The registrations a policy asks for: each tenant with `register`, over its transport, scheme and TLS profile. */
export function registrationSpecs(policy: B2buaPolicy): RegistrationSpec[] {
  const out: RegistrationSpec[] = [];
  for (const [tenant, t] of Object.entries(policy.tenants)) {
    const r = t.register;
    if (!r) continue;
    const scheme = t.url === 'sips' ? 'sips' : 'sip';
    out.push({
      tenant, registrar: r.registrar, username: r.username, password: r.password, expires: r.expires, contactUser: r.contactUser,
      retrySeconds: r.retrySeconds, ...(r.probeSeconds !== undefined ? { probeSeconds: r.probeSeconds } : {}), transport: scheme === 'sips' ? 'tls' : t.transport ?? 'udp', scheme,
      ...(r.realm !== undefined ? { realm: r.realm } : {}), ...(r.domain !== undefined ? { domain: r.domain } : {}),
      ...(t.tlsProfile !== undefined ? { tlsProfile: t.tlsProfile } : {}),
    });
  }
  return out;
}
