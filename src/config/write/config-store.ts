import { basename } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import type { Logger } from '../../log/index.js';
import { trustpointFolderReady } from '../cross-check-start.js';
import { configInvalid, type ConfigProblem } from '../errors.js';
import { parseConfig, readConfigDocuments, type LoadConfigOptions } from '../load-config.js';
import type { ConfigDocument } from '../merge-documents.js';
import { ConfigWriteError, type ConfigWriteCode, type ConfigWriteEventCode } from './errors.js';
import { etagOf, ifMatchAllows } from './etag.js';
import { changedMeanwhile, fileUnreadable, keep, putBack, readWhole, swapIn } from './file-swap.js';
import type { ConfigKind } from './kinds.js';
import { fileForNew, locateEntries, readProfiles, readProfilesReporting, type LocatedEntry, type UnreadableFile } from './locate.js';
import { editEntry, type EditMethod } from './yaml-edit.js';

/** What the running gateway's reload path answered (structurally the reloader's report). */
export interface ApplyReport {
  ok: boolean;
  changed: string[];
  applied: string[];
  needsRestart: { what: string; reason: string }[];
  problems: { code: string; message: string; file?: string; line?: number; path?: string }[];
  warnings: { code: string; message: string; path?: string }[];
  /** The trusted-source part, when the trust plan changed (the reloader's TrustReloadReport). */
  trust?: { ok: boolean; tenants: number; hosts: number; unresolved: string[]; problems: { code: string; message: string; path?: string }[] };
  /** Tenant listeners that could not bind at start, tried again (the reloader's ListenersReloadReport). */
  listeners?: { bound: string[]; stillFailed: { id: string; error: string }[] };
}

export interface ConfigStoreOptions {
  profilesDir: string;
  /** The loader's options at start and reload (the TLS layer's cipher check, the environment), so a write is judged alike. */
  loadOptions: LoadConfigOptions;
  /** Applies the files as written: the gateway's reload (calls in progress untouched). */
  apply(): Promise<ApplyReport>;
  log: Logger;
}

/** An entry as the API shows it: `file` is its name inside the profiles directory. */
export interface ConfigEntry {
  name: string;
  file: string;
  line: number;
  etag: string;
  value: unknown;
}

export type WriteOp = 'create' | 'replace' | 'delete';

export interface WriteResult {
  op: WriteOp;
  kind: ConfigKind;
  name: string;
  file: string;
  /** The entry after the write (absent after a delete). */
  entry?: ConfigEntry;
  /** The collection's tag after the write. */
  collectionEtag: string;
  /** `in-place`: only the entry's text changed; `rewritten`: the file was written out again by the YAML library. */
  method: EditMethod;
  reload: Omit<ApplyReport, 'ok' | 'problems'>;
}

export type WriteCounts = Record<WriteOp, Record<'done' | ConfigWriteCode | 'ERR_CONFIG_INVALID', number>>;

/** Secrets never leave through the API: a `password` anywhere shows as redacted (the schema refuses them anyway). */
function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, /password$/i.test(k) ? '[redacted]' : redact(x)]));
}

const shown = (e: LocatedEntry): ConfigEntry =>
  ({ name: e.name, file: basename(e.file), line: e.line, etag: etagOf(e.value), value: redact(e.value) });

/** A collection's tag: its entries' names and values, in merged order. */
const collectionTag = (entries: readonly LocatedEntry[]): string => etagOf(entries.map((e) => [e.name, e.value]));

/**
 * The configuration objects of a profiles directory, read and written through the files themselves: each write
 * edits the one file that holds the entry (comments and layout kept), is validated with every other file exactly
 * as the loader validates a start or a reload, is written atomically, and is applied through the reload path; a
 * reload that refuses it puts the file back (file-swap.ts). Writes are one at a time; tags (ETag) stop an editor
 * overwriting a change it has not seen, and a file the gateway could not read or parse is never written over.
 */
export class ConfigStore {
  readonly #o: ConfigStoreOptions;
  #writing = false;
  readonly #counts = {} as WriteCounts;
  /**
   * Refusals are counted each; their lines are one per code a minute (the codes are a closed list, so is this
   * map), with how many were left out since, so a client looping writes makes no flood.
   */
  readonly #lastLine = new Map<string, { at: number; left: number }>();
  /** Lists written again whole since the start, too long to compare item by item (yaml-edit.ts, MAX_LIST_DIFF_CELLS). */
  #listsWhole = 0;
  /** Those of the write under way. */
  #listsWholeNow = 0;

  constructor(options: ConfigStoreOptions) {
    this.#o = options;
  }

