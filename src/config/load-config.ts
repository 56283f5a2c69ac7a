import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { PermissionCategory } from '../policy/types.js';
import { formatPath, type ConfigPath } from './config-path.js';
import { ConfigSchema, MAP_SECTIONS, type ConfigSections, type MapSection } from './config-schema.js';
import { crossCheck, type CipherNameValidator } from './cross-check.js';
import { trustpointFolderReady } from './cross-check-start.js';
import { deepFreeze, type DeepReadonly } from './deep-freeze.js';
import { DialPeerSchema } from './dial-peer-schema.js';
import { effectiveCategories } from './effective-categories.js';
import { applyPortOverrides } from './env-overrides.js';
import { configInvalid, type ConfigProblem } from './errors.js';
import { AdminSchema, EngineSchema, GatewaySchema, ListenerSchema } from './gateway-schema.js';
import { listListeners, type ListenerSpec } from './list-listeners.js';
import { mergeDocuments, type ConfigDocument, type MergedDocuments } from './merge-documents.js';
import { resolveConfigPaths } from './resolve-paths.js';
import { listConfigFiles, type ReadDocuments } from './stable-read.js';

export { readConfigDocumentsStable, type ReadDocuments, type StableReadOptions } from './stable-read.js';

/** The validated, frozen configuration every layer takes its slice of. */
export type GatewayConfig = DeepReadonly<
  ConfigSections & {
    /** Every permission category (built-ins included), in the order classifyNumber checks them. */
    permissionCategories: PermissionCategory[];
    /** Every SIP listener (gateway's shared ones, then the tenants'). */
    listeners: ListenerSpec[];
    /** The files it was read from. */
    files: string[];
    /** Those of `files` that held nothing (empty, or only comments); a reload may find them so again. */
    emptyFiles: string[];
  }
>;

export interface LoadConfigOptions {
  /** Checks cipher names (the tls layer's lookup, passed in by the caller); absent: not checked. */
  validateCipherName?: CipherNameValidator;
  /** For warnings about unset secret variables (process.env); absent: not checked. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Whether a trustpoint folder holds its key and certificate (the PKI layer's test, passed in by the caller). A folder
   * that does not, outside where the first start creates one, is refused. tryLoadConfig looks for key.pem and cert.pem
   * when this is absent; parseConfig (no I/O) then does not look.
   */
  trustpointExists?: (dir: string) => boolean;
  /** The files as read already (a reload reads them with readConfigDocumentsStable); absent: read here, once. */
  read?: ReadDocuments;
  /**
   * On a reload, the configuration the gateway runs: a file it has content from that is now empty, or only comments,
   * is refused (ERR_CONFIG_FILE_EMPTIED). Absent (a start, a check): an empty file is taken as empty.
   */
  running?: GatewayConfig;
}

export type ConfigResult =
  | { ok: true; config: GatewayConfig; warnings: ConfigProblem[] }
  | { ok: false; code: 'ERR_CONFIG_INVALID'; reason: string; problems: ConfigProblem[]; warnings: ConfigProblem[] };

/** The profiles directory: the command-line flag, else TRUNKGATE_PROFILES, else `profiles`. */
export function resolveConfigDir(flag?: string, env: Readonly<Record<string, string | undefined>> = {}): string {
  return flag || env.TRUNKGATE_PROFILES || 'profiles';
}

/** Every `*.yaml` / `*.yml` of a directory (by name), or the files given, read as text. */
export function readConfigDocuments(source: string | readonly string[]): ReadDocuments {
  const { files, problems } = listConfigFiles(source);
  const documents: ConfigDocument[] = [];
  for (const file of files) {
    try {
      documents.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      problems.push({ code: 'ERR_CONFIG_READ', file, path: '', message: (e as Error).message });
    }
  }
  return { documents, problems };
}

/**
 * The files the running configuration has content from that are now empty: `cp` and a shell's `>` leave a file
 * empty for a moment, and a reload that took that for the new configuration would drop every dial peer (each call a
 * 404) or every TLS-peer restriction. Emptying a list is written out (`dialPeers: []`).
 */
