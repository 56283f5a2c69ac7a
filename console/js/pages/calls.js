// Live calls (GET /calls) with a hang-up button each (DELETE /calls/:id: BYE on both legs, CDR cause admin).
import { api } from '../api.js';
import { Notice, Page, Table, duration, html, time, useAction, usePoll } from '../ui.js';

export function Calls() {
  const { data, error, reload } = usePoll(() => api('GET', '/calls').then((r) => r.data), 2000);
  const action = useAction();
  const hangUp = (c) => action.run(`hang up ${c.id}`, async () => {
    const r = await api('DELETE', `/calls/${encodeURIComponent(c.id)}`);
    await reload();
    return `call ${c.id} (${c.callingNumber ?? '?'} → ${c.calledNumber ?? '?'}): BYE sent on both legs (${r.data.state})`;
  });
  return html`<${Page} title="Live calls" error=${error}>
    <p class="muted">${data ? `${data.total} live call${data.total === 1 ? '' : 's'}${data.truncated ? ` (first ${data.count} shown)` : ''}` : ''}</p>
    <${Notice} note=${action.note}/>
    <${Table} rows=${data?.calls} rowKey=${(c) => c.id} empty="no live call"
      columns=${[
        { key: 'id', label: 'Id' }, { key: 'callingNumber', label: 'From' }, { key: 'calledNumber', label: 'To' },
        { key: 'tenantIn', label: 'Tenant in' }, { key: 'tenantOut', label: 'Tenant out' }, { key: 'dialPeer', label: 'Dial peer' },
        { key: 'state', label: 'State' }, { key: 'answerAt', label: 'Answered', render: (c) => time(c.answerAt) },
        { key: 'durationMs', label: 'Duration', render: (c) => duration(c.durationMs) },
        { key: 'callIds', label: 'Call-IDs', render: (c) => html`<span class="mono small">${(c.callIds ?? []).join(' / ')}</span>` },
        { key: 'x', label: '', render: (c) => html`<button class="danger" disabled=${c.state !== 'connected'} onClick=${() => hangUp(c)}>Hang up</button>` },
      ]}/>
  <//>`;
}
