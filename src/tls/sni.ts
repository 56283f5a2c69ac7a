import { constants as cryptoConstants } from 'node:crypto';
import type { SecureContext, TlsOptions, TLSSocket } from 'node:tls';
import { tlsError } from './errors.js';
import { normalizeDnsName } from '../common/peer-name.js';
import { hostMatches } from './identity.js';
import type { CompiledTlsProfile } from './profile-types.js';

export interface ListenerTlsOptions {
  /** The live profiles that may answer on this listener (read at every handshake, so reloads apply). */
  profiles: () => readonly CompiledTlsProfile[];
  /** The profile for clients that send no SNI, or an unknown one when not refused. */
  defaultProfile: () => CompiledTlsProfile;
  /** Refuse a handshake whose SNI names no profile (alert unrecognized_name). Default false. */
  refuseUnknownSni?: boolean;
  /**
   * The listener serves its default profile only (and refuses no SNI), so an SNI has nothing to pick: no
   * `SNICallback`, which spares every handshake a pause into JavaScript and a per-connection copy of the
   * context's certificate, key and CA names. The listener's own context is the default profile's; whoever
   * reloads the profiles gives the listener the new one (`server.setSecureContext`), as for any listener.
   */
  singleProfile?: boolean;
}

/**
 * The profile whose `serverNames` match the SNI (exact first, then `*.` wildcards), if any. Names compare as the
 * tenant of an SNI is looked up (normalizeDnsName: case, a trailing dot), so `B.Example.` is picked by the profile
 * that lists `b.example`, the one whose checks then run, never left to the default profile.
 */
export function selectProfileBySni(profiles: readonly CompiledTlsProfile[], servername: string): CompiledTlsProfile | undefined {
  const name = normalizeDnsName(servername);
  if (name === '') return undefined;
  for (const p of profiles) if ((p.spec.serverNames ?? []).some((n) => normalizeDnsName(n) === name)) return p;
  for (const p of profiles) if ((p.spec.serverNames ?? []).some((n) => n.startsWith('*.') && hostMatches(n, name, { allowWildcard: true }))) return p;
  return undefined;
}

