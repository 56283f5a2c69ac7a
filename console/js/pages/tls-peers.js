// TLS peers (sipXecs: TLS Peer): a certificate identity mapped to permissions, over its tenants' defaults. A form
// with one allow/deny/inherit choice per category (built-in and configured) and the tenants it may call on,
// written through the configuration API (POST, or PUT with the entry's ETag).
import { useState } from 'preact/hooks';
import { configCreate, configList, configReplace } from '../api.js';
import { Notice, Page, html, useAction, usePoll } from '../ui.js';
import { ConfigKind } from './config-editor.js';

/** The built-in categories (src/policy), in their order; configured ones are added to these. */
const BUILT_IN = ['tollFree', '900Dialing', 'international', 'mobile', 'longDistance', 'local'];

function PeerForm({ categories, tenants, onSaved }) {
  const empty = { identity: '', description: '', tenants: [], permissions: {} };
  const [form, setForm] = useState(empty);
  const action = useAction();
  const setPermission = (c, v) => {
    const permissions = { ...form.permissions };
    if (v === 'inherit') delete permissions[c]; else permissions[c] = v === 'allow';
    setForm({ ...form, permissions });
  };
  const toggleTenant = (t) => setForm({ ...form, tenants: form.tenants.includes(t) ? form.tenants.filter((x) => x !== t) : [...form.tenants, t] });
  const submit = (ev) => {
    ev.preventDefault();
    const name = form.identity.trim();
    const value = {
      ...(form.description.trim() ? { description: form.description.trim() } : {}),
      permissions: form.permissions, ...(form.tenants.length ? { tenants: form.tenants } : {}),
    };
    action.run(`add TLS peer ${name}`, async () => {
      const existing = (await configList('tlsPeers')).find((e) => e.name === name);
      if (existing) await configReplace('tlsPeers', name, value, existing.etag); else await configCreate('tlsPeers', name, value);
      setForm(empty);
      onSaved();
      return `TLS peer ${name} ${existing ? 'replaced' : 'added'} and applied: new calls from that certificate get its permissions`;
    });
  };
  return html`<form class="editor" onSubmit=${submit} aria-label="TLS peer">
    <h2>Add or replace a TLS peer</h2>
    <label for="peer-identity">Certificate identity<input id="peer-identity" placeholder="sbc.carrier.example, *.carrier.example, sip:…, cn:…"
      value=${form.identity} onInput=${(e) => setForm({ ...form, identity: e.currentTarget.value })} required/></label>
    <label for="peer-description">Description<input id="peer-description" value=${form.description}
      onInput=${(e) => setForm({ ...form, description: e.currentTarget.value })}/></label>
    <fieldset><legend>Permissions</legend>
      <div class="perm-grid">${categories.map((c) => html`<label class="perm" for=${`perm-${c}`}>${c}
        <select id=${`perm-${c}`} name=${`perm-${c}`} value=${c in form.permissions ? (form.permissions[c] ? 'allow' : 'deny') : 'inherit'}
          onChange=${(e) => setPermission(c, e.currentTarget.value)}>
          <option value="inherit">tenant default</option><option value="allow">allow</option><option value="deny">deny</option>
        </select></label>`)}</div>
    </fieldset>
    <fieldset><legend>Tenants (none ticked: any)</legend>
      ${tenants.map((t) => html`<label class="check" for=${`tenant-${t}`}><input type="checkbox" id=${`tenant-${t}`}
        checked=${form.tenants.includes(t)} onChange=${() => toggleTenant(t)}/>${t}</label>`)}
    </fieldset>
    <div class="toolbar"><button type="submit">Save TLS peer</button></div>
    <${Notice} note=${action.note}/>
  </form>`;
}

const permissionsText = (p) => Object.entries(p ?? {}).map(([k, v]) => `${v ? '+' : '−'}${k}`).join(' ') || 'tenant defaults';

export function TlsPeers() {
  const [version, setVersion] = useState(0);
  const { data } = usePoll(async () => {
    const [perms, tenants] = await Promise.all([configList('permissions'), configList('tenants')]);
    return { categories: [...new Set([...BUILT_IN, ...perms.map((e) => e.name)])], tenants: tenants.map((e) => e.name) };
  });
  return html`<${Page} title="TLS peers">
    <p class="muted">A caller's verified certificate identity picks its TLS peer; the peer's permissions override the tenant's defaults per category.</p>
    ${data ? html`<${PeerForm} categories=${data.categories} tenants=${data.tenants} onSaved=${() => setVersion(version + 1)}/>` : null}
    <${ConfigKind} key=${version} kind="tlsPeers" noun="TLS peer" template=${{ permissions: { international: false }, tenants: [] }}
      columns=${[{ key: 'permissions', label: 'Permissions', render: (e) => permissionsText(e.value?.permissions) },
        { key: 'tenants', label: 'Tenants', render: (e) => (e.value?.tenants ?? ['any']).join(', ') },
        { key: 'description', label: 'Description', render: (e) => e.value?.description ?? '' }]}/>
  <//>`;
}
