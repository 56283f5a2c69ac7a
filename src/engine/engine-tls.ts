import type { SecureContextOptions, TlsOptions, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { GatewayError } from '../common/index.js';
import { normalizeDnsName } from '../common/peer-name.js';
import type { InboundTlsCheck, InboundTlsVerdict, TlsClientOptionsResolver } from '../sip/transport/index.js';
import {
  ProfileStore, buildListenerTlsOptions, describeSniWidening, listenerRequestsCert, profileForSocket, sniWidenings, type CompiledTlsProfile,
  type ListenerTlsOptions, type ProfileInput, type ReloadResult, type ReloadWarning, type TlsFailure,
} from '../tls/index.js';

/** TLS profiles for the engine: plain data (specs and PEM text), so they cross into the engine worker. */
export interface EngineTlsOptions {
  profiles: ProfileInput[];
  /** SNI server name (lower case) → tenant, for profiles that name no tenant of their own (config `tenantsByServerName`). */
  tenantsByServerName?: Record<string, string>;
}

/** What a TLS listener of the engine says about its profile. */
export interface EngineTlsListener {
  id: string;
  /** The profile served by default (no SNI, or an SNI no other profile claims). */
  tlsProfile: string;
  tenant?: string;
  /** Profiles an SNI may pick on this listener; default: every profile. */
  sniProfiles?: string[];
  /** Refuse a handshake whose SNI names no profile here (alert, counted as unknown-sni). */
  refuseUnknownSni?: boolean;
}

/**
 * What a live listener is given at a reload: its default profile's context options, and whether it asks clients for
 * a certificate (Node's listener reads `requestCert` at each accepted connection, so both reach new handshakes).
 * Throws when the listener cannot take them.
 */
export type ApplyListenerTls = (listenerId: string, context: SecureContextOptions, requestCert: boolean) => void;

/** SNI server name (lower case, no trailing dot) → tenant, from the profiles' own server names and tenant. */
export function sniTenantsOf(profiles: readonly ProfileInput[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const { spec } of profiles) {
    if (spec.tenant === undefined) continue;
    for (const sn of spec.serverNames ?? []) {
      const key = normalizeDnsName(sn);
      if (out.has(key)) taken.add(key);
      else out.set(key, spec.tenant);
    }
  }
  for (const k of taken) out.delete(k);
  return out;
}

/** The verdict on an inbound connection that resumed a TLS session instead of running a full handshake. */
function resumedRefusal(profile: string, tenant: string | undefined): InboundTlsVerdict {
  const detail = 'the client resumed a TLS session; this listener offers none';
  const tlsFailure: TlsFailure = { reason: 'other', code: 'ERR_TLS_SESSION_RESUMED', peerReported: false, detail };
  return { ok: false, code: 'ERR_TLS_SESSION_RESUMED', reason: detail, details: { tlsFailure, profile, ...(tenant !== undefined ? { tenant } : {}) } };
}

/**
 * The engine's TLS profiles: one ProfileStore, listener options with SNI selection and the inbound check of
 * the selected profile, client options per profile for outbound connections, and reload. Contexts are read from
 * the store at every handshake, so a reload reaches new connections while live ones keep theirs.
 */
export class EngineTls {
  readonly store: ProfileStore;
  #sniTenants: ReadonlyMap<string, string>;
  readonly #listeners = new Map<string, { l: EngineTlsListener; opts: ListenerTlsOptions; requestCert: boolean }>();
  readonly #log: Logger;

  /** Builds every profile; throws ERR_TLS_PROFILE_INVALID naming each problem when one does not build. */
  constructor(options: EngineTlsOptions, log: Logger) {
    this.#log = log;
    this.store = new ProfileStore();
    this.#sniTenants = options.tenantsByServerName
      ? new Map(Object.entries(options.tenantsByServerName).map(([k, v]) => [normalizeDnsName(k), v]))
      : sniTenantsOf(options.profiles);
    const r = this.store.reload(options.profiles);
    if (!r.ok) {
      throw new GatewayError('ERR_TLS_PROFILE_INVALID', `TLS profiles: ${r.problems.map((p) => `${p.profile}: ${p.reason}`).join('; ')}`, {
        details: { problems: r.problems },
      });
    }
  }

  /**
   * The tenant whose profile lists an SNI name, if any: what a handshake that failed before any profile's check
   * is counted under. A connection's own tenant is its checking profile's (#tenantOf).
   */
  tenantForServername(servername: string): string | undefined {
    return this.#sniTenants.get(normalizeDnsName(servername));
  }

  /**
   * The tenant of a connection `p` checked: the profile's own, else the one mapped to the SNI when `p` itself lists
   * that name. Never a tenant of another profile: one the listener does not serve, or one the SNI named in a form
   * the profile choice read otherwise, never ran its checks on this connection.
   */
  #tenantOf(p: CompiledTlsProfile, servername: string | undefined): string | undefined {
    if (p.tenant !== undefined || servername === undefined) return p.tenant;
    const name = normalizeDnsName(servername);
    return (p.spec.serverNames ?? []).some((n) => normalizeDnsName(n) === name) ? this.#sniTenants.get(name) : undefined;
  }

  #profile(name: string): CompiledTlsProfile {
    const p = this.store.get(name);
    if (!p) throw new GatewayError('ERR_TLS_PROFILE_INVALID', `TLS profile ${name} is not defined`, { details: { profile: name } });
    return p;
  }

  /** Node server options and the post-handshake verdict for one listener. */
  listener(l: EngineTlsListener): { tls: TlsOptions; checkInbound: InboundTlsCheck } {
    this.#profile(l.tlsProfile);
    const allowed = l.sniProfiles ? new Set(l.sniProfiles) : undefined;
    const opts: ListenerTlsOptions = {
      profiles: () => (allowed ? this.store.all().filter((p) => allowed.has(p.name)) : this.store.all()),
      defaultProfile: () => this.#profile(l.tlsProfile),
      ...(l.refuseUnknownSni ? { refuseUnknownSni: true } : {}),
      // A tenant's own listener (sniProfiles: its profile only): nothing for an SNI to select, so no SNICallback.
      ...(!l.refuseUnknownSni && allowed && [...allowed].every((n) => n === l.tlsProfile) ? { singleProfile: true } : {}),
    };
    // A listener asks for a client certificate when any profile it may serve needs one; each profile's own
    // check then decides (fail closed), so a profile that needs none is not affected by the request.
    const tls = buildListenerTlsOptions(opts);
    this.#listeners.set(l.id, { l, opts, requestCert: tls.requestCert === true });
    for (const w of this.#widenings(l.id)) this.#log.warn({ code: w.code, listener: l.id, profile: w.profile }, w.reason);
    const checkInbound: InboundTlsCheck = (socket: TLSSocket): InboundTlsVerdict => {
      const p = profileForSocket(opts, socket);
      const sn = (socket as TLSSocket & { servername?: string | false }).servername;
      const tenant = l.tenant ?? this.#tenantOf(p, typeof sn === 'string' && sn !== '' ? sn : undefined);
      // Profiles issue no session tickets (src/tls/profile.ts), so a resumed session is one this listener never
      // offered: its peer was verified, if ever, under another profile or trust store. Fail closed.
      if (socket.isSessionReused()) return resumedRefusal(p.name, tenant);
      const r = p.checkInbound(socket);
      if (!r.ok) {
        return {
          ok: false, code: r.failure.code, reason: r.failure.detail,
          details: { tlsFailure: r.failure, profile: p.name, ...(tenant !== undefined ? { tenant } : {}) },
        };
      }
      const ok: InboundTlsVerdict = { ok: true, authorized: r.authorized, identities: r.identities, negotiated: r.negotiated, profile: p.name };
      if (tenant !== undefined) ok.tenant = tenant;
      return ok;
    };
    return { tls, checkInbound };
  }

  /**
   * Client options for an outbound connection: the profile's client context (client trustpoint, trust store,
   * ciphers, versions), SNI for a name, and the server identity check (RFC 5922 §7.3). Without a profile: Node's
   * verifying defaults. An unknown profile throws, which fails the connection (fail closed).
   */
  readonly clientOptions: TlsClientOptionsResolver = (profile, servername, target) => {
    if (profile === undefined) return { rejectUnauthorized: true };
    const p = this.#profile(profile);
    return p.clientOptions({
      address: target.address,
      port: target.port,
      // A name is the domain checked (and sent as SNI); an IP target is checked against the certificate's IPs.
      domain: servername ?? target.address,
      ...(p.spec.sniName !== undefined ? { servername: p.spec.sniName } : {}),
    });
  };

  /**
   * Builds and validates the new profiles; only if all pass, swaps them and gives each listener its new default
   * context and client-certificate request. New handshakes use them; live connections go on. A failure (a profile
   * that does not build, or a listener that refuses its new context) leaves the old set serving everywhere.
   */
  reload(profiles: ProfileInput[], apply: ApplyListenerTls): ReloadResult {
    const refuse = (problems: { profile: string; code: string; reason: string }[]): ReloadResult => {
      this.#log.warn({ problems }, 'TLS reload refused: the running profiles keep serving');
      return { ok: false, version: this.store.version, problems };
    };
    const missing = [...this.#listeners.values()].map(({ l }) => l.tlsProfile).filter((n) => !profiles.some((p) => p.spec.name === n));
    if (missing.length > 0) {
      return refuse(missing.map((n) => ({ profile: n, code: 'ERR_TLS_PROFILE_INVALID', reason: `profile ${n} is served by a listener and cannot be removed` })));
    }
    const r = this.store.reload(profiles);
    if (!r.ok) return refuse(r.problems);
    const applied: { id: string; requestCert: boolean }[] = [];
    try {
      for (const [id, entry] of this.#listeners) {
        const requestCert = listenerRequestsCert(entry.opts);
        apply(id, this.#profile(entry.l.tlsProfile).serverContextOptions, requestCert);
        applied.push({ id, requestCert: entry.requestCert });
        entry.requestCert = requestCert;
      }
    } catch (e) {
      // Put the running set back, on the listeners already given the new one too.
      this.store.rollback();
      for (const { id, requestCert } of applied) {
        const entry = this.#listeners.get(id)!;
        try {
          apply(id, this.#profile(entry.l.tlsProfile).serverContextOptions, requestCert);
          entry.requestCert = requestCert;
        } catch (again) {
          this.#log.error({ err: again, listener: id }, 'TLS reload: a listener refused its running context back');
        }
      }
      const listener = [...this.#listeners.keys()][applied.length];
      return refuse([{ profile: listener !== undefined ? this.#listeners.get(listener)!.l.tlsProfile : '-', code: (e as { code?: string }).code ?? 'ERR_TLS_CONTEXT',
        reason: `listener ${listener ?? '?'} cannot take the new profile: ${(e as Error).message}` }]);
    }
    this.#sniTenants = sniTenantsOf(profiles);
    const warnings = [...this.#listeners.keys()].flatMap((id) => this.#widenings(id));
    for (const w of warnings) this.#log.warn({ code: w.code, profile: w.profile }, w.reason);
    this.#log.info({ version: r.version, profiles: r.names }, 'TLS profiles reloaded');
    return warnings.length > 0 ? { ...r, warnings } : r;
  }

  /**
   * Gives a listener that opened after start (a retry of one that could not bind) the profiles in force now, as a
   * reload since start would have given it had it been open.
   */
  reapply(listenerId: string, apply: ApplyListenerTls): void {
    const entry = this.#listeners.get(listenerId);
    if (!entry) return;
    const requestCert = listenerRequestsCert(entry.opts);
    apply(listenerId, this.#profile(entry.l.tlsProfile).serverContextOptions, requestCert);
    entry.requestCert = requestCert;
  }

  /** The profiles an SNI may pick on a shared listener that would widen its default (see `sniWidenings`). */
  #widenings(listenerId: string): ReloadWarning[] {
    const entry = this.#listeners.get(listenerId);
    if (!entry || entry.opts.singleProfile) return [];
    return sniWidenings(entry.opts.defaultProfile(), entry.opts.profiles())
      .map((w) => ({ profile: w.profile, code: 'ERR_TLS_SNI_WIDENS', reason: describeSniWidening(listenerId, w) }));
  }

  /** Whether a listener asks clients for a certificate now (after the last reload). */
  requestsCert(listenerId: string): boolean | undefined {
    return this.#listeners.get(listenerId)?.requestCert;
  }
}