function emptiedFiles(empty: readonly string[], running: GatewayConfig): ConfigProblem[] {
  const had = new Set(running.files);
  const wasEmpty = new Set(running.emptyFiles);
  return empty.filter((f) => had.has(f) && !wasEmpty.has(f)).map((file) => ({
    code: 'ERR_CONFIG_FILE_EMPTIED', file, path: '',
    message: 'is empty (or only comments) but the running configuration has content from it: taken for a file caught mid-write; '
      + 'to empty a list, write it out (dialPeers: [])',
  }));
}

function issueProblems(issues: readonly z.core.$ZodIssue[], merged: MergedDocuments): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const base = issue.path as ConfigPath;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(locate(merged, [...base, key], 'ERR_CONFIG_SCHEMA', `unknown key "${key}"`));
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_key') message = `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`;
    else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const msgs = [...new Set(issue.errors.flat().map((i) => i.message))];
      message = msgs.join(' | ');
    }
    if (/received undefined/.test(message) && !/received (?!undefined)/.test(message)) message = 'required';
    out.push(locate(merged, base, 'ERR_CONFIG_SCHEMA', message));
  }
  return out;
}

function locate(merged: MergedDocuments, path: ConfigPath, code: ConfigProblem['code'], message: string): ConfigProblem {
  const where = merged.locate(path);
  return { code, ...(where.file ? { file: where.file } : {}), ...(where.line ? { line: where.line } : {}), path: formatPath(path), message };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * When the whole fails the schema, the parts that pass it, so the cross-checks still run over them and
 * one load reports every problem.
 */
function validParts(raw: Record<string, unknown>): ConfigSections {
  const shape = ConfigSchema.shape;
  const sections = ConfigSchema.parse({}) as ConfigSections;
  const g = GatewaySchema.safeParse(raw.gateway ?? {});
  if (g.success) sections.gateway = g.data;
  else if (isObject(raw.gateway)) {
    const rg = raw.gateway;
    const listen = Array.isArray(rg.listen) ? rg.listen.flatMap((l) => { const r = ListenerSchema.safeParse(l); return r.success ? [r.data] : []; }) : [];
    const admin = AdminSchema.safeParse(rg.admin ?? {});
    const engine = EngineSchema.safeParse(rg.engine ?? { mode: 'embedded' });
    const bindHost = GatewaySchema.shape.bindHost.safeParse(rg.bindHost);
    sections.gateway = {
      ...sections.gateway,
      listen,
      ...(bindHost.success ? { bindHost: bindHost.data } : {}),
      ...(admin.success ? { admin: admin.data } : {}),
      ...(engine.success ? { engine: engine.data } : {}),
    };
  }
  for (const name of MAP_SECTIONS) {
    const section = raw[name];
    if (!isObject(section)) continue;
    const valueSchema = (shape[name].def.innerType as z.ZodRecord).def.valueType as z.ZodType;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(section)) {
      const r = valueSchema.safeParse(v);
      if (r.success) out[k] = r.data;
    }
    (sections as unknown as Record<string, unknown>)[name] = out;
  }
  if (Array.isArray(raw.dialPeers)) {
    // Keep indexes: a bad entry becomes a hole that the checks skip.
    sections.dialPeers = raw.dialPeers.map((d) => { const r = DialPeerSchema.safeParse(d); return r.success ? r.data : undefined; }) as ConfigSections['dialPeers'];
  }
  return sections;
}

/** In reading order: by file as given, then line; problems with no file last. Stable otherwise. */
function sortByPlace(problems: ConfigProblem[], documents: readonly ConfigDocument[]): void {
  const order = new Map(documents.map((d, i) => [d.file, i]));
  const fileRank = (p: ConfigProblem) => (p.file === undefined ? Infinity : (order.get(p.file) ?? -1));
  problems.sort((a, b) => fileRank(a) - fileRank(b) || (a.line ?? Infinity) - (b.line ?? Infinity));
}

/**
 * Validates configuration documents (no I/O): merge, one schema pass, the cross-checks, then a deep-frozen
 * result. On failure, every problem with its file, line and path.
 */
