import { GatewayError } from '../common/gateway-error.js';

/** The one code a bad configuration fails with; `details.problems` lists every problem. */
export type ConfigErrorCode = 'ERR_CONFIG_INVALID';

/** Stable codes of single problems, as listed in `ConfigProblem.code`. */
export type ConfigProblemCode =
  /** No `*.yaml` file, or a file that cannot be read. */
  | 'ERR_CONFIG_READ'
  /** A reload found a file still being written (changed within 300 ms of each read, or while it was read) for 2 s. */
  | 'ERR_CONFIG_FILE_UNSTABLE'
  /**
   * A reload found empty (or only comments) a file the running configuration has content from: a file caught
   * mid-write, not a way to empty a list (write `dialPeers: []`).
   */
  | 'ERR_CONFIG_FILE_EMPTIED'
  /** YAML syntax, including a key repeated inside one file. */
  | 'ERR_CONFIG_YAML'
  /** The same key (or dial-peer id) defined in two files. */
  | 'ERR_CONFIG_DUPLICATE_KEY'
  /** A value the schema refuses: wrong type, unknown key, out of range. */
  | 'ERR_CONFIG_SCHEMA'
  /**
   * A name that refers to nothing (tenant, TLS profile, trustpoint, category...), or a trustpoint folder with no key and
   * certificate where no first start creates one (anywhere but `<pki>/trustpoints/<name>`).
   */
  | 'ERR_CONFIG_REFERENCE'
  /** A regular expression that does not compile. */
  | 'ERR_CONFIG_PATTERN'
  /** Two listeners on the same address and port. */
  | 'ERR_CONFIG_LISTENER_CONFLICT'
  /** A cipher name the TLS layer does not know. */
  | 'ERR_CONFIG_CIPHER'
  /** A TLS profile whose settings contradict each other, or a server name another profile on the same shared listener lists. */
  | 'ERR_CONFIG_TLS_PROFILE'
  /** A tenant whose transport, listeners, scheme and profile do not fit together (or, under policy bridge, a default tenant without one host:port sipServer). */
  | 'ERR_CONFIG_TENANT'
  /** A feature the external engine (a real drachtio-server) cannot provide. */
  | 'ERR_CONFIG_ENGINE_MODE'
  /** Not an error: worth saying (an unset environment variable...). */
  | 'WARN_CONFIG_ENV'
  /** Not an error: a call limit that cannot bind as written (above its tenant's, or shared out over app workers). */
  | 'WARN_CONFIG_LIMIT'
  /** Not an error: digest or register credentials without a realm, which answer a challenge from any realm. */
  | 'WARN_CONFIG_DIGEST_REALM';

/** One problem: where (file, line, path such as `tenants.acme.tlsProfile`) and what. */
export interface ConfigProblem {
  code: ConfigProblemCode;
  /** The file the value came from, as given to the loader; absent when no file defines it. */
  file?: string;
  /** 1-based line in `file`, when known. */
  line?: number;
  path: string;
  message: string;
}

/** `file:line: path: message [code]`, the form `trunkgate config check` prints. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.path || '(root)'}: ${p.message} [${p.code}]`;
}

export function configInvalid(problems: ConfigProblem[]): GatewayError<ConfigErrorCode> {
  const n = problems.length;
  return new GatewayError('ERR_CONFIG_INVALID', `configuration has ${n} problem${n === 1 ? '' : 's'}:\n${problems.map(formatProblem).join('\n')}`, {
    details: { problems },
  });
}
