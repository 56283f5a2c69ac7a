import type { ActiveCallRow } from '../b2bua/active-calls.js';
import type { CertificateRow } from '../certificate-inventory.js';
import type { TlsProfileSummary } from '../engine/engine-snapshot.js';
import type { ConnectionInfo } from '../sip/transport/index.js';
import { withoutControls } from '../common/printable.js';
import { clockTime, duration, formatTable, hostPort } from './table.js';

/** How `trunkgate show` prints each admin API answer on a terminal (the `--json` output is the answer itself). */

export function formatCalls(b: { calls: ActiveCallRow[]; total: number; count: number; unansweredApps?: number[] }): string[] {
  const rows = b.calls.map((c) => [
    c.id, c.app, c.state, c.callingNumber, c.calledNumber, c.tenantIn, c.tenantOut, c.dialPeer, clockTime(c.startAt), clockTime(c.answerAt),
    duration(c.durationMs), c.callIds.join(' '),
  ]);
  const out = formatTable(['ID', 'APP', 'STATE', 'CALLING', 'CALLED', 'TENANT-IN', 'TENANT-OUT', 'DIAL-PEER', 'START (UTC)', 'ANSWER (UTC)', 'DURATION', 'CALL-IDS'], rows);
  out.push(`${b.total} active call${b.total === 1 ? '' : 's'}${b.count < b.total ? `, ${b.count} shown (--limit)` : ''}`);
  if (b.unansweredApps && b.unansweredApps.length > 0) out.push(`app workers ${b.unansweredApps.join(', ')} did not answer: their calls are missing`);
  return out;
}

export function formatConnections(b: { count: number; connections: ConnectionInfo[] }, detail: boolean): string[] {
  const rows = b.connections.map((c) => [
    c.id, c.protocol, c.direction, c.state, hostPort(c.localAddress, c.localPort), hostPort(c.remoteAddress, c.remotePort), c.tenant, c.tlsProfile,
    c.tls?.version, `${c.messagesIn}/${c.messagesOut}`,
  ]);
  const out = formatTable(['ID', 'PROTO', 'DIRECTION', 'STATE', 'LOCAL', 'REMOTE', 'TENANT', 'TLS-PROFILE', 'TLS', 'MSGS IN/OUT'], rows);
  if (detail) {
    // A connection's SNI and its peer's names are the peer's text: printed with `?` for each control character.
    const detailed: string[] = [];
    for (const c of b.connections) {
      detailed.push('', `connection ${c.id}: ${c.protocol} ${c.direction} ${hostPort(c.localAddress, c.localPort)} <-> ${hostPort(c.remoteAddress, c.remotePort)}, ${c.state}`);
      detailed.push(`  listener ${c.listenerId ?? '-'}, tenant ${c.tenant ?? '-'}, TLS profile ${c.tlsProfile ?? '-'}, SNI ${c.servername ?? '-'}`);
      detailed.push(`  opened ${clockTime(c.createdAt)}, last activity ${clockTime(c.lastActivityAt)}; bytes ${c.bytesIn} in, ${c.bytesOut} out; messages ${c.messagesIn} in, ${c.messagesOut} out`);
      if (c.tls) {
        detailed.push(`  TLS ${c.tls.version ?? '-'} ${c.tls.cipher ?? '-'} group ${c.tls.group ?? '-'}; peer chain ${c.tls.authorized ? 'verified' : 'not verified'}`);
        detailed.push(`  peer identities ${c.tls.identities.length > 0 ? c.tls.identities.join(', ') : '-'}`);
      }
    }
    out.push(...detailed.map(withoutControls));
  }
  out.push(`${b.count} connection${b.count === 1 ? '' : 's'}${b.connections.length < b.count ? `, ${b.connections.length} shown (--limit)` : ''}`);
  return out;
}

export function formatListeners(b: { listeners: Array<{ tenant: string; address: string; port: number; transport: string; state: string; tlsProfile?: string; error?: string }> }): string[] {
  return formatTable(['TENANT', 'ADDRESS', 'PORT', 'TRANSPORT', 'STATE', 'TLS-PROFILE', 'ERROR'],
    b.listeners.map((l) => [l.tenant, l.address, l.port, l.transport, l.state, l.tlsProfile, l.error]));
}

export function formatTls(b: { version: number; profiles: TlsProfileSummary[]; failures: Array<{ tenant: string; direction: string; reason: string; count: number }> }): string[] {
  const out = formatTable(['PROFILE', 'TENANT', 'VERSIONS', 'CLIENT-CERT', 'CERTIFICATE', 'EXPIRES', 'SHA-256'], b.profiles.map((p) => [
    p.name, p.tenant, `${p.minVersion}-${p.maxVersion}`, p.requestCert ? 'requested' : 'no', p.certificate.subject, p.certificate.notAfter.slice(0, 10),
    `${p.certificate.fingerprint256.slice(0, 23)}…`,
  ]));
  out.push(`profile set version ${b.version}`, '');
  out.push(...(b.failures.length === 0 ? ['no TLS handshake failures']
    : formatTable(['TENANT', 'DIRECTION', 'REASON', 'COUNT'], b.failures.map((f) => [f.tenant, f.direction, f.reason, f.count]))));
  return out;
}

interface RegistrationRow { tenant: string; aor: string; registrar: string; target?: string; state: string; granted?: number; expiresAt?: string; failures: number; lastStatus?: number; lastError?: string }

export function formatTrunks(b: { trunks: Array<{ tenant: string; server: string; state: string; failures: number; lastStatus?: number }>; wentDown: number; cameUp: number; pings: number; registrations?: RegistrationRow[] }): string[] {
  const out = b.trunks.length === 0 ? ['no trunk is pinged (optionsPing)']
    : formatTable(['TENANT', 'SERVER', 'STATE', 'FAILURES', 'LAST-STATUS'], b.trunks.map((t) => [t.tenant, t.server, t.state, t.failures, t.lastStatus]));
  out.push(`${b.pings} pings; went down ${b.wentDown} times, came up ${b.cameUp} times`);
  const regs = b.registrations ?? [];
  if (regs.length > 0) {
    // CUBE's `show sip-ua register status`: one row per registration trunk.
    out.push('', ...formatTable(['TENANT', 'AOR', 'REGISTRAR', 'STATE', 'EXPIRES', 'FAILURES', 'LAST'],
      regs.map((r) => [r.tenant, r.aor, r.target ?? r.registrar, r.state, r.expiresAt ?? '-', r.failures, r.lastError ?? r.lastStatus])));
  }
  return out;
}

export function formatCertificates(b: { certificates: CertificateRow[] }): string[] {
  return formatTable(['WHERE', 'ROLE', 'SUBJECT', 'EXPIRES', 'DAYS-LEFT', 'SHA-256'], b.certificates.map((c) => [
    c.where, c.role, c.subject, c.notAfter.slice(0, 10), c.daysLeft < 0 ? `EXPIRED ${-c.daysLeft}` : c.daysLeft, `${c.sha256.slice(0, 23)}…`,
  ]));
}
