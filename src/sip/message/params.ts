/** Parses `;a=b;c` parameter lists (RFC 3261 §25.1 generic-param); names lower-cased, a bare name maps to null. */
export function parseParams(text: string, into: Record<string, string | null> = {}): Record<string, string | null> | undefined {
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    if (text[i] !== ';') return undefined;
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let j = i;
    while (j < n && text[j] !== '=' && text[j] !== ';' && text[j] !== ' ' && text[j] !== '\t') j++;
    const name = text.slice(i, j).toLowerCase();
    if (name.length === 0) return undefined;
    while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
    if (j < n && text[j] === '=') {
      j++;
      while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
      let value: string;
      if (text[j] === '"') {
        let k = j + 1;
        while (k < n && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
        if (k >= n) return undefined;
        value = text.slice(j, k + 1);
        j = k + 1;
      } else {
        let k = j;
        while (k < n && text[k] !== ';' && text[k] !== ' ' && text[k] !== '\t' && text[k] !== ',') k++;
        value = text.slice(j, k);
        j = k;
      }
      into[name] = value;
    } else {
      into[name] = null;
    }
    i = j;
  }
  return into;
}

export function formatParams(params: Record<string, string | null>): string {
  let s = '';
  for (const k in params) {
    const v = params[k];
    s += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
  }
  return s;
}