  /** The entries of a kind, and the profiles files that could not be read or parsed (their entries are not shown). */
  list(kind: ConfigKind): { etag: string; entries: ConfigEntry[]; unreadable: UnreadableFile[] } {
    const { documents, unreadable } = readProfilesReporting(this.#o.profilesDir);
    const entries = locateEntries(documents, kind, unreadable);
    return { etag: collectionTag(entries), entries: entries.map(shown), unreadable };
  }

  get(kind: ConfigKind, name: string): ConfigEntry {
    const e = locateEntries(readProfiles(this.#o.profilesDir), kind).find((x) => x.name === name);
    if (!e) throw notFound(kind, name);
    return shown(e);
  }

  counts(): WriteCounts {
    return structuredClone(this.#counts);
  }

  create(kind: ConfigKind, name: string, value: unknown, ifMatch?: string): Promise<WriteResult> {
    return this.#write('create', kind, name, value, ifMatch);
  }

  replace(kind: ConfigKind, name: string, value: unknown, ifMatch: string | undefined): Promise<WriteResult> {
    return this.#write('replace', kind, name, value, ifMatch);
  }

  remove(kind: ConfigKind, name: string, ifMatch: string | undefined): Promise<WriteResult> {
    return this.#write('delete', kind, name, undefined, ifMatch);
  }

  async #write(op: WriteOp, kind: ConfigKind, name: string, value: unknown, ifMatch: string | undefined): Promise<WriteResult> {
    const { log } = this.#o;
    if (this.#writing) return this.#refused(op, kind, name, new ConfigWriteError('ERR_CONFIG_WRITE_BUSY', 'another configuration write is under way; try again'));
    this.#writing = true;
    this.#listsWholeNow = 0;
    try {
      const result = await this.#run(op, kind, name, value, ifMatch);
      this.#count(op, 'done');
      const code: ConfigWriteEventCode = 'EVT_CONFIG_WRITTEN';
      const r = result.reload;
      const whole = this.#listsWholeNow > 0 ? { listsWhole: this.#listsWholeNow, listsWholeTotal: this.#listsWhole } : {};
      log.info({ code, op, kind, name, file: result.file, method: result.method, ...whole, applied: r.applied, needsRestart: r.needsRestart.map((n) => n.what) },
        `config: ${kind} ${name} ${op === 'delete' ? 'deleted from' : op === 'create' ? 'created in' : 'replaced in'} ${result.file}`
        + `${r.applied.length > 0 ? `; applied: ${r.applied.join(', ')}` : ''}${r.needsRestart.length > 0 ? `; needs restart: ${r.needsRestart.map((n) => n.what).join(', ')}` : ''}`);
      return result;
    } catch (e) {
      return this.#refused(op, kind, name, e);
    } finally {
      this.#writing = false;
    }
  }

  #refused(op: WriteOp, kind: ConfigKind, name: string, e: unknown): never {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^ERR_CONFIG_/.test(code)) {
      this.#count(op, code as ConfigWriteCode);
      const now = Date.now();
      const last = this.#lastLine.get(code);
      if (last !== undefined && now - last.at < 60_000) last.left++;
      else {
        this.#lastLine.set(code, { at: now, left: 0 });
        this.#o.log.info({ code, op, kind, name, ...(last?.left ? { suppressed: last.left } : {}) },
          `config: ${op} of ${kind} ${name} refused: ${(e as Error).message.split('\n')[0]} [${code}]`);
      }
    }
    throw e;
  }

  #count(op: WriteOp, outcome: keyof WriteCounts[WriteOp]): void {
    const byOp = (this.#counts[op] ??= {} as WriteCounts[WriteOp]);
    byOp[outcome] = (byOp[outcome] ?? 0) + 1;
  }

  async #run(op: WriteOp, kind: ConfigKind, name: string, value: unknown, ifMatch: string | undefined): Promise<WriteResult> {
    const { profilesDir, loadOptions } = this.#o;
    // Every file must be read: a write judged without one would be judged on another configuration than a reload
    // reads, and the one it edits might be the file left out.
    const { documents, problems: unread } = readConfigDocuments(profilesDir);
    if (unread[0]) throw fileUnreadable(unread[0].file ?? profilesDir, `cannot be read (${unread[0].message})`);
    const before = locateEntries(documents, kind);
    const existing = before.find((e) => e.name === name);
    if (op === 'create') {
      if (existing) throw new ConfigWriteError('ERR_CONFIG_EXISTS', `${kind} ${name} exists (${basename(existing.file)}:${existing.line})`, { etag: etagOf(existing.value) });
      const tag = collectionTag(before);
      if (ifMatch !== undefined && !ifMatchAllows(ifMatch, tag)) throw stale(`${kind} changed since it was read`, tag);
    } else {
      if (!existing) throw notFound(kind, name);
      if (ifMatch === undefined) throw new ConfigWriteError('ERR_CONFIG_IF_MATCH_REQUIRED', `If-Match is required: send the ETag of ${kind} ${name} as read`);
      const tag = etagOf(existing.value);
      if (!ifMatchAllows(ifMatch, tag)) throw stale(`${kind} ${name} changed since it was read`, tag);
    }

    const file = existing?.file ?? fileForNew(profilesDir, documents, kind);
    const previous = editable(file, documents.find((d) => d.file === file)?.text);
    const edited = uneditable(file, () => editEntry(previous ?? '', { kind, name, value }));
    this.#listsWholeNow = edited.listsWhole;
    this.#listsWhole += edited.listsWhole;
    const candidate: ConfigDocument[] = [...documents.filter((d) => d.file !== file), { file, text: edited.text }]
      .sort((a, b) => (basename(a.file) < basename(b.file) ? -1 : 1));
    // Judged as a reload judges the files (tryLoadConfig), trustpoint folders included.
    const checked = parseConfig(candidate, { trustpointExists: trustpointFolderReady, ...loadOptions });
    if (!checked.ok) {
      const refs = checked.problems.filter((p) => p.code === 'ERR_CONFIG_REFERENCE');
      if (op === 'delete' && refs.length > 0) {
        throw new ConfigWriteError('ERR_CONFIG_IN_USE', `${kind} ${name} is still named by ${refs.map((p) => p.path).join(', ')}`, { referencedBy: refs });
      }
      throw configInvalid(checked.problems);
    }

    const swap = swapIn(file, previous, edited.text);
    let report: ApplyReport;
    try {
      report = await this.#o.apply();
    } catch (e) {
      report = { ok: false, changed: [], applied: [], needsRestart: [], warnings: [], problems: [{ code: 'ERR_CONFIG_APPLY_REFUSED', message: (e as Error).message }] };
    }
    if (!report.ok) {
      const stuck = putBack(swap);
      if (stuck !== undefined) {
        const kept = swap.backup !== undefined ? basename(swap.backup) : undefined;
        throw new ConfigWriteError('ERR_CONFIG_RESTORE', `the running gateway refused the new configuration and ${basename(file)} was not put back: ${stuck}. `
          + `The running configuration is still the previous one; ${kept !== undefined ? `its previous bytes are in ${kept}: move that back over it` : 'it did not exist before the write: remove it'}`
          + ' or fix it by hand before the next reload',
        { file: basename(file), ...(kept !== undefined ? { backup: kept } : {}), problems: report.problems });
      }
      throw new ConfigWriteError('ERR_CONFIG_APPLY_REFUSED', `the running gateway refused the new configuration; ${basename(file)} is as it was`,
        { problems: report.problems });
    }
    keep(swap);
    const after = locateEntries(readProfiles(profilesDir), kind);
    const entry = after.find((e) => e.name === name);
    return {
      op, kind, name, file: basename(file), ...(entry && op !== 'delete' ? { entry: shown(entry) } : {}),
      collectionEtag: collectionTag(after), method: edited.method,
      reload: {
        changed: report.changed, applied: report.applied, needsRestart: report.needsRestart, warnings: [...checked.warnings.map(warning), ...report.warnings],
        // What an editor needs to know beyond applied: trusted sources the engine could not take, listeners still down.
        ...(report.trust ? { trust: report.trust } : {}), ...(report.listeners ? { listeners: report.listeners } : {}),
      },
    };
  }
}

