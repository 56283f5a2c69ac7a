// CDRs from the gateway's CDR file (GET /cdrs), newest first, filtered by end time, number and cause.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { Field, Page, Table, duration, html, time, usePoll } from '../ui.js';

const toQuery = (f) => {
  const q = new URLSearchParams();
  for (const k of ['number', 'cause', 'limit']) if (f[k]) q.set(k, f[k]);
  for (const k of ['from', 'to']) if (f[k]) q.set(k, new Date(f[k]).toISOString());
  return q.toString();
};

export function Cdrs() {
  const [form, setForm] = useState({ from: '', to: '', number: '', cause: '', limit: '100' });
  const [query, setQuery] = useState(toQuery(form));
  // The answer carries the query it is for, so what is shown always says which filter made it.
  const { data, error, reload } = usePoll(async () => ({ ...(await get(`/cdrs?${query}`)), query }), 0, [query]);
  const submit = (ev) => { ev.preventDefault(); const q = toQuery(form); if (q === query) reload(); else setQuery(q); };
  return html`<${Page} title="CDRs" error=${error}>
    <form class="filters" onSubmit=${submit} aria-label="CDR filters">
      <${Field} label="Ended from" name="from" type="datetime-local" form=${form} set=${setForm}/>
      <${Field} label="Ended to" name="to" type="datetime-local" form=${form} set=${setForm}/>
      <${Field} label="Number" name="number" placeholder="part of either number" form=${form} set=${setForm}/>
      <${Field} label="Cause" name="cause" placeholder="normal, admin, denied…" form=${form} set=${setForm}/>
      <${Field} label="Limit" name="limit" type="number" form=${form} set=${setForm}/>
      <button type="submit">Filter</button>
    </form>
    <p class="muted" data-shown=${data?.query}>${data ? `${data.count} record${data.count === 1 ? '' : 's'}${data.truncated ? ' (more may match: narrow the filter)' : ''}${data.file ? ` from ${data.file}` : ' (no CDR file configured)'}` : ''}</p>
    <${Table} rows=${data?.cdrs} rowKey=${(c) => c.id} empty="no CDR matches"
      columns=${[{ key: 'endAt', label: 'Ended', render: (c) => time(c.endAt) }, { key: 'callingNumber', label: 'From' },
        { key: 'calledNumber', label: 'To' }, { key: 'tenantIn', label: 'Tenant in' }, { key: 'tlsPeer', label: 'TLS peer' },
        { key: 'tenantOut', label: 'Tenant out' }, { key: 'dialPeer', label: 'Dial peer' }, { key: 'status', label: 'Status' },
        { key: 'cause', label: 'Cause' }, { key: 'durationMs', label: 'Duration', render: (c) => duration(c.durationMs) },
        { key: 'releasedBy', label: 'Released by' }]}/>
  <//>`;
}
