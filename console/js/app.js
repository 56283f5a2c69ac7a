// The console's shell: the login page (the admin token, kept in sessionStorage), the navigation, and one page per
// hash route (#/dashboard, #/calls, …). Every page reads and writes through the admin API.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, describeError, session, whenUnauthorized } from './api.js';
import { html } from './ui.js';
import { Dashboard } from './pages/dashboard.js';
import { Certificates } from './pages/certificates.js';
import { TlsProfiles } from './pages/tls-profiles.js';
import { TlsPeers } from './pages/tls-peers.js';
import { DialPeers, Tenants } from './pages/config-pages.js';
import { Listeners, Connections } from './pages/transport.js';
import { Calls } from './pages/calls.js';
import { Cdrs } from './pages/cdrs.js';

const PAGES = [
  ['dashboard', 'Dashboard', Dashboard],
  ['calls', 'Live calls', Calls],
  ['cdrs', 'CDRs', Cdrs],
  ['connections', 'Connections', Connections],
  ['listeners', 'Listeners', Listeners],
  ['tenants', 'Tenants', Tenants],
  ['dial-peers', 'Dial peers', DialPeers],
  ['tls-peers', 'TLS peers', TlsPeers],
  ['tls-profiles', 'TLS profiles', TlsProfiles],
  ['certificates', 'Certificates', Certificates],
];

const routeOf = () => {
  const name = location.hash.replace(/^#\/?/, '');
  return PAGES.some(([n]) => n === name) ? name : 'dashboard';
};

function Login({ message, onIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(message);
  const submit = async (e) => {
    e.preventDefault();
    session.signIn(token);
    try {
      await api('GET', '/stats', { quiet401: true });
      onIn();
    } catch (err) {
      session.signOut();
      setError(describeError(err));
    }
  };
  return html`<main class="login">
    <form onSubmit=${submit} aria-label="sign in">
      <h1>trunkgate</h1>
      <p class="muted">The admin API's token (the variable <code>gateway.admin.tokenEnv</code> names). Leave it empty when the gateway has none.</p>
      <label for="token">Admin token<input id="token" name="token" type="password" autocomplete="current-password" value=${token}
        onInput=${(e) => setToken(e.currentTarget.value)}/></label>
      <button type="submit">Sign in</button>
      ${error ? html`<p class="notice error" role="alert">${error}</p>` : null}
    </form>
  </main>`;
}

function Shell({ onOut }) {
  const [route, setRoute] = useState(routeOf());
  useEffect(() => {
    const on = () => setRoute(routeOf());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const Current = PAGES.find(([n]) => n === route)[2];
  return html`<div class="shell">
    <nav aria-label="pages">
      <div class="brand">trunkgate</div>
      ${PAGES.map(([n, label]) => html`<a href=${`#/${n}`} class=${n === route ? 'active' : ''} aria-current=${n === route ? 'page' : undefined}>${label}</a>`)}
      <button class="link signout" onClick=${onOut}>Sign out</button>
    </nav>
    <main><${Current} key=${route}/></main>
  </div>`;
}

function App() {
  // Signed in when a token (possibly empty: a gateway without one) is in this tab's session.
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  const [message, setMessage] = useState(undefined);
  useEffect(() => whenUnauthorized((m) => { session.signOut(); setMessage(m); setSignedIn(false); }), []);
  if (!signedIn) return html`<${Login} message=${message} onIn=${() => { setMessage(undefined); setSignedIn(true); }}/>`;
  return html`<${Shell} onOut=${() => { session.signOut(); setSignedIn(false); }}/>`;
}

render(html`<${App}/>`, document.getElementById('root'));