const warning = (p: ConfigProblem) => ({ code: p.code, message: p.message, path: p.path });

function notFound(kind: ConfigKind, name: string): ConfigWriteError {
  return new ConfigWriteError('ERR_CONFIG_NOT_FOUND', `no ${kind === 'dialPeers' ? 'dial peer with id' : `entry of ${kind} named`} ${name}`);
}

function stale(message: string, etag: string): ConfigWriteError {
  return new ConfigWriteError('ERR_CONFIG_ETAG_MISMATCH', `${message}: read it again (ETag ${etag})`, { etag });
}

/** The edit, or a refusal naming the file when the text cannot take it (an alias would lose its anchor). */
function uneditable<T>(file: string, edit: () => T): T {
  try {
    return edit();
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]!;
    const alias = /alias|anchor/i.test(why) ? ': a YAML alias (*name) would lose the anchor (&name) it names; write the entries out in full by hand' : '';
    throw new ConfigWriteError('ERR_CONFIG_FILE_UNREADABLE', `${basename(file)} cannot take this edit (${why})${alias}, then write again`, { file: basename(file) });
  }
}

/**
 * The text of the file a write edits, read again whole: it must be what the directory read gave (else it changed
 * meanwhile), and parse as a YAML mapping (or nothing), since an edit of anything else would write over it.
 */
function editable(file: string, read: string | undefined): string | undefined {
  const text = readWhole(file);
  if (text !== read) throw changedMeanwhile(file);
  if (text === undefined) return undefined;
  const doc = parseDocument(text, { logLevel: 'silent' });
  if (doc.errors[0]) throw fileUnreadable(file, `does not parse (${doc.errors[0].message.split('\n')[0]})`);
  if (doc.contents !== null && !isMap(doc.contents)) throw fileUnreadable(file, 'holds no mapping at its top (a list or a plain value)');
  return text;
}
