import { parseArgs } from 'node:util';
import { formatProblem, resolveConfigDir, tryLoadConfig, type GatewayConfig } from '../config/index.js';
import { tlsProfileInputs } from '../startup-tls.js';
import {
  buildTlsProfile, probeTls, validateCipherName, type CertificateRequestReport, type CompiledTlsProfile, type OcspReport, type TlsProbeReport,
} from '../tls/index.js';

export interface ProbeIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

export const PROBE_USAGE = `Usage:
  trunkgate tls probe HOST:PORT [--sni NAME] [--profile NAME [--profiles DIR]] [--json]
    which TLS versions and suites the far end accepts, the chain it sends, its identities, whether it wants a
    client certificate and from which CAs (read over TLS 1.2), its stapled OCSP status and where its certificate
    says revocation is published (not fetched), and (with --profile) whether that profile's checks let the gateway
    connect, and why not`;

function hostPort(text: string | undefined): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  return m && port > 0 && port < 65536 ? { host: m[1]!, port } : undefined;
}

/** A configuration's TLS profile, compiled as the engine compiles it (files read now). */
export function compileProfile(config: GatewayConfig, name: string): CompiledTlsProfile {
  const input = tlsProfileInputs(config).find((p) => p.spec.name === name);
  if (!input) throw new Error(`no TLS profile ${name} (known: ${Object.keys(config.tlsProfiles).join(', ') || 'none'})`);
  return buildTlsProfile(input.spec, input.material);
}

function profileNamed(name: string, profiles: string | undefined, env: ProbeIo['env']): CompiledTlsProfile {
  const dir = resolveConfigDir(profiles, env);
  const r = tryLoadConfig(dir, { validateCipherName, env });
  if (!r.ok) throw new Error(`${dir}: configuration has problems:\n${r.problems.map(formatProblem).join('\n')}`);
  return compileProfile(r.config, name);
}

function certificateRequestLines(c: CertificateRequestReport): string[] {
  if (c.state === 'unknown') return [`client CA names: unknown (${c.reason})`];
  if (c.state === 'not sent') return [`client CA names: - (no CertificateRequest over ${c.version})`];
  const head = `client CA names (CertificateRequest over ${c.version}):`;
  return [
    c.caNames.length === 0 ? `${head} none named, any CA` : head, ...c.caNames.map((n) => `  ${n}`),
    `  certificate types: ${c.certificateTypes.join(' ')}`,
    ...(c.signatureAlgorithms.length ? [`  signature algorithms: ${c.signatureAlgorithms.join(' ')}`] : []),
  ];
}

function ocspLine(o: OcspReport): string {
  if (!o.stapled) return 'OCSP: not stapled';
  if (o.problem) return `OCSP: stapled, unreadable: ${o.problem}`;
  if (o.responseStatus) return `OCSP: stapled, the responder answered ${o.responseStatus} (no status)`;
  const status = o.status === 'revoked' ? `revoked at ${o.revokedAt}${o.reason ? ` (${o.reason})` : ''}` : o.status;
  const dates = `this update ${o.thisUpdate}, next update ${o.nextUpdate ?? '-'}`;
  return `OCSP: stapled, ${status} for ${o.forLeaf ? 'its certificate' : 'another certificate'}; ${dates}; signature ${o.signature}${o.signatureNote ? ` (${o.signatureNote})` : ''}`;
}

export function formatProbe(r: TlsProbeReport): string[] {
  const out = [`target ${r.target}${r.sni ? ` (SNI ${r.sni})` : ' (no SNI)'}`];
  if (r.unreachable) out.push(`first handshake failed: ${r.unreachable.reason} (${r.unreachable.code}) ${r.unreachable.detail}`);
  out.push(`versions: ${Object.entries(r.versions).map(([v, ok]) => `${v} ${ok ? 'yes' : 'no'}`).join(', ')}`);
  out.push(`suites TLS 1.2: ${r.ciphers.tls12.join(' ') || '-'}`);
  out.push(`suites TLS 1.3: ${r.ciphers.tls13.join(' ') || '-'}`);
  out.push(`client certificate: ${r.clientCertificate}`);
  out.push(...certificateRequestLines(r.certificateRequest));
  if (r.refusedAfterHandshake) out.push(`after the handshake: ${r.refusedAfterHandshake.detail} (${r.refusedAfterHandshake.code})`);
  out.push(`identities: ${r.identities.join(', ') || '-'}`);
  r.chain.forEach((c, i) => {
    out.push(`chain ${i}: ${c.subject}`);
    out.push(`  issuer ${c.issuer}; valid ${c.notBefore} to ${c.notAfter}; SHA-256 ${c.sha256}`);
  });
  out.push(ocspLine(r.ocsp));
  const v = r.revocation;
  const where = [v.ocspUrls.length ? `OCSP ${v.ocspUrls.join(' ')}` : '', v.crlUrls.length ? `CRL ${v.crlUrls.join(' ')}` : ''].filter(Boolean).join('; ');
  out.push(`revocation pointers (not fetched): ${where || '-'}${v.problem ? ` (certificate unreadable: ${v.problem})` : ''}`);
  if (r.profile) {
    const p = r.profile;
    if (p.ok) out.push(`profile ${p.name}: connects (${p.version}, ${p.cipher})`);
    else {
      const f = p.failure!;
      const names = f.expected || f.presented ? ` (expected ${(f.expected ?? []).join(' ') || '-'}, presented ${(f.presented ?? []).join(' ') || '-'})` : '';
      out.push(`profile ${p.name}: refused: ${f.reason} [${f.code}] ${f.detail}${names}`);
    }
  }
  return out;
}

/** `trunkgate tls probe ...`: exit 0 when the far end answers (and the profile, if given, connects), 1 when not, 2 usage. */
export async function tlsProbeCommand(args: string[], io: ProbeIo): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const r = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { sni: { type: 'string' }, profile: { type: 'string' }, profiles: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    v = r.values as Record<string, string | boolean | undefined>;
    positionals = r.positionals;
  } catch (e) {
    io.err(`trunkgate tls: ${(e as Error).message}\n\n${PROBE_USAGE}`);
    return 2;
  }
  if (v['help']) {
    io.out(PROBE_USAGE);
    return 0;
  }
  const [sub, target, extra] = positionals;
  const hp = hostPort(target);
  if (sub !== 'probe' || !hp || extra !== undefined) {
    io.err(`trunkgate tls: ${sub !== 'probe' ? `unknown tls subcommand '${sub ?? ''}'` : `'${target ?? ''}' is not HOST:PORT`}\n\n${PROBE_USAGE}`);
    return 2;
  }
  let profile: CompiledTlsProfile | undefined;
  try {
    if (typeof v['profile'] === 'string') profile = profileNamed(v['profile'], v['profiles'] as string | undefined, io.env);
  } catch (e) {
    io.err(`trunkgate tls probe: ${(e as Error).message}`);
    return 1;
  }
  const report = await probeTls({ ...hp, ...(typeof v['sni'] === 'string' ? { sni: v['sni'] } : {}), ...(profile ? { profile } : {}) });
  if (v['json']) io.out(JSON.stringify(report, null, 2));
  else for (const l of formatProbe(report)) io.out(l);
  const reachable = report.unreachable === undefined || report.clientCertificate === 'required';
  return reachable && (report.profile?.ok ?? true) ? 0 : 1;
}
