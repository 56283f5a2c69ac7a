// Shared pieces of the console's pages: htm bound to Preact, polling, tables, notices and small formats.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { describeError } from './api.js';

export const html = htm.bind(h);

/**
 * Loads `load()` now and every `everyMs` (0: once) while the page is shown; `reload()` asks again at once.
 * Returns { data, error, reload }.
 */
export function usePoll(load, everyMs = 0, deps = []) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const alive = useRef(true);
  const run = useCallback(async () => {
    try {
      const data = await load();
      if (alive.current) setState({ data, error: undefined });
    } catch (e) {
      if (alive.current) setState((s) => ({ data: s.data, error: describeError(e) }));
    }
  }, deps);
  useEffect(() => {
    alive.current = true;
    run();
    const timer = everyMs > 0 ? setInterval(run, everyMs) : undefined;
    return () => { alive.current = false; if (timer) clearInterval(timer); };
  }, [run, everyMs]);
  return { ...state, reload: run };
}

/** Runs an action, showing what it did or why it was refused. */
export function useAction() {
  const [note, setNote] = useState(undefined);
  const run = async (what, fn) => {
    setNote({ kind: 'busy', text: `${what}…` });
    try {
      const r = await fn();
      setNote({ kind: 'ok', text: typeof r === 'string' ? r : `${what}: done` });
      return r;
    } catch (e) {
      setNote({ kind: 'error', text: describeError(e) });
      return undefined;
    }
  };
  return { note, setNote, run };
}

export function Notice({ note }) {
  if (!note) return null;
  return html`<pre class=${`notice ${note.kind}`} role=${note.kind === 'error' ? 'alert' : 'status'}>${note.text}</pre>`;
}

export function Page({ title, children, error, actions }) {
  return html`<section class="page">
    <header class="page-head"><h1>${title}</h1>${actions}</header>
    ${error ? html`<pre class="notice error" role="alert">${error}</pre>` : null}
    ${children}
  </section>`;
}

/** columns: [{ key, label, render?(row) }]; rowKey(row) names each row for tests and screen readers. */
export function Table({ columns, rows, rowKey, empty = 'nothing to show' }) {
  if (!rows) return html`<p class="muted">loading…</p>`;
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table>
    <thead><tr>${columns.map((c) => html`<th>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((r, i) => html`<tr data-row=${rowKey ? rowKey(r) : i}>
      ${columns.map((c) => html`<td>${c.render ? c.render(r) : fmt(r[c.key])}</td>`)}
    </tr>`)}</tbody>
  </table>`;
}

export function Card({ label, value, tone, children }) {
  return html`<div class=${`card ${tone ?? ''}`}><div class="card-label">${label}</div><div class="card-value">${value}</div>${children}</div>`;
}

export function fmt(v) {
  if (v === undefined || v === null || v === '') return '–';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export const time = (ms) => (typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : fmt(ms));
export const duration = (ms) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '–');
export const bytes = (n) => (typeof n !== 'number' ? '–' : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

/** A labelled input bound to one key of a form state object. */
export function Field({ label, name, form, set, type = 'text', placeholder, rows, scope = 'f' }) {
  const onInput = (e) => set({ ...form, [name]: e.currentTarget.value });
  // `scope` keeps ids unique when several forms on a page have a field of the same name.
  const id = `${scope}-${name}`;
  return html`<label for=${id}>${label}
    ${rows ? html`<textarea id=${id} name=${name} rows=${rows} placeholder=${placeholder} value=${form[name] ?? ''} onInput=${onInput}></textarea>`
      : html`<input id=${id} name=${name} type=${type} placeholder=${placeholder} value=${form[name] ?? ''} onInput=${onInput}/>`}
  </label>`;
}

/** Text offered as a file download (a CSR, a CA certificate): fetched with the token, so not a plain link. */
export function download(name, text, type = 'application/x-pem-file') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
