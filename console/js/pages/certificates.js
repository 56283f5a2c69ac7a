// Certificates: every configured one with its expiry (GET /certificates), and the `trunkgate pki` tasks over the
// API: export our CA, make a CSR for a trustpoint, import what a CA signed, trust a remote CA. Trustpoints and
// trust stores themselves are configuration kinds, edited below.
import { useState } from 'preact/hooks';
import { api, get } from '../api.js';
import { Field, Notice, Page, Table, download, html, useAction, usePoll } from '../ui.js';
import { ConfigKind } from './config-editor.js';

function Task({ title, fields, submitLabel, run, initial }) {
  const scope = title.toLowerCase().replace(/[^a-z]+/g, '-');
  const [form, setForm] = useState(initial);
  const action = useAction();
  const [out, setOut] = useState(undefined);
  const submit = (ev) => {
    ev.preventDefault();
    action.run(title, async () => {
      const r = await run(form);
      setOut(r.pem);
      return r.text;
    });
  };
  return html`<form class="editor task" onSubmit=${submit} aria-label=${title}>
    <h2>${title}</h2>
    ${fields.map((f) => html`<${Field} ...${f} scope=${scope} form=${form} set=${setForm}/>`)}
    <div class="toolbar"><button type="submit">${submitLabel}</button></div>
    <${Notice} note=${action.note}/>
    ${out ? html`<textarea class="mono" rows="8" readonly value=${out}></textarea>` : null}
  </form>`;
}

export function Certificates() {
  const { data, error, reload } = usePoll(() => get('/certificates'), 0);
  const days = (c) => html`<span class=${c.daysLeft <= 7 ? 'state down' : c.daysLeft <= 30 ? 'state unknown' : ''}>${c.daysLeft}</span>`;
  const exportCa = useAction();
  return html`<${Page} title="Certificates" error=${error}>
    <${Table} rows=${data?.certificates} rowKey=${(c) => c.sha256} empty="no certificate configured"
      columns=${[{ key: 'where', label: 'Where' }, { key: 'role', label: 'Role' }, { key: 'subject', label: 'Subject' },
        { key: 'san', label: 'SAN' }, { key: 'issuer', label: 'Issuer' }, { key: 'notAfter', label: 'Not after' },
        { key: 'daysLeft', label: 'Days left', render: days }]}/>
    <div class="toolbar">
      <button onClick=${() => exportCa.run('export our CA', async () => {
        const r = await api('GET', '/pki/ca');
        download('trunkgate-ca.pem', r.data);
        return 'our CA certificate downloaded as trunkgate-ca.pem: give it to the far end to trust';
      })}>Export our CA</button>
    </div>
    <${Notice} note=${exportCa.note}/>
    <div class="grid2">
      <${Task} title="Certificate signing request" submitLabel="Make CSR" initial=${{ trustpoint: 'gw', subject: 'CN=', san: '', key: 'ec:p256' }}
        fields=${[{ label: 'Trustpoint', name: 'trustpoint' }, { label: 'Subject', name: 'subject', placeholder: 'CN=gw.example.com,O=Example' },
          { label: 'SAN', name: 'san', placeholder: 'DNS:gw.example.com,URI:sip:gw.example.com' }, { label: 'Key', name: 'key', placeholder: 'ec:p256, rsa:2048…' }]}
        run=${async (f) => {
          const r = await api('POST', '/pki/csr', { body: { trustpoint: f.trustpoint, subject: f.subject, ...(f.san ? { san: f.san } : {}), ...(f.key ? { key: f.key } : {}) } });
          return { pem: r.data.csr, text: `CSR for trustpoint ${r.data.trustpoint}${r.data.newKey ? '; a new key waits for the import' : ''}` };
        }}/>
      <${Task} title="Import a signed certificate" submitLabel="Import" initial=${{ trustpoint: 'gw', certificate: '', chain: '' }}
        fields=${[{ label: 'Trustpoint', name: 'trustpoint' }, { label: 'Certificate (PEM)', name: 'certificate', rows: 6 },
          { label: 'Chain (PEM, optional)', name: 'chain', rows: 4 }]}
        run=${async (f) => {
          const r = await api('POST', '/pki/import', { body: { trustpoint: f.trustpoint, certificate: f.certificate, ...(f.chain ? { chain: f.chain } : {}) } });
          reload();
          return { text: `trustpoint ${r.data.trustpoint} now holds ${r.data.subject}, expires ${r.data.notAfter}` };
        }}/>
      <${Task} title="Trust a CA" submitLabel="Trust" initial=${{ store: '', certificate: '' }}
        fields=${[{ label: 'Trust store', name: 'store' }, { label: 'CA certificate (PEM)', name: 'certificate', rows: 6 }]}
        run=${async (f) => {
          const r = await api('POST', '/pki/trust', { body: { store: f.store, certificate: f.certificate } });
          reload();
          return { text: `trust store ${r.data.store} trusts ${r.data.subject} (${r.data.sha256})` };
        }}/>
    </div>
    <h2>Trustpoints</h2>
    <${ConfigKind} kind="trustpoints" noun="trustpoint" template=${{ dir: '../pki/trustpoints/new' }}
      columns=${[{ key: 'where', label: 'Files', render: (e) => JSON.stringify(e.value) }]}/>
    <h2>Trust stores</h2>
    <${ConfigKind} kind="trustStores" noun="trust store" template=${'../pki/trust'}
      columns=${[{ key: 'where', label: 'Files', render: (e) => JSON.stringify(e.value) }]}/>
  <//>`;
}
