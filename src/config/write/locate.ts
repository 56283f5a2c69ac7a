import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Pair } from 'yaml';
import { readConfigDocuments } from '../load-config.js';
import type { ConfigDocument } from '../merge-documents.js';
import { DEFAULT_FILE, type ConfigKind } from './kinds.js';

/** One entry of a kind as a file holds it: its name (a dial peer's id), the file and line, and its value as written. */
export interface LocatedEntry {
  name: string;
  file: string;
  line: number;
  value: unknown;
}

/** A profiles file whose entries could not be listed: it could not be read, or is not a YAML mapping. */
export interface UnreadableFile {
  file: string;
  reason: string;
}

/** The text of every `*.yaml` of a profiles directory, as the loader reads them (by name). */
export function readProfiles(dir: string): ConfigDocument[] {
  return readConfigDocuments(dir).documents;
}

/** As readProfiles, with the files (or the directory) that could not be read, and why. */
export function readProfilesReporting(dir: string): { documents: ConfigDocument[]; unreadable: UnreadableFile[] } {
  const { documents, problems } = readConfigDocuments(dir);
  return { documents, unreadable: problems.map((p) => ({ file: p.file ?? dir, reason: p.message })) };
}

/**
 * Every entry of a kind, in the order the loader merges them (file by name, then as written). A file that does not
 * parse, or whose top level is not a mapping, holds none here: it is added to `unreadable` when given, so a listing
 * can say what it could not show (the validation of any write refuses it too).
 */
export function locateEntries(documents: readonly ConfigDocument[], kind: ConfigKind, unreadable?: UnreadableFile[]): LocatedEntry[] {
  const out: LocatedEntry[] = [];
  for (const { file, text } of documents) {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, logLevel: 'silent' });
    if (doc.errors.length > 0 || !isMap(doc.contents)) {
      // An empty file (no contents) holds nothing and is not a problem.
      if (doc.errors.length > 0) unreadable?.push({ file, reason: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      else if (doc.contents !== null) unreadable?.push({ file, reason: 'its top level is not a mapping' });
      continue;
    }
    const section = doc.get(kind, true);
    const js = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
    const line = (pos: number | undefined) => (pos === undefined ? 1 : lines.linePos(pos).line);
    if (kind === 'dialPeers') {
      if (!isSeq(section)) continue;
      const values = js.dialPeers as unknown[];
      section.items.forEach((item, i) => {
        const id = isMap(item) ? item.get('id') : undefined;
        if (id === undefined || id === null) return;
        out.push({ name: String(id), file, line: line((item as { range?: number[] }).range?.[0]), value: values[i] });
      });
    } else if (isMap(section)) {
      const values = js[kind] as Record<string, unknown>;
      for (const pair of section.items as Pair[]) {
        const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        out.push({ name, file, line: line((pair.key as { range?: number[] } | null)?.range?.[0]), value: values[name] });
      }
    }
  }
  return out;
}

/**
 * The file a new entry of a kind goes to: the one that holds that kind already (for dial peers the last one, so the
 * new peer is last in the merged order too), else the shipped file for it, made when missing.
 */
export function fileForNew(dir: string, documents: readonly ConfigDocument[], kind: ConfigKind): string {
  const holding = documents.filter(({ text }) => {
    const doc = parseDocument(text, { logLevel: 'silent' });
    return doc.errors.length === 0 && isMap(doc.contents) && doc.contents.has(kind);
  });
  const pick = kind === 'dialPeers' ? holding.at(-1) : holding[0];
  return pick?.file ?? join(dir, DEFAULT_FILE[kind]);
}
