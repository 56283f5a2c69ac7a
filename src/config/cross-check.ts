import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { PermissionCategory } from '../policy/types.js';
import { formatPath, type ConfigPath } from './config-path.js';
import type { ConfigSections, MapSection } from './config-schema.js';
import type { ConfigProblemCode } from './errors.js';
import { setupLimitMs } from '../common/setup-limit.js';
import { checkBridgeTarget, checkSharedServerNames, checkTrustpointFolders } from './cross-check-start.js';
import { listListeners, type ListenerSpec } from './list-listeners.js';

/** A problem before it is located in a file. */
export interface PathProblem {
  code: ConfigProblemCode;
  path: ConfigPath;
  message: string;
  /** Another place the problem involves (the first definition, the other listener); the loader names its file. */
  related?: ConfigPath;
}

/** Returns a reason when the cipher name is not one the TLS layer accepts. Injected: config never loads tls. */
export type CipherNameValidator = (name: string) => string | undefined;

export interface CrossCheckInput {
  /** The configuration, holding only entries that passed the schema. */
  config: ConfigSections;
  /** Every name defined per section, valid or not, so one bad entry does not also make its references fail. */
  names: Record<MapSection, ReadonlySet<string>>;
  categories: readonly PermissionCategory[];
  validateCipherName?: CipherNameValidator;
  /** For warnings about secrets named by environment variable; absent: not checked. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The trustpoints with absolute paths, and the test that a folder holds its key and certificate; absent: not checked. */
  trustpointFolders?: { resolved: ConfigSections['trustpoints']; ready: (dir: string) => boolean };
  /** Settings an environment variable replaced (`gateway.admin.port` → TRUNKGATE_ADMIN_PORT): a clash names the variable. */
  fromEnvironment?: ReadonlyMap<string, string>;
}

const VERSION_RANK = { 'TLSv1.2': 2, 'TLSv1.3': 3 } as const;