export function parseConfig(documents: readonly ConfigDocument[], opts: LoadConfigOptions = {}): ConfigResult {
  const merged = mergeDocuments(documents);
  const problems: ConfigProblem[] = [...merged.problems, ...(opts.running ? emptiedFiles(merged.empty, opts.running) : [])];
  // TRUNKGATE_ADMIN_PORT and TRUNKGATE_CONTROL_PORT replace the files' ports before anything judges them.
  const ports = opts.env ? applyPortOverrides(merged.raw, opts.env) : undefined;
  const fromEnvironment = ports?.replaced ?? new Map<string, string>();
  if (ports) problems.push(...ports.problems);
  const parsed = ConfigSchema.safeParse(merged.raw);
  let sections: ConfigSections;
  if (parsed.success) sections = parsed.data;
  else {
    problems.push(...issueProblems(parsed.error.issues, merged));
    sections = validParts(merged.raw);
  }
  const names = {} as Record<MapSection, Set<string>>;
  for (const s of MAP_SECTIONS) names[s] = new Set(isObject(merged.raw[s]) ? Object.keys(merged.raw[s]) : []);
  const { categories, problems: categoryProblems } = effectiveCategories(sections.permissions);
  // Names of new categories that failed the schema still count as defined.
  const known = [...categories, ...[...names.permissions].filter((n) => !categories.some((c) => c.name === n)).map((name) => ({ name, patterns: [], default: false }))];
  const profilesDir = documents[0] !== undefined ? dirname(documents[0].file) : undefined;
  const holesFree = resolveConfigPaths({ ...sections, dialPeers: sections.dialPeers.filter((d) => d !== undefined) }, merged.locate, profilesDir);
  const checked = crossCheck({
    config: sections,
    names,
    categories: known,
    ...(opts.validateCipherName ? { validateCipherName: opts.validateCipherName } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.trustpointExists ? { trustpointFolders: { resolved: holesFree.trustpoints, ready: opts.trustpointExists } } : {}),
    fromEnvironment,
  });
  const warnings: ConfigProblem[] = [];
  for (const p of [...categoryProblems, ...checked]) {
    let message = p.message;
    if (p.related && !fromEnvironment.has(formatPath(p.related))) {
      const r = merged.locate(p.related);
      if (r.file) message += ` (${r.file}${r.line ? `:${r.line}` : ''})`;
    }
    // A setting the environment replaced is no file's: the problem is the environment's.
    const located: ConfigProblem = fromEnvironment.has(formatPath(p.path))
      ? { code: p.code, file: 'environment', path: formatPath(p.path), message }
      : locate(merged, p.path, p.code, message);
    (p.code.startsWith('WARN_') ? warnings : problems).push(located);
  }
  if (problems.length > 0) {
    sortByPlace(problems, documents);
    const err = configInvalid(problems);
    return { ok: false, code: 'ERR_CONFIG_INVALID', reason: err.message, problems, warnings };
  }
  const config = deepFreeze({
    ...holesFree,
    permissionCategories: categories,
    listeners: listListeners(holesFree),
    files: documents.map((d) => d.file),
    emptyFiles: merged.empty,
  });
  return { ok: true, config, warnings };
}

/** Reads and validates a profiles directory (or list of files), returning the outcome as a value. */
export function tryLoadConfig(source: string | readonly string[], opts: LoadConfigOptions = {}): ConfigResult {
  const read = opts.read ?? readConfigDocuments(source);
  const result = parseConfig(read.documents, { trustpointExists: trustpointFolderReady, ...opts });
  if (read.problems.length === 0) return result;
  const problems = [...read.problems, ...(result.ok ? [] : result.problems)];
  return { ok: false, code: 'ERR_CONFIG_INVALID', reason: configInvalid(problems).message, problems, warnings: result.warnings };
}

/** Reads and validates a profiles directory; throws GatewayError ERR_CONFIG_INVALID with `details.problems`. */
export function loadConfig(source: string | readonly string[], opts: LoadConfigOptions = {}): GatewayConfig {
  const r = tryLoadConfig(source, opts);
  if (!r.ok) throw configInvalid(r.problems);
  return r.config;
}