/** `SNICallback` for `tls.createServer`: the SNI picks the profile's context (RFC 6066 §3). */
export function createSniCallback(opts: ListenerTlsOptions): (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void {
  return (servername, cb) => {
    const p = selectProfileBySni(opts.profiles(), servername);
    if (p) return cb(null, p.serverContext);
    if (opts.refuseUnknownSni) {
      return cb(tlsError('ERR_TLS_UNKNOWN_SNI', `no TLS profile for server name ${servername}`, { details: { servername } }));
    }
    cb(null, opts.defaultProfile().serverContext);
  };
}

/** The profile a finished handshake used, from the SNI the client sent. */
export function profileForSocket(opts: ListenerTlsOptions, socket: TLSSocket): CompiledTlsProfile {
  if (opts.singleProfile) return opts.defaultProfile();
  const sn = (socket as TLSSocket & { servername?: string | false }).servername;
  return (typeof sn === 'string' && sn !== '' ? selectProfileBySni(opts.profiles(), sn) : undefined) ?? opts.defaultProfile();
}

/**
 * Options for `tls.createServer` on a listener shared by several profiles. OpenSSL fixes the versions and
 * cipher lists from the default profile when a connection starts; the context the SNI picks swaps only the
 * certificate and trust. So a profile picked by SNI can only narrow what the default allows, and
 * `checkInbound` refuses a connection that negotiated a version or suite outside it (fail closed). Node sets the client
 * certificate request per listener, not per context, so it is on when any profile needs it, with
 * `rejectUnauthorized: false`: the verdict is `profile.checkInbound(socket)` on `secureConnection`, which
 * knows the reason (Node would otherwise drop the socket without saying why).
 */
export function buildListenerTlsOptions(opts: ListenerTlsOptions): TlsOptions {
  const def = opts.defaultProfile().serverContextOptions;
  return {
    ...def,
    // No session tickets on a listener (see the profile's server options in src/tls/profile.ts).
    secureOptions: (def.secureOptions ?? 0) | cryptoConstants.SSL_OP_NO_TICKET,
    ...(opts.singleProfile ? {} : { SNICallback: createSniCallback(opts) }),
    requestCert: listenerRequestsCert(opts),
    rejectUnauthorized: false,
  };
}

/**
 * Whether the listener asks clients for a certificate: when any profile it may serve needs one. Read again at
 * every reload, since a profile that starts demanding one (requireClientCert, cnSanValidate client) is only
 * served a certificate if the listener asks for it.
 */
export function listenerRequestsCert(opts: ListenerTlsOptions): boolean {
  return opts.defaultProfile().requestCert || opts.profiles().some((p) => p.requestCert);
}

/** A profile an SNI may pick that allows more than its listener's default profile, and what. */
export interface SniWidening {
  profile: string;
  defaultProfile: string;
  /** `min..max beyond min..max` when the versions are wider. */
  versions?: string;
  /** Suites (OpenSSL names) the default does not offer; '(OpenSSL defaults)' for a profile without a list. */
  ciphers?: string[];
  /** Settings of the profile the default's override (`ecdhCurve P-384 (listener: auto)`), as OpenSSL ignores them. */
  ignored?: string[];
}

const ORDER = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * OpenSSL settles a connection's version and cipher suite from the listener's default context before the SNI is
 * read; the context the SNI picks swaps certificate and trust only. So a picked profile can narrow what the default
 * allows (its own check refuses the rest) but never widen it: the clients that need the wider part are refused.
 * Its key-exchange groups (ecdhCurve) and whether the server's cipher order wins (honorCipherOrder) are the
 * default's as well, whatever it sets. Each picked profile that would widen or whose such settings differ, with what.
 */
export function sniWidenings(def: CompiledTlsProfile, picked: readonly CompiledTlsProfile[]): SniWidening[] {
  const out: SniWidening[] = [];
  const defSuites = def.ciphers ? new Set(def.ciphers.suites.map((s) => s.openssl)) : undefined;
  for (const p of picked) {
    if (p.name === def.name) continue;
    const wider = ORDER.indexOf(p.minVersion) < ORDER.indexOf(def.minVersion) || ORDER.indexOf(p.maxVersion) > ORDER.indexOf(def.maxVersion);
    const extra = defSuites === undefined ? [] : p.ciphers ? p.ciphers.suites.map((s) => s.openssl).filter((s) => !defSuites.has(s)) : ['(OpenSSL defaults)'];
    const ignored = ignoredSettings(def, p);
    if (!wider && extra.length === 0 && ignored.length === 0) continue;
    out.push({
      profile: p.name, defaultProfile: def.name,
      ...(wider ? { versions: `${p.minVersion}..${p.maxVersion} beyond ${def.minVersion}..${def.maxVersion}` } : {}),
      ...(extra.length > 0 ? { ciphers: extra } : {}),
      ...(ignored.length > 0 ? { ignored } : {}),
    });
  }
  return out;
}

/** The picked profile's ecdhCurve and honorCipherOrder where they differ from the default's (the values in force). */
function ignoredSettings(def: CompiledTlsProfile, p: CompiledTlsProfile): string[] {
  const out: string[] = [];
  const d = def.serverContextOptions;
  const o = p.serverContextOptions;
  if ((o.ecdhCurve ?? 'auto') !== (d.ecdhCurve ?? 'auto')) out.push(`ecdhCurve ${o.ecdhCurve ?? 'auto'} (the listener uses ${d.ecdhCurve ?? 'auto'})`);
  if ((o.honorCipherOrder ?? true) !== (d.honorCipherOrder ?? true)) {
    out.push(`honorCipherOrder ${String(o.honorCipherOrder ?? true)} (the listener uses ${String(d.honorCipherOrder ?? true)})`);
  }
  return out;
}

/** The warning text for one widening on a listener. */
export function describeSniWidening(listener: string, w: SniWidening): string {
  const lines: string[] = [];
  const what = [w.versions, w.ciphers ? `cipher suites ${w.ciphers.join(', ')}` : undefined].filter((x) => x !== undefined).join(' and ');
  if (what !== '') {
    lines.push(`on the shared listener ${listener}, profile ${w.profile} (picked by SNI) allows ${what} beyond the default profile ${w.defaultProfile}; OpenSSL settles version and suite from the default before the SNI is read, so clients that need them are refused`);
  }
  if (w.ignored) {
    lines.push(`on the shared listener ${listener}, profile ${w.profile} (picked by SNI) sets ${w.ignored.join(' and ')}, which OpenSSL takes from the default profile ${w.defaultProfile} before the SNI is read: the profile's own setting is not used`);
  }
  return lines.join('; ');
}