function compiles(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function socketFamily(t: string): 'udp' | 'stream' {
  return t === 'udp' ? 'udp' : 'stream';
}

/**
 * Everything a schema cannot see: references resolve, TLS tenants have a profile and a listener, patterns
 * compile, listeners do not collide, cipher names are known, settings agree with each other and with the
 * engine mode. Returns every problem found, plus warnings (code WARN_*).
 */
export function crossCheck(input: CrossCheckInput): PathProblem[] {
  const { config, names } = input;
  const out: PathProblem[] = [];
  const problem = (code: ConfigProblemCode, path: ConfigPath, message: string, related?: ConfigPath) =>
    out.push({ code, path, message, ...(related ? { related } : {}) });
  const categoryNames = new Set(input.categories.map((c) => c.name));
  const ref = (section: MapSection, value: string | undefined, path: ConfigPath, what: string) => {
    if (value !== undefined && !names[section].has(value)) problem('ERR_CONFIG_REFERENCE', path, `${what} "${value}" is not defined in ${section}`);
  };
  const categoryRefs = (perms: Record<string, boolean>, path: ConfigPath) => {
    for (const k of Object.keys(perms)) {
      if (!categoryNames.has(k)) problem('ERR_CONFIG_REFERENCE', [...path, k], `permission category "${k}" is not defined (known: ${[...categoryNames].join(', ')})`);
    }
  };

  // Ciphers.
  for (const [name, list] of Object.entries(config.tlsCiphers)) {
    list.forEach((c, i) => {
      const why = input.validateCipherName?.(c);
      if (why !== undefined) problem('ERR_CONFIG_CIPHER', ['tlsCiphers', name, i], `${c}: ${why}`);
    });
  }

  // TLS profiles.
  for (const [name, p] of Object.entries(config.tlsProfiles)) {
    const at = (k: string, ...rest: (string | number)[]): ConfigPath => ['tlsProfiles', name, k, ...rest];
    ref('trustpoints', p.trustpoint, at('trustpoint'), 'trustpoint');
    ref('trustpoints', p.clientTrustpoint, at('clientTrustpoint'), 'trustpoint');
    ref('trustStores', p.trustStore, at('trustStore'), 'trust store');
    ref('tlsCiphers', p.ciphers, at('ciphers'), 'cipher list');
    if (VERSION_RANK[p.minVersion] > VERSION_RANK[p.maxVersion]) {
      problem('ERR_CONFIG_TLS_PROFILE', at('minVersion'), `minVersion ${p.minVersion} is above maxVersion ${p.maxVersion}`);
    }
    if (!p.allowWildcard) {
      p.cnSan.forEach((n, i) => {
        if (n.includes('*')) problem('ERR_CONFIG_TLS_PROFILE', at('cnSan', i), `${n} is a wildcard: set allowWildcard: true to accept it (RFC 5922 §7.2 forbids wildcards by default)`);
      });
    }
    if (p.sniName !== undefined) {
      if (p.sni === 'none') problem('ERR_CONFIG_TLS_PROFILE', at('sniName'), 'sniName is set but sni is none');
      else if (isIP(p.sniName) !== 0) problem('ERR_CONFIG_TLS_PROFILE', at('sniName'), 'SNI carries host names only, never an IP address (RFC 6066 §3)');
    }
    const checksClient = p.cnSanValidate === 'client' || p.cnSanValidate === 'bidirectional';
    if (checksClient && !p.requireClientCert) {
      problem('ERR_CONFIG_TLS_PROFILE', at('requireClientCert'), `cnSanValidate ${p.cnSanValidate} checks the client's certificate: set requireClientCert: true`);
    }
    if ((p.requireClientCert || checksClient) && p.trustStore === undefined) {
      problem('ERR_CONFIG_TLS_PROFILE', at('trustStore'), 'client certificates are verified against a trust store: name one');
    }
  }

  // Listeners and tenants.
  const listeners = listListeners(config);
  const profileOf = (l: ListenerSpec) => l.tlsProfile;
  for (const l of listeners) {
    if (!l.shared) continue;
    if (l.transport === 'tls' && profileOf(l) === undefined) problem('ERR_CONFIG_TLS_PROFILE', [...l.path, 'tlsProfile'], 'a TLS listener needs a tlsProfile');
    if (l.transport !== 'tls' && profileOf(l) !== undefined) problem('ERR_CONFIG_SCHEMA', [...l.path, 'tlsProfile'], 'only a TLS listener takes a tlsProfile');
    ref('tlsProfiles', l.tlsProfile, [...l.path, 'tlsProfile'], 'TLS profile');
    ref('tenants', l.tenant, [...l.path, 'tenant'], 'tenant');
  }
  ref('tenants', config.gateway.defaultTenant, ['gateway', 'defaultTenant'], 'tenant');
  checkBridgeTarget(config, names.tenants, problem);
  checkSharedServerNames(config, listeners, problem);
  if (input.trustpointFolders) checkTrustpointFolders(input.trustpointFolders.resolved, input.trustpointFolders.ready, problem);
  const sharedTls = listeners.filter((l) => l.shared && l.transport === 'tls');
  for (const [name, t] of Object.entries(config.tenants)) {
    const at = (k: string, ...rest: (string | number)[]): ConfigPath => ['tenants', name, k, ...rest];
    ref('tlsProfiles', t.tlsProfile, at('tlsProfile'), 'TLS profile');
    const own = listeners.filter((l) => !l.shared && l.tenant === name);
    const ownTls = own.some((l) => l.transport === 'tls');
    if ((t.transport === 'tls' || ownTls) && t.tlsProfile === undefined) {
      problem('ERR_CONFIG_TENANT', at('tlsProfile'), 'a tenant using TLS needs a tlsProfile');
    }
    if (t.transport === 'tls' && !ownTls) {
      const profile = t.tlsProfile !== undefined ? config.tlsProfiles[t.tlsProfile] : undefined;
      const reachable = sharedTls.some((l) => l.tenant === name || (t.tlsProfile !== undefined && l.tlsProfile === t.tlsProfile)) ||
        (sharedTls.length > 0 && (profile?.serverNames.length ?? 0) > 0);
      if (!reachable) {
        problem('ERR_CONFIG_TENANT', at('listenPortSecure'),
          'a TLS tenant needs a TLS listener: listenPortSecure, a listen entry with transport tls, or a gateway TLS listener serving its profile (or selecting it by serverNames)');
      }
    }
    if (t.url === 'sips' && t.transport !== 'tls') problem('ERR_CONFIG_TENANT', at('url'), 'url sips means TLS on every hop (RFC 5630): set transport: tls');
    if (t.optionsPing !== undefined && t.sipServer === undefined) problem('ERR_CONFIG_TENANT', at('optionsPing'), 'optionsPing needs a sipServer to ping');
    categoryRefs(t.defaultPermissions, at('defaultPermissions'));
    if (t.digest && input.env && input.env[t.digest.passwordEnv] === undefined) {
      problem('WARN_CONFIG_ENV', at('digest', 'passwordEnv'), `environment variable ${t.digest.passwordEnv} is not set`);
    }
    for (const k of ['digest', 'register'] as const) {
      if (t[k] !== undefined && t[k].realm === undefined) {
        problem('WARN_CONFIG_DIGEST_REALM', at(k, 'realm'), `no realm: the ${k} credentials answer a digest challenge from any realm; name the one they are for`);
      }
    }
    if (t.registerRelay !== undefined) {
      const to = config.tenants[t.registerRelay.to];
      if (to === undefined) problem('ERR_CONFIG_REFERENCE', at('registerRelay', 'to'), `tenant "${t.registerRelay.to}" is not defined in tenants`);
      else if (t.registerRelay.to === name) problem('ERR_CONFIG_TENANT', at('registerRelay', 'to'), 'registerRelay.to names the registrar tenant, not this one');
      else if (t.registerRelay.registrar === undefined && to.register?.registrar === undefined && to.sipServer === undefined) {
        problem('ERR_CONFIG_TENANT', at('registerRelay', 'registrar'), `registerRelay needs a registrar, or tenant "${t.registerRelay.to}" with a sipServer`);
      } else {
        // The Path names the gateway where the registrar reaches it: a listener of the registrar tenant's transport.
        const via = to.url === 'sips' ? 'tls' : to.transport;
        const l = listeners.find((x) => x.tenant === t.registerRelay!.to && x.transport === via) ?? listeners.find((x) => x.tenant === undefined && x.transport === via);
        if (l === undefined || ((l.host === '0.0.0.0' || l.host === '::') && config.gateway.domain === undefined)) {
          problem('ERR_CONFIG_TENANT', at('registerRelay', 'to'),
            `registerRelay needs a ${via} listener of tenant "${t.registerRelay.to}" (or a shared one) to name in the Path; a wildcard host needs gateway.domain`);
        }
      }
    }
    if (t.register !== undefined) {
      if (t.register.registrar === undefined && t.sipServer === undefined) problem('ERR_CONFIG_TENANT', at('register', 'registrar'), 'register needs a registrar, or a sipServer to register at');
      if (input.env && input.env[t.register.passwordEnv] === undefined) {
        problem('WARN_CONFIG_ENV', at('register', 'passwordEnv'), `environment variable ${t.register.passwordEnv} is not set: the trunk does not register`);
      }
    }
  }

  const pgCdr = config.cdr.postgres;
  if (pgCdr?.passwordEnv !== undefined && input.env && input.env[pgCdr.passwordEnv] === undefined) {
    problem('WARN_CONFIG_ENV', ['cdr', 'postgres', 'passwordEnv'], `environment variable ${pgCdr.passwordEnv} is not set`);
  }

  // Sockets: SIP listeners, admin, control. UDP and TCP may share a port; a wildcard address covers every other.
  type Sock = { family: 'udp' | 'stream'; host: string; port: number; path: ConfigPath; label: string };
  const socks: Sock[] = listeners.map((l) => ({ family: socketFamily(l.transport), host: l.host, port: l.port, path: l.path, label: `${l.transport} listener` }));
  const named = (label: string, path: ConfigPath): string => {
    const v = input.fromEnvironment?.get(formatPath(path));
    return v === undefined ? label : `${label} (port from ${v})`;
  };
  const adminPath: ConfigPath = ['gateway', 'admin', 'port'];
  if (config.gateway.admin.enabled) socks.push({ family: 'stream', host: config.gateway.admin.host, port: config.gateway.admin.port, path: adminPath, label: named('admin API', adminPath) });
  const engine = config.gateway.engine;
  if (engine.mode === 'embedded') {
    const controlPath: ConfigPath = ['gateway', 'engine', 'control', 'port'];
    socks.push({ family: 'stream', host: engine.control.host, port: engine.control.port, path: controlPath, label: named('drachtio control endpoint', controlPath) });
  }
  socks.forEach((s, i) => {
    if (s.port === 0) return;
    const clash = socks.slice(0, i).find((o) => o.port === s.port && o.family === s.family &&
      (o.host === s.host || WILDCARD_HOSTS.has(o.host) || WILDCARD_HOSTS.has(s.host)));
    if (clash) {
      problem('ERR_CONFIG_LISTENER_CONFLICT', s.path,
        `${s.label} ${hostPort(s.host, s.port)} collides with the ${clash.label} ${hostPort(clash.host, clash.port)} at ${formatPath(clash.path)}`, clash.path);
    }
  });

  // Dial peers.
  const ids = new Map<string, number>();
  config.dialPeers.forEach((d, i) => {
    if (d === undefined) return; // failed the schema: already reported
    const at = (k: string, ...rest: (string | number)[]): ConfigPath => ['dialPeers', i, k, ...rest];
    const first = ids.get(d.id);
    if (first !== undefined) problem('ERR_CONFIG_DUPLICATE_KEY', at('id'), `dial peer id ${d.id} is already used by dialPeers[${first}]`, ['dialPeers', first, 'id']);
    else ids.set(d.id, i);
    const why = compiles(d.destinationPattern);
    if (why) problem('ERR_CONFIG_PATTERN', at('destinationPattern'), why);
    ref('tenants', d.tenant, at('tenant'), 'tenant');
    d.from?.forEach((f, j) => ref('tenants', f, at('from', j), 'tenant'));
    const target = config.tenants[d.tenant];
    if (target && target.sipServer === undefined && d.sipServer === undefined) {
      problem('ERR_CONFIG_TENANT', at('tenant'), `tenant ${d.tenant} has no sipServer: set one there or on this dial peer`);
    }
    if (d.maxCalls !== undefined && target?.maxCalls !== undefined && d.maxCalls > target.maxCalls) {
      problem('WARN_CONFIG_LIMIT', at('maxCalls'),
        `maxCalls ${d.maxCalls} is above tenant ${d.tenant}'s ${target.maxCalls}: the tenant's limit is reached first`, ['tenants', d.tenant, 'maxCalls']);
    }
    const setupMs = setupLimitMs(config.gateway.limits.appFinalTimeoutMs);
    if (d.noAnswerTimeoutSeconds !== undefined && d.noAnswerTimeoutSeconds * 1000 >= setupMs) {
      problem('WARN_CONFIG_LIMIT', at('noAnswerTimeoutSeconds'), `noAnswerTimeoutSeconds ${d.noAnswerTimeoutSeconds} is not below the call setup limit `
        + `(${setupMs / 1000} s: gateway.limits.appFinalTimeoutMs less a tenth, at most 5 s): the call ends 480 first, no other dial peer tried`);
    }
  });
  ratesAsWritten(config, problem);

  // Permission categories and TLS peers.
  for (const [name, c] of Object.entries(config.permissions)) {
    c.patterns?.forEach((p, j) => {
      const why = compiles(p);
      if (why) problem('ERR_CONFIG_PATTERN', ['permissions', name, 'patterns', j], why);
    });
  }
  for (const [name, p] of Object.entries(config.tlsPeers)) {
    categoryRefs(p.permissions, ['tlsPeers', name, 'permissions']);
    p.tenants?.forEach((t, j) => ref('tenants', t, ['tlsPeers', name, 'tenants', j], 'tenant'));
  }

  // Flow-through media is anchored on rtpengine: without an instance, every call of the tenant would get 503.
  if (config.gateway.media.rtpengines.length === 0) {
    for (const [name, t] of Object.entries(config.tenants)) {
      if (t.media?.mode === 'flow-through') {
        problem('ERR_CONFIG_TENANT', ['tenants', name, 'media', 'mode'], 'media flow-through needs an rtpengine: list one in gateway.media.rtpengines');
      }
    }
  }

  // A real drachtio-server has one global TLS setup and never passes the peer certificate to the app.
  if (engine.mode === 'external') {
    for (const name of Object.keys(config.tlsProfiles)) {
      problem('ERR_CONFIG_ENGINE_MODE', ['tlsProfiles', name],
        'TLS profiles need the embedded engine (gateway.engine.mode: embedded); drachtio-server has one global TLS setup');
    }
    if (Object.keys(config.tlsPeers).length > 0) {
      problem('ERR_CONFIG_ENGINE_MODE', ['tlsPeers'], 'TLS peer permissions need the embedded engine; drachtio-server does not pass the peer certificate to the app');
    }
    for (const [name, t] of Object.entries(config.tenants)) {
      if (t.registerRelay) {
        problem('ERR_CONFIG_ENGINE_MODE', ['tenants', name, 'registerRelay'],
          'the REGISTER relay needs the embedded engine: its flows (RFC 5626) are the engine\'s connections, which drachtio-server does not hand to the app');
      }
    }
  }
  return out;
}

/**
 * A callBurst without a maxCallsPerSecond is ignored; with N app workers each app holds ceil(callBurst / N) tokens, so
 * a burst that does not share out evenly lets more calls come at once than it says.
 */
function ratesAsWritten(config: ConfigSections, problem: (code: ConfigProblemCode, path: ConfigPath, message: string) => void): void {
  const w = config.gateway.workers;
  const apps = w === 'auto' ? availableParallelism() - 1 : w;
  const check = (c: { maxCallsPerSecond?: number | undefined; callBurst?: number | undefined } | undefined, path: ConfigPath): void => {
    if (c?.callBurst !== undefined && c.maxCallsPerSecond === undefined) {
      problem('WARN_CONFIG_LIMIT', [...path, 'callBurst'], 'callBurst is ignored without maxCallsPerSecond');
    }
    if (c?.maxCallsPerSecond === undefined || apps <= 1) return;
    const burst = c.callBurst ?? Math.max(1, Math.ceil(c.maxCallsPerSecond));
    if (burst % apps === 0) return;
    const share = Math.ceil(burst / apps);
    problem('WARN_CONFIG_LIMIT', [...path, c.callBurst !== undefined ? 'callBurst' : 'maxCallsPerSecond'],
      `call burst ${burst} over ${apps} app workers: each holds ${share}, so up to ${share * apps} calls may come at once`);
  };
  for (const [name, t] of Object.entries(config.tenants)) check(t, ['tenants', name]);
  config.dialPeers.forEach((d, i) => check(d, ['dialPeers', i]));
}
