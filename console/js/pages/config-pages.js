// Tenants and dial peers: configuration kinds edited as the files hold them.
import { ConfigKind } from './config-editor.js';
import { Page, fmt, html } from '../ui.js';

const v = (key) => (e) => fmt(e.value?.[key]);

export function Tenants() {
  return html`<${Page} title="Tenants">
    <${ConfigKind} kind="tenants" noun="tenant"
      template=${{ transport: 'udp', sipServer: '127.0.0.1:5080', trustedSources: ['127.0.0.1/32'] }}
      columns=${[{ key: 'transport', label: 'Transport', render: v('transport') }, { key: 'sipServer', label: 'SIP server', render: v('sipServer') },
        { key: 'tlsProfile', label: 'TLS profile', render: v('tlsProfile') }, { key: 'trusted', label: 'Trusted sources', render: v('trustedSources') }]}/>
  <//>`;
}

export function DialPeers() {
  return html`<${Page} title="Dial peers">
    <p class="muted">Matched in order; the first pattern that matches the called number picks the target tenant.</p>
    <${ConfigKind} kind="dialPeers" noun="dial peer" keyed=${false}
      template=${{ id: 400, destinationPattern: '^4\\d{3}$', tenant: 'pbx', from: ['carrier'], preference: 5 }}
      columns=${[{ key: 'pattern', label: 'Destination pattern', render: (e) => html`<code>${fmt(e.value?.destinationPattern)}</code>` },
        { key: 'tenant', label: 'Tenant', render: v('tenant') }, { key: 'from', label: 'From', render: v('from') },
        { key: 'preference', label: 'Preference', render: v('preference') }, { key: 'sipServer', label: 'SIP server', render: v('sipServer') }]}/>
  <//>`;
}
