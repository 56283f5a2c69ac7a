/**
 * Compiled regular expressions by source text. Patterns come from validated configuration, so the set is
 * small; the cache is bounded anyway so a stream of distinct patterns cannot grow it without end.
 */
const MAX = 4096;
const cache = new Map<string, RegExp>();

export function compilePattern(source: string): RegExp {
  let re = cache.get(source);
  if (re === undefined) {
    re = new RegExp(source);
    if (cache.size >= MAX) cache.clear();
    cache.set(source, re);
  }
  return re;
}
