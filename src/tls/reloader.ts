import { TypedEmitter } from '../common/typed-emitter.js';
import type { TlsErrorCode } from './errors.js';
import { buildTlsProfile, type BuildTlsProfileOptions } from './profile.js';
import type { CompiledTlsProfile, ProfileProblem, TlsProfileMaterial, TlsProfileSpec } from './profile-types.js';

export interface ProfileInput {
  spec: TlsProfileSpec;
  material: TlsProfileMaterial;
}

/** Something a reload applied that will not work as the configuration reads (code and the profile it names). */
export interface ReloadWarning {
  profile: string;
  code: TlsErrorCode;
  reason: string;
}

export type ReloadResult =
  | { ok: true; version: number; names: string[]; warnings?: ReloadWarning[] }
  | { ok: false; version: number; problems: (ProfileProblem & { profile: string })[] };

export type ProfileStoreEvents = {
  swapped: [version: number, profiles: ReadonlyMap<string, CompiledTlsProfile>];
  rejected: [problems: (ProfileProblem & { profile: string })[]];
};

export type ProfileBuilder = (spec: TlsProfileSpec, material: TlsProfileMaterial, opts: BuildTlsProfileOptions) => CompiledTlsProfile;

/**
 * The live set of compiled profiles. `reload()` builds and validates every new profile first and swaps
 * the whole set at once only if all pass; otherwise the old set keeps serving and the reasons come back.
 * Live connections keep the context they were made with; new handshakes read the store.
 */
export class ProfileStore extends TypedEmitter<ProfileStoreEvents> {
  #profiles: ReadonlyMap<string, CompiledTlsProfile> = new Map();
  #previous: { profiles: ReadonlyMap<string, CompiledTlsProfile>; version: number } | undefined;
  #version = 0;
  readonly #build: ProfileBuilder;
  readonly #now: () => Date;

  constructor(opts: { build?: ProfileBuilder; now?: () => Date } = {}) {
    super();
    this.#build = opts.build ?? buildTlsProfile;
    this.#now = opts.now ?? (() => new Date());
  }

  get version(): number {
    return this.#version;
  }

  get(name: string): CompiledTlsProfile | undefined {
    return this.#profiles.get(name);
  }

  all(): CompiledTlsProfile[] {
    return [...this.#profiles.values()];
  }

  reload(inputs: readonly ProfileInput[]): ReloadResult {
    const next = new Map<string, CompiledTlsProfile>();
    const problems: (ProfileProblem & { profile: string })[] = [];
    const now = this.#now();
    for (const { spec, material } of inputs) {
      if (next.has(spec.name)) {
        problems.push({ profile: spec.name, code: 'ERR_TLS_PROFILE_INVALID', reason: `duplicate profile name ${spec.name}` });
        continue;
      }
      try {
        next.set(spec.name, this.#build(spec, material, { now }));
      } catch (e) {
        const listed = (e as { details?: { problems?: ProfileProblem[] } }).details?.problems;
        if (listed && listed.length > 0) for (const p of listed) problems.push({ profile: spec.name, ...p });
        else problems.push({ profile: spec.name, code: (e as { code?: string }).code ?? 'ERR_TLS_PROFILE_INVALID', reason: (e as Error).message });
      }
    }
    if (problems.length > 0) {
      this.safeEmit('rejected', problems);
      return { ok: false, version: this.#version, problems };
    }
    this.#previous = { profiles: this.#profiles, version: this.#version };
    this.#profiles = next;
    this.#version++;
    this.safeEmit('swapped', this.#version, next);
    return { ok: true, version: this.#version, names: [...next.keys()] };
  }

  /**
   * Puts back the set the last successful `reload()` replaced, for a caller that could not apply the new set
   * everywhere (a listener refused it): the running set keeps serving, and the version goes back too.
   */
  rollback(): boolean {
    if (!this.#previous) return false;
    this.#profiles = this.#previous.profiles;
    this.#version = this.#previous.version;
    this.#previous = undefined;
    this.safeEmit('swapped', this.#version, this.#profiles);
    return true;
  }
}
