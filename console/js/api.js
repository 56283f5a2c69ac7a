// The admin API as the console calls it: the token from sessionStorage on every request, JSON in and out, and
// a refusal thrown with the API's own code and message.
const KEY = 'trunkgate.token';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  signIn: (token) => sessionStorage.setItem(KEY, token),
  signOut: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
    this.body = body;
  }
}

/** Called when the API answers 401: the app goes back to its login page with the message. */
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

/** A GET the API answers 429 (one CDR scan at a time) is tried again after its Retry-After, at most twice. */
const BUSY_RETRIES = 2;

export async function api(method, path, { body, ifMatch, quiet401 } = {}, retries = BUSY_RETRIES) {
  const headers = {};
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (ifMatch) headers['if-match'] = ifMatch;
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let data = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try { data = JSON.parse(text); } catch { /* kept as text */ }
  }
  if (res.status === 429 && method === 'GET' && retries > 0) {
    const seconds = Math.min(5, Math.max(0, Number(res.headers.get('retry-after')) || 1));
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return api(method, path, { body, ifMatch, quiet401 }, retries - 1);
  }
  if (!res.ok) {
    const err = new ApiError(res.status, typeof data === 'object' ? data : { message: text || res.statusText });
    if (res.status === 401 && !quiet401) onUnauthorized(err.message);
    throw err;
  }
  return { data, etag: res.headers.get('etag') };
}

export const get = async (path) => (await api('GET', path)).data;

/** A configuration kind's entries, each with its ETag (GET /config/:kind). */
export const configList = async (kind) => (await get(`/config/${kind}`)).entries;
export const configCreate = (kind, name, value) => api('POST', `/config/${kind}`, { body: name === undefined ? { value } : { name, value } });
export const configReplace = (kind, name, value, etag) => api('PUT', `/config/${kind}/${encodeURIComponent(name)}`, { body: { value }, ifMatch: etag });
export const configDelete = (kind, name, etag) => api('DELETE', `/config/${kind}/${encodeURIComponent(name)}`, { ifMatch: etag });

/** An error as one line: the API's message, its code, and for a 422 each problem's path. */
export function describeError(e) {
  if (!(e instanceof ApiError)) return String(e?.message ?? e);
  const problems = (e.body?.problems ?? []).map((p) => `${p.path ?? ''}: ${p.message ?? ''} [${p.code ?? ''}]`);
  const refs = (e.body?.referencedBy ?? []).map((r) => `used by ${r.path ?? JSON.stringify(r)}${r.file ? ` (${r.file}:${r.line})` : ''}`);
  const stale = e.code === 'ERR_CONFIG_ETAG_MISMATCH' ? ['Someone changed it since this page read it: Reload, then edit again.'] : [];
  return [`${e.message}${e.code ? ` [${e.code}]` : ''}`, ...problems, ...refs, ...stale].join('\n');
}
