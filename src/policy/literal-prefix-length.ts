/**
 * "Longest match" for a regular-expression destination pattern: the number of characters the pattern fixes
 * at the start of every number it matches. Counted from a leading `^`; an optional element (`x?`, `x*`,
 * `x{0,n}`) is skipped without counting; a literal repeated exactly (`1{2}`) counts each time; the first
 * class, group, wildcard, escape class or open repetition ends the count. An unanchored pattern, or one
 * with a top-level alternation, fixes nothing (0).
 *
 *   ^\+?1[2-9]\d{9}$ → 1     ^\+44 → 3     ^011 → 3     ^\+1800\d{7}$ → 5     ^\d{4}$ → 0
 */
export function literalPrefixLength(pattern: string): number {
  if (!pattern.startsWith('^') || hasTopLevelAlternation(pattern)) return 0;
  let i = 1;
  let count = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let len: number;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined || /[dDwWsSbBpPuxck0-9]/.test(e)) break;
      len = 2;
    } else if ('[(.|$)*+?{'.includes(c)) break;
    else len = 1;
    const q = pattern[i + len];
    if (q === '?' || q === '*') {
      i += len + 1;
      if (pattern[i] === '?') i++;
      continue;
    }
    if (q === '+') {
      count++;
      break;
    }
    if (q === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i + len));
      if (!m) break;
      const min = Number(m[1]);
      const exact = m[2] === undefined || m[3] === m[1];
      i += len + m[0].length;
      if (min === 0) continue; // optional: skipped
      count += min;
      if (!exact) break;
      continue;
    }
    count++;
    i += len;
  }
  return count;
}

function hasTopLevelAlternation(p: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}
