import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** A strong entity tag (RFC 9110 §8.8.3): the quoted start of the SHA-256 of the value's canonical JSON. */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 22)}"`;
}

/**
 * Whether an If-Match field value lets a change to a resource whose tag is `current` go ahead (RFC 9110 §13.1.1):
 * `*` when the resource exists, or one of the listed tags by strong comparison (a weak tag `W/"..."` never
 * matches). `current` undefined: the resource does not exist.
 */
export function ifMatchAllows(header: string, current: string | undefined): boolean {
  const h = header.trim();
  if (h === '*') return current !== undefined;
  if (current === undefined) return false;
  return splitTags(h).some((t) => t === current);
}

function splitTags(h: string): string[] {
  return h.match(/(W\/)?"[^"]*"/g) ?? [];
}
