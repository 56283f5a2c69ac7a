// Listeners (GET /listeners) and the connection table (GET /connections) with clear (DELETE /connections/:id).
import { api, get } from '../api.js';
import { Notice, Page, Table, bytes, fmt, html, time, useAction, usePoll } from '../ui.js';

export function Listeners() {
  const { data, error } = usePoll(() => get('/listeners'), 5000);
  return html`<${Page} title="Listeners" error=${error}>
    <${Table} rows=${data?.listeners} rowKey=${(l) => l.id} empty="no listener"
      columns=${[{ key: 'tenant', label: 'Tenant' }, { key: 'address', label: 'Address' }, { key: 'port', label: 'Port' },
        { key: 'transport', label: 'Transport' }, { key: 'tlsProfile', label: 'TLS profile' },
        { key: 'state', label: 'State', render: (l) => html`<span class=${`state ${l.state === 'listening' ? 'up' : 'down'}`}>${l.state}</span>${l.error ? ` ${l.error}` : ''}` }]}/>
  <//>`;
}

export function Connections() {
  const { data, error, reload } = usePoll(() => get('/connections'), 2000);
  const action = useAction();
  const clear = (c) => action.run(`clear ${c.id}`, async () => {
    await api('DELETE', `/connections/${encodeURIComponent(c.id)}`);
    await reload();
    return `connection ${c.id} (${c.protocol} ${c.direction} ${c.remoteAddress}:${c.remotePort}) closed`;
  });
  return html`<${Page} title="Connections" error=${error}>
    <p class="muted">${data ? `${data.count} open` : ''}</p>
    <${Notice} note=${action.note}/>
    <${Table} rows=${data?.connections} rowKey=${(c) => c.id} empty="no TCP or TLS connection"
      columns=${[
        { key: 'id', label: 'Id' }, { key: 'protocol', label: 'Proto' }, { key: 'direction', label: 'Dir' },
        { key: 'remote', label: 'Remote', render: (c) => `${c.remoteAddress}:${c.remotePort}` },
        { key: 'local', label: 'Local', render: (c) => `${c.localAddress}:${c.localPort}` },
        { key: 'tenant', label: 'Tenant' }, { key: 'state', label: 'State' },
        { key: 'tls', label: 'TLS', render: (c) => (c.tls ? `${fmt(c.tls.version)} ${fmt(c.tls.cipher)}${c.tls.authorized ? ' ✓' : ''}` : '–') },
        { key: 'peer', label: 'Peer identities', render: (c) => fmt(c.tls?.identities) },
        { key: 'bytes', label: 'In / out', render: (c) => `${bytes(c.bytesIn)} / ${bytes(c.bytesOut)}` },
        { key: 'createdAt', label: 'Since', render: (c) => time(c.createdAt) },
        { key: 'x', label: '', render: (c) => html`<button class="danger" onClick=${() => clear(c)}>Clear</button>` },
      ]}/>
  <//>`;
}
