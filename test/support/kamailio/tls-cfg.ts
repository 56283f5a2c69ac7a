/**
 * Writes the tls module's profile file (tls.cfg) for kamailio 5.6: one `[server:default]`, one `[client:default]`
 * and any number of `[client:<ip>:<port>]` profiles, which kamailio picks by the address it connects to and which
 * carry the SNI (`server_name`) it sends there. Option names follow the module README ("10.30. config").
 */

/** kamailio's `tls_method` values. */
export type KamailioTlsMethod = 'TLSv1.2+' | 'TLSv1.2' | 'TLSv1.3' | 'TLSv1.1+' | 'TLSv1+' | 'SSLv23';

/** One profile, with file paths already written. */
export interface TlsProfileFiles {
  method: KamailioTlsMethod;
  certificate?: string;
  privateKey?: string;
  caList?: string;
  verifyCertificate: boolean;
  requireCertificate: boolean;
  /** Client profiles: the SNI sent. Server profiles: the SNI matched. */
  serverName?: string;
  cipherList?: string;
}

export interface TlsCfgInput {
  server: TlsProfileFiles;
  client: TlsProfileFiles;
  /** Client profiles for one destination each, e.g. `{ host: '127.0.0.1', port: 5061, ... }`. */
  destinations: Array<TlsProfileFiles & { host: string; port: number }>;
}

function section(header: string, p: TlsProfileFiles): string {
  const lines = [`[${header}]`, `method = ${p.method}`];
  if (p.certificate) lines.push(`certificate = ${p.certificate}`);
  if (p.privateKey) lines.push(`private_key = ${p.privateKey}`);
  if (p.caList) lines.push(`ca_list = ${p.caList}`);
  lines.push(`verify_certificate = ${p.verifyCertificate ? 'yes' : 'no'}`);
  lines.push(`require_certificate = ${p.requireCertificate ? 'yes' : 'no'}`);
  if (p.cipherList) lines.push(`cipher_list = ${p.cipherList}`);
  if (p.serverName) lines.push(`server_name = ${p.serverName}`);
  return lines.join('\n');
}

/** The text of tls.cfg. */
export function buildTlsCfg(input: TlsCfgInput): string {
  const parts = [section('server:default', input.server), section('client:default', input.client)];
  for (const d of input.destinations) {
    const host = d.host.includes(':') ? `[${d.host}]` : d.host;
    parts.push(section(`client:${host}:${d.port}`, d));
  }
  return parts.join('\n\n') + '\n';
}
