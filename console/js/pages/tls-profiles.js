// TLS profiles: as loaded by the engine (GET /tls: versions, certificate, SNI names) and as configured
// (GET /config/tlsProfiles, edited through the configuration API), with the cipher lists beside them.
import { get } from '../api.js';
import { Page, Table, fmt, html, usePoll } from '../ui.js';
import { ConfigKind } from './config-editor.js';

export function TlsProfiles() {
  const { data, error } = usePoll(() => get('/tls'), 10_000);
  return html`<${Page} title="TLS profiles" error=${error}>
    <h2>Loaded${data ? ` (generation ${data.version})` : ''}</h2>
    <${Table} rows=${data?.profiles} rowKey=${(p) => p.name} empty="no TLS profile loaded"
      columns=${[{ key: 'name', label: 'Profile' }, { key: 'tenant', label: 'Tenant' },
        { key: 'versions', label: 'Versions', render: (p) => `${fmt(p.minVersion)} – ${fmt(p.maxVersion)}` },
        { key: 'requestCert', label: 'Client cert', render: (p) => (p.requestCert ? 'required' : 'no') },
        { key: 'cnSanValidate', label: 'CN/SAN check' }, { key: 'serverNames', label: 'SNI names' },
        { key: 'cert', label: 'Certificate', render: (p) => fmt(p.certificate?.subject) },
        { key: 'notAfter', label: 'Not after', render: (p) => fmt(p.certificate?.notAfter) }]}/>
    <h2>Configured</h2>
    <${ConfigKind} kind="tlsProfiles" noun="TLS profile"
      template=${{ trustpoint: 'gw', trustStore: 'carriers', minVersion: 'TLSv1.2', requireClientCert: true }}
      columns=${[{ key: 'trustpoint', label: 'Trustpoint', render: (e) => fmt(e.value?.trustpoint) },
        { key: 'trustStore', label: 'Trust store', render: (e) => fmt(e.value?.trustStore) },
        { key: 'ciphers', label: 'Ciphers', render: (e) => fmt(e.value?.ciphers) }]}/>
    <h2>Cipher lists</h2>
    <${ConfigKind} kind="tlsCiphers" noun="cipher list" template=${['ECDHE_ECDSA_AES128_GCM_SHA256']}
      columns=${[{ key: 'suites', label: 'Suites', render: (e) => fmt(e.value) }]}/>
  <//>`;
}
