import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { MAP_SECTIONS } from './config-schema.js';
import { formatPath, type ConfigPath } from './config-path.js';
import type { ConfigProblem } from './errors.js';

/** One configuration file's text. */
/** Names that would reach an object's prototype machinery if used as keys. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

export interface ConfigDocument {
  file: string;
  text: string;
}

export interface Location {
  file?: string;
  line?: number;
}

export interface MergedDocuments {
  /** The merged, not yet validated object. */
  raw: Record<string, unknown>;
  problems: ConfigProblem[];
  /** The files that hold no document: empty, blank, or only comments. */
  empty: string[];
  /** Which file (and line) a path of the merged object came from. */
  locate(path: ConfigPath): Location;
}

interface Source {
  file: string;
  docPath: (string | number)[];
}

const MAP = new Set<string>([...MAP_SECTIONS, 'gateway']);

type Ranged = { range?: [number, number, number] | null } | null | undefined;

/** The line of a path's key (`name:`), or of its value when it has no key (a list item, the root). */
function keyLine(doc: Document, path: (string | number)[], lines: LineCounter): number | undefined {
  const last = path.at(-1);
  if (typeof last === 'string') {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === last);
      const k = pair?.key as Ranged;
      if (k?.range) return lines.linePos(k.range[0]).line;
    }
  }
  const node = (path.length === 0 ? doc.contents : doc.getIn(path, true)) as Ranged;
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Parses each file and merges them: named entries of the map sections (and the keys of `gateway`) may
 * each come from one file only; `dialPeers` lists are joined in file order. A name defined twice is an
 * error naming both files. Every file's problems are collected; nothing stops at the first.
 */
export function mergeDocuments(documents: readonly ConfigDocument[]): MergedDocuments {
  const raw: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const empty: string[] = [];
  const sources = new Map<string, Source>();
  const parsed = new Map<string, { doc: Document; lines: LineCounter }>();

  const locate = (path: ConfigPath): Location => {
    for (let k = path.length; k >= 1; k--) {
      const src = sources.get(formatPath(path.slice(0, k)));
      if (!src) continue;
      const docPath = [...src.docPath, ...path.slice(k)];
      const p = parsed.get(src.file);
      if (!p) return { file: src.file };
      for (let n = docPath.length; n >= 0; n--) {
        const line = keyLine(p.doc, docPath.slice(0, n), p.lines);
        if (line !== undefined) return { file: src.file, line };
      }
      return { file: src.file };
    }
    return {};
  };

  const duplicate = (path: ConfigPath, file: string, line: number | undefined) => {
    const first = locate(path);
    problems.push({
      code: 'ERR_CONFIG_DUPLICATE_KEY',
      file,
      ...(line ? { line } : {}),
      path: formatPath(path),
      message: `defined in ${first.file ?? 'another file'}${first.line ? `:${first.line}` : ''} and again in ${file}`,
    });
  };

  // `__proto__` as a key would set the merged object's prototype instead of adding an entry: the entry would vanish
  // without a word. Such names are refused.
  const reserved = (path: (string | number)[], file: string, line: number | undefined): void => {
    problems.push({ code: 'ERR_CONFIG_SCHEMA', file, ...(line ? { line } : {}), path: formatPath(path), message: `${String(path.at(-1))} is a reserved name` });
  };

  for (const { file, text } of documents) {
    const lines = new LineCounter();
    // logLevel error: what the yaml library would print as a process warning (a key that is a map, an unknown tag)
    // is a problem of this file, reported with the others, never a line outside the JSON log.
    const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lines, prettyErrors: false, logLevel: 'error' });
    if (doc.errors.length > 0 || doc.warnings.length > 0) {
      for (const e of [...doc.errors, ...doc.warnings]) {
        const line = lines.linePos(e.pos[0]).line;
        problems.push({ code: 'ERR_CONFIG_YAML', file, ...(line ? { line } : {}), path: '', message: e.message.split('\n')[0]! });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      problems.push({ code: 'ERR_CONFIG_YAML', file, path: '', message: (e as Error).message });
      continue;
    }
    if (value === null || value === undefined) {
      // Nothing to merge; whether that is a file emptied on purpose or one caught mid-write is the loader's call.
      empty.push(file);
      continue;
    }
    parsed.set(file, { doc, lines });
    if (!isPlainObject(value)) {
      problems.push({ code: 'ERR_CONFIG_SCHEMA', file, line: 1, path: '', message: 'a configuration file holds a mapping of sections (gateway, tenants, ...)' });
      continue;
    }
    const lineOf = (docPath: (string | number)[]) => keyLine(doc, docPath, lines);
    for (const [section, v] of Object.entries(value)) {
      if (RESERVED.has(section)) {
        reserved([section], file, lineOf([section]));
        continue;
      }
      if (!sources.has(section)) sources.set(section, { file, docPath: [section] });
      if (MAP.has(section) && isPlainObject(v) && (raw[section] === undefined || isPlainObject(raw[section]))) {
        const target = (raw[section] ??= {}) as Record<string, unknown>;
        for (const [name, entry] of Object.entries(v)) {
          const path = [section, name];
          if (RESERVED.has(name)) {
            reserved(path, file, lineOf(path));
            continue;
          }
          if (Object.hasOwn(target, name)) {
            duplicate(path, file, lineOf(path));
            continue;
          }
          target[name] = entry;
          sources.set(formatPath(path), { file, docPath: path });
        }
      } else if (section === 'dialPeers' && Array.isArray(v) && (raw[section] === undefined || Array.isArray(raw[section]))) {
        const target = (raw[section] ??= []) as unknown[];
        v.forEach((entry, local) => {
          sources.set(formatPath([section, target.length]), { file, docPath: [section, local] });
          target.push(entry);
        });
      } else if (Object.hasOwn(raw, section)) {
        duplicate([section], file, lineOf([section]));
      } else {
        raw[section] = v;
      }
    }
  }
  return { raw, problems, empty, locate };
}
