// One configuration kind (GET /config/:kind) as a table, with an editor that creates (POST), replaces (PUT with the
// entry's ETag in If-Match) and deletes (DELETE with If-Match) through the configuration API. A refusal shows the
// API's message, code and every problem's path; a stale ETag (409) asks to reload before editing again.
import { useState } from 'preact/hooks';
import { configCreate, configDelete, configList, configReplace } from '../api.js';
import { Notice, Table, html, useAction, usePoll } from '../ui.js';

const pretty = (v) => JSON.stringify(v, null, 2);

export function ConfigKind({ kind, noun, columns, template, keyed = true }) {
  const { data, error, reload } = usePoll(() => configList(kind), 0, [kind]);
  const action = useAction();
  // editing: { mode: 'new' | 'edit', name, etag, text }
  const [editing, setEditing] = useState(undefined);
  const save = () => action.run(`${editing.mode === 'new' ? 'create' : 'save'} ${noun} ${editing.name ?? ''}`, async () => {
    const value = JSON.parse(editing.text);
    const r = editing.mode === 'new'
      ? await configCreate(kind, keyed ? editing.name : undefined, value)
      : await configReplace(kind, editing.name, value, editing.etag);
    setEditing(undefined);
    await reload();
    const restart = r.data.reload?.needsRestart?.length ? `; needs a restart: ${r.data.reload.needsRestart.map((n) => n.what).join(', ')}` : '';
    return `${noun} ${r.data.entry?.name ?? editing.name} ${editing.mode === 'new' ? 'created' : 'saved'} and applied${restart}`;
  });
  const remove = (e) => {
    if (!confirm(`Delete ${noun} ${e.name}?`)) return;
    action.run(`delete ${noun} ${e.name}`, async () => {
      await configDelete(kind, e.name, e.etag);
      await reload();
      return `${noun} ${e.name} deleted and applied`;
    });
  };
  return html`<div>
    <div class="toolbar">
      <button onClick=${() => setEditing({ mode: 'new', name: '', text: pretty(template) })}>New ${noun}</button>
      <button class="link" onClick=${reload}>Reload</button>
    </div>
    ${error ? html`<pre class="notice error" role="alert">${error}</pre>` : null}
    <${Notice} note=${action.note}/>
    ${editing ? html`<form class="editor" onSubmit=${(ev) => { ev.preventDefault(); save(); }} aria-label=${`${noun} editor`}>
      <h2>${editing.mode === 'new' ? `New ${noun}` : `${noun} ${editing.name}`}</h2>
      ${editing.mode === 'new' && keyed ? html`<label for="cfg-name">Name<input id="cfg-name" value=${editing.name}
        onInput=${(ev) => setEditing({ ...editing, name: ev.currentTarget.value })}/></label>` : null}
      <label for="cfg-value">Value (as the file holds it, in JSON)<textarea id="cfg-value" rows="12" class="mono" value=${editing.text}
        onInput=${(ev) => setEditing({ ...editing, text: ev.currentTarget.value })}></textarea></label>
      <div class="toolbar"><button type="submit">${editing.mode === 'new' ? 'Create' : 'Save'}</button>
        <button type="button" class="link" onClick=${() => setEditing(undefined)}>Cancel</button></div>
    </form>` : null}
    <${Table} rows=${data} rowKey=${(e) => e.name} empty=${`no ${noun}`}
      columns=${[{ key: 'name', label: keyed ? 'Name' : 'Id' }, ...columns,
        { key: 'file', label: 'File', render: (e) => html`<span class="small">${e.file}:${e.line}</span>` },
        { key: 'x', label: '', render: (e) => html`<span class="row-actions">
          <button onClick=${() => setEditing({ mode: 'edit', name: e.name, etag: e.etag, text: pretty(e.value) })}>Edit</button>
          <button class="danger" onClick=${() => remove(e)}>Delete</button></span>` }]}/>
  </div>`;
}
