// Dashboard: calls now and per second, trunks up and down, TLS handshake failures by reason, certificates that
// expire within 30 days. Polled every 2 s; the rate is the change of `attempted` between two polls.
import { useRef } from 'preact/hooks';
import { get } from '../api.js';
import { Card, Page, Table, html, usePoll } from '../ui.js';

const EXPIRING_DAYS = 30;

export function Dashboard() {
  const last = useRef(undefined);
  const { data, error } = usePoll(async () => {
    // Against drachtio-server (engine mode external) the TLS facts are the server's: /tls answers 501, shown as such.
    const tlsOf = get('/tls').catch((e) => (e.code === 'ERR_ADMIN_ENGINE_EXTERNAL' ? { failures: [], external: true } : Promise.reject(e)));
    const [stats, trunks, tls, certs] = await Promise.all([get('/stats'), get('/trunks'), tlsOf, get('/certificates')]);
    const now = Date.now();
    const attempted = stats.b2bua?.attempted ?? 0;
    const prev = last.current;
    const cps = prev && now > prev.at ? Math.max(0, (attempted - prev.attempted) * 1000 / (now - prev.at)) : undefined;
    last.current = { at: now, attempted };
    return { stats, trunks, tls, certs: certs.certificates, cps };
  }, 2000);
  if (!data) return html`<${Page} title="Dashboard" error=${error}><p class="muted">loading…</p><//>`;
  const b = data.stats.b2bua ?? {};
  const targets = data.trunks.trunks ?? [];
  const regs = data.trunks.registrations ?? [];
  const up = targets.filter((t) => t.state === 'up').length + regs.filter((r) => r.state === 'registered').length;
  const down = targets.filter((t) => t.state === 'down').length + regs.filter((r) => r.state === 'failed').length;
  const failures = [...(data.tls.failures ?? [])].sort((x, y) => y.count - x.count);
  const failureTotal = failures.reduce((n, f) => n + f.count, 0);
  const expiring = data.certs.filter((c) => typeof c.daysLeft === 'number' && c.daysLeft <= EXPIRING_DAYS).sort((x, y) => x.daysLeft - y.daysLeft);
  const listenersDown = data.trunks.listenersDown ?? [];
  return html`<${Page} title="Dashboard" error=${error}>
    <div class="cards">
      <${Card} label="Calls now" value=${b.active ?? 0}/>
      <${Card} label="Calls per second" value=${data.cps === undefined ? '…' : data.cps.toFixed(1)}/>
      <${Card} label="Calls attempted / connected" value=${`${b.attempted ?? 0} / ${b.connected ?? 0}`}/>
      <${Card} label="Trunks up / down" value=${`${up} / ${down}`} tone=${down > 0 ? 'bad' : up > 0 ? 'good' : ''}/>
      <${Card} label="TLS handshake failures" value=${failureTotal} tone=${failureTotal > 0 ? 'warn' : ''}/>
      <${Card} label=${`Certificates expiring (${EXPIRING_DAYS} days)`} value=${expiring.length} tone=${expiring.some((c) => c.daysLeft <= 7) ? 'bad' : expiring.length ? 'warn' : ''}/>
    </div>
    ${listenersDown.length > 0 ? html`<p class="notice error" role="alert">Listeners down: ${listenersDown.map((l) => `${l.protocol} ${l.host}:${l.port} (${l.error})`).join('; ')}</p>` : null}
    <div class="grid2">
      <section>
        <h2>Trunks</h2>
        <${Table} rows=${[...targets.map((t) => ({ tenant: t.tenant, target: t.server, kind: 'OPTIONS ping', state: t.state })),
          ...regs.map((r) => ({ tenant: r.tenant, target: r.registrar, kind: 'registration', state: r.state }))]}
          columns=${[{ key: 'tenant', label: 'Tenant' }, { key: 'target', label: 'Target' }, { key: 'kind', label: 'Kind' },
            { key: 'state', label: 'State', render: (r) => html`<span class=${`state ${r.state}`}>${r.state}</span>` }]}
          empty="no pinged or registering trunk"/>
      </section>
      <section>
        <h2>Handshake failures by reason</h2>
        <${Table} rows=${failures} empty=${data.tls.external ? 'TLS is drachtio-server\'s (engine mode external)' : 'no handshake failure'}
          columns=${[{ key: 'reason', label: 'Reason' }, { key: 'tenant', label: 'Tenant' }, { key: 'direction', label: 'Direction' }, { key: 'count', label: 'Count' }]}/>
      </section>
    </div>
    <section>
      <h2>Certificates expiring</h2>
      <${Table} rows=${expiring} empty=${`no certificate expires within ${EXPIRING_DAYS} days`}
        columns=${[{ key: 'where', label: 'Where' }, { key: 'role', label: 'Role' }, { key: 'subject', label: 'Subject' },
          { key: 'notAfter', label: 'Not after' }, { key: 'daysLeft', label: 'Days left' }]}/>
    </section>
  <//>`;
}
