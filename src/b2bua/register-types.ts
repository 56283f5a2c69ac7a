import type { SipTransport } from './policy-types.js';
import type { RegisterAnswer } from './register-timing.js';

/** What the registrations need from drachtio-srf: `srf.request` for an out-of-dialog REGISTER or OPTIONS. */
export interface RegisterSrf {
  request(uri: string, opts: { method: string; headers: Record<string, string>; proxy?: string },
    callback: (err: unknown, req?: { on(event: 'response', fn: (res: RegisterAnswer) => void): unknown }) => void): unknown;
}

/** One tenant's registration, as the policy gives it (the password already read from its variable). */
export interface RegistrationSpec {
  tenant: string;
  registrar: string;
  username: string;
  password: string;
  realm?: string;
  domain?: string;
  expires: number;
  contactUser: string;
  retrySeconds: { min: number; max: number };
  /** Seconds between OPTIONS probes of the registrar while registered; 0 or absent: none. */
  probeSeconds?: number;
  transport: SipTransport;
  scheme: 'sip' | 'sips';
  tlsProfile?: string;
}
