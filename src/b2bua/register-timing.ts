/** The parts of a registrar's final answer the registration reads (a drachtio-srf response). */
export interface RegisterAnswer {
  status: number;
  get?(name: string): string | undefined;
}

/**
 * The Expires the registrar granted our contact: the `expires` parameter of the Contact in the 2xx that is ours
 * (its user part is `contactUser`), else the Expires header, else what we asked for. "The registrar [...] returns
 * [...] all the current bindings [...] with an expires parameter" (RFC 3261 §10.3 step 8, §10.2.4).
 */
export function grantedExpires(res: RegisterAnswer, contactUser: string, asked: number): number {
  const contacts = res.get?.('Contact') ?? '';
  for (const c of splitContacts(contacts)) {
    const user = /<(?:sips?):([^@>;]+)@/i.exec(c)?.[1];
    const exp = /;\s*expires\s*=\s*(\d+)/i.exec(c.slice(c.indexOf('>') + 1))?.[1];
    if (user === contactUser && exp !== undefined) return clampExpires(Number(exp), asked);
  }
  const header = Number.parseInt(res.get?.('Expires') ?? '', 10);
  return Number.isInteger(header) ? clampExpires(header, asked) : asked;
}

function clampExpires(n: number, asked: number): number {
  // A registrar that grants 0 for a binding it accepted is taken at the shortest useful interval, never a loop.
  return Number.isFinite(n) && n > 0 ? Math.min(n, 86_400) : Math.min(asked, 60);
}

/** Contacts are comma-separated, but a quoted display name or a URI in <> may hold a comma. */
function splitContacts(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((c) => c !== '');
}

/**
 * When to refresh a binding of `granted` seconds: well before it runs out, so a refresh that must fail over or be
 * challenged still lands in time: half way for short bindings, a minute ahead (at most) for long ones.
 */
export function refreshDelayMs(granted: number): number {
  const lead = Math.min(60, granted / 2);
  return Math.max(1, granted - lead) * 1000;
}

/** The wait after the n-th failure in a row: min, doubling, at most max (seconds). */
export function retryDelayMs(failures: number, r: { min: number; max: number }): number {
  const n = Math.max(1, failures);
  return Math.min(r.max, r.min * 2 ** Math.min(n - 1, 20)) * 1000;
}
