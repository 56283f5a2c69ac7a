import type { TimerHandle } from '../common/index.js';
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

export type RegistrationState = 'unregistered' | 'registered' | 'failed';

export interface RegistrationStatus {
  tenant: string;
  registrar: string;
  aor: string;
  contactUser: string;
  state: RegistrationState;
  /** The registrar address the last REGISTER went to. */
  target?: string;
  /** The Expires the registrar granted, and when the binding runs out (epoch ms). */
  granted?: number;
  expiresAt?: number;
  lastStatus?: number;
  lastError?: string;
  /** Failed attempts in a row. */
  failures: number;
  registers: number;
  /** 423 answers not asked again at once (one retry a cycle, RFC 3261 §10.2.8): each a failure with its wait. */
  intervalTooBrief: number;
  /** Addresses a `dns:` registrar resolved to that were not sent to (resolved-address.ts), once there were any. */
  resolvedRefused?: number;
}

/** One tenant's registration as the registrations keep it. */
export interface RegistrationEntry {
  spec: RegistrationSpec;
  status: RegistrationStatus;
  callId: string;
  cseq: number;
  /** Which of the registrar's targets to use next (moves on after a failure: RFC 3263 failover). */
  next: number;
  expires: number;
  timer?: TimerHandle;
  expiry?: TimerHandle;
  seq: number;
  /** The flow the last 2xx came over (register-probe.ts), a probe in progress or waiting, the registrar unreached. */
  flow?: string;
  probe?: TimerHandle;
  probeSeq: number;
  lost: boolean;
  /** A REGISTER is out (no final answer yet). */
  busy: boolean;
  /** This REGISTER is the one retry of its cycle after a 423. */
  retried423: boolean;
  /** When the next REGISTER is due (epoch ms), while one waits. */
  dueAt?: number;
}
