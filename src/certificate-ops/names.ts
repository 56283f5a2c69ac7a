import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { checkDistinguishedName, type DistinguishedName, type KeySpec, type SanEntry } from '../pki/index.js';
import type { TrustpointEntry } from '../tls-files.js';
import { checked, refuse } from './errors.js';

/**
 * What a certificate task is told, read the same way for `trunkgate pki` and the admin API: a trustpoint or trust
 * store is looked up by name in the running configuration (never a path a caller gives), the subject, SAN and key
 * type are parsed from their text forms. Only the names of the fields differ (`--subject` or `subject`).
 */

/**
 * The part of the configuration a certificate task reads; the TLS profiles, when given, say which trust store each
 * trustpoint is loaded with (an import checks that what it writes is loadable).
 */
export type PkiConfig = Pick<GatewayConfig, 'trustpoints' | 'trustStores'> & Partial<Pick<GatewayConfig, 'tlsProfiles'>>;

/** How the fields are named to whoever gave them: flags for the command line, body fields for the API. */
export interface FieldNames {
  subject: string;
  san: string;
  key: string;
}

export const CLI_FIELDS: FieldNames = { subject: '--subject', san: '--san', key: '--key' };
export const API_FIELDS: FieldNames = { subject: 'subject', san: 'san', key: 'key' };

const known = (m: object): string => Object.keys(m).join(', ') || 'none';

export function trustpointOf(config: PkiConfig, name: string): TrustpointEntry {
  // Own properties only: a name such as "constructor" must not find something of Object's.
  const tp = Object.hasOwn(config.trustpoints, name) ? config.trustpoints[name] : undefined;
  return tp ?? refuse('unknown-name', `no trustpoint ${name} in the configuration (known: ${known(config.trustpoints)})`);
}

/** The folder of a trust store; a store given as a file or a list of files cannot take a CA by name. */
export function trustStoreFolder(config: PkiConfig, store: string): string {
  const s = Object.hasOwn(config.trustStores, store) ? config.trustStores[store] : undefined;
  if (s === undefined) refuse('unknown-name', `no trust store ${store} in the configuration (known: ${known(config.trustStores)})`);
  const path = typeof s === 'string' ? resolve(s) : undefined;
  if (path === undefined || (existsSync(path) && !statSync(path).isDirectory())) {
    refuse('conflict', `trust store ${store} is a file or a list of files; pki trust works on a trust-store folder (trustStores: { ${store}: pki/${store} })`);
  }
  return path;
}

/** Where a new key waits between `csr` and `import`. */
export function pendingKeyPath(tp: TrustpointEntry): string {
  return 'dir' in tp ? join(resolve(tp.dir), 'key.pending.pem') : `${resolve(tp.key)}.pending`;
}

/** The trustpoint's own key file. */
export function trustpointKeyPath(tp: TrustpointEntry): string {
  return 'dir' in tp ? join(resolve(tp.dir), 'key.pem') : resolve(tp.key);
}

const KEY_SPECS: Record<string, KeySpec> = {
  'ec:p256': { type: 'ec', curve: 'P-256' }, 'ec:p384': { type: 'ec', curve: 'P-384' },
  'rsa:2048': { type: 'rsa', bits: 2048 }, 'rsa:3072': { type: 'rsa', bits: 3072 }, 'rsa:4096': { type: 'rsa', bits: 4096 },
};

export const KEY_TYPES = Object.keys(KEY_SPECS);

export function keySpecOf(text: string | undefined, f: FieldNames): KeySpec {
  const s = Object.hasOwn(KEY_SPECS, (text ?? 'ec:p256').toLowerCase()) ? KEY_SPECS[(text ?? 'ec:p256').toLowerCase()] : undefined;
  return s ?? refuse('bad-input', `${f.key} ${text}: one of ${KEY_TYPES.join(', ')}`);
}

/** `CN=gw.example.com,O=Example,OU=Voice,C=DE`; a value may be any Unicode text but a control character (UTF8String). */
export function subjectOf(text: string | undefined, f: FieldNames): DistinguishedName {
  if (!text) refuse('bad-input', `${f.subject} is needed, e.g. ${f.subject} CN=gw.example.com,O=Example`);
  const out: Record<string, string> = {};
  const names: Record<string, string> = { CN: 'commonName', O: 'organization', OU: 'organizationalUnit', C: 'country' };
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const attr = part.slice(0, eq).trim().toUpperCase();
    const k = Object.hasOwn(names, attr) ? names[attr] : undefined;
    if (eq <= 0 || !k) refuse('bad-input', `${f.subject}: '${part}' is not CN=, O=, OU= or C=`);
    out[k] = part.slice(eq + 1).trim();
  }
  if (!out['commonName']) refuse('bad-input', `${f.subject} needs a CN`);
  // No control character, each value within its RFC 5280 bound, C two letters (ERR_PKI_CSR_INVALID, 400).
  checked(() => checkDistinguishedName(out, 'ERR_PKI_CSR_INVALID'), `${f.subject}: `);
  return out;
}

/** `DNS:gw.example.com,URI:sip:gw.example.com,IP:192.0.2.1`. */
export function sansOf(text: string | undefined, f: FieldNames): SanEntry[] {
  if (!text) return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s): SanEntry => {
    const colon = s.indexOf(':');
    const kind = s.slice(0, colon).toUpperCase();
    const value = s.slice(colon + 1);
    if (colon <= 0 || value === '') refuse('bad-input', `${f.san}: '${s}' is not DNS:, URI: or IP:`);
    if (kind === 'DNS') return { type: 'dns', value };
    if (kind === 'URI') return { type: 'uri', value };
    if (kind === 'IP') return isIP(value) ? { type: 'ip', value } : refuse('bad-input', `${f.san}: '${s}' is not an IP address`);
    return refuse('bad-input', `${f.san}: '${s}' is not DNS:, URI: or IP:`);
  });
}
