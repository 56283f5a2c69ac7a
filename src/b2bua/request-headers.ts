import type { PipelineRequest } from './pipeline-types.js';
import { INTERNAL_HEADERS } from './policy-types.js';

/** Removes every copy of a header from a parsed request, whatever the case of its name. */
export function removeHeader(req: Pick<PipelineRequest, 'msg'>, name: string): boolean {
  const headers = req.msg?.headers;
  if (!headers) return false;
  const lower = name.toLowerCase();
  let removed = false;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === lower) {
      delete headers[key];
      removed = true;
    }
  }
  return removed;
}

/** A copy of `headers` without the ones that belong between the engine and the app. */
export function withoutInternalHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const internal = new Set(INTERNAL_HEADERS.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!internal.has(k.toLowerCase())) out[k] = v;
  return out;
}
