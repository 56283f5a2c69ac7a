import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  addTrustedCa, CLI_FIELDS, createCa, createTrustpointCsr, exportCa, importTrustpointCertificate, removeTrustedCa,
} from '../certificate-ops/index.js';
import { formatProblem, resolveConfigDir, tryLoadConfig, type GatewayConfig } from '../config/index.js';
import { writePemFile } from '../pki/index.js';
import { validateCipherName } from '../tls/cipher-names.js';
import { formatRows, inspectFile, listCertificates } from './pki-list.js';
import { inspectRemote, parseHostPort } from './pki-remote.js';

export interface PkiIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
}

export const PKI_USAGE = `Usage:
  trunkgate pki list [--profiles DIR] [--json]      every certificate of every trustpoint and trust store, with expiry
  trunkgate pki inspect FILE|HOST:PORT [--sni NAME] [--json]
                                                    the certificates of a PEM file, or those a TLS server sends
  trunkgate pki ca create [--pki DIR] [--name CN]   create the local CA (DIR/ca/ca.crt, ca.key) when there is none
  trunkgate pki ca export [--pki DIR] [--out FILE] [--der]
                                                    our CA certificate, for the far end to trust
  trunkgate pki csr TRUSTPOINT --subject CN=..[,O=..,OU=..,C=..] [--san DNS:..,URI:sip:..,IP:..]
                    [--key ec:p256|ec:p384|rsa:2048|rsa:3072|rsa:4096] [--reuse-key] [--out FILE] [--profiles DIR]
                                                    a certificate signing request; a new key waits beside the trustpoint
  trunkgate pki import TRUSTPOINT CERT [CHAIN] [--profiles DIR]
                                                    install the certificate a CA signed (key, chain and dates checked);
                                                    a running gateway picks it up without dropping calls
  trunkgate pki trust add STORE CA.pem [--profiles DIR]
  trunkgate pki trust remove STORE SHA256|FILE [--profiles DIR]
                                                    add or remove a CA of a trust-store folder`;

class PkiFailure extends Error {}

function fail(message: string): never {
  throw new PkiFailure(message);
}

function loadConfig(profiles: string | undefined, io: PkiIo): GatewayConfig {
  const dir = resolveConfigDir(profiles, io.env);
  // These commands are how a trustpoint folder gets its key and certificate: one not provisioned yet is no problem here.
  const r = tryLoadConfig(dir, { validateCipherName, env: io.env, trustpointExists: () => true });
  if (!r.ok) fail(`${dir}: configuration has problems:\n${r.problems.map(formatProblem).join('\n')}`);
  return r.config;
}

type Values = Record<string, string | boolean | undefined>;
const str = (v: Values, k: string): string | undefined => v[k] as string | undefined;

function csr(name: string | undefined, v: Values, io: PkiIo): void {
  const config = loadConfig(str(v, 'profiles'), io);
  if (name === undefined) fail('a trustpoint name is needed');
  const r = createTrustpointCsr(config, { trustpoint: name, subject: str(v, 'subject'), san: str(v, 'san'), key: str(v, 'key'), reuseKey: v['reuse-key'] === true }, CLI_FIELDS);
  if (r.pendingKeyPath) io.err(`a new key waits in ${r.pendingKeyPath} (mode 0600) until the signed certificate is imported`);
  const out = str(v, 'out');
  if (out) {
    writePemFile(resolve(out), r.csrPem, false);
    io.err(`CSR written to ${out}`);
  } else {
    io.out(r.csrPem.trimEnd());
  }
}

function importCert(name: string | undefined, certFile: string | undefined, chainFile: string | undefined, profiles: string | undefined, io: PkiIo): void {
  const config = loadConfig(profiles, io);
  if (name === undefined) fail('a trustpoint name is needed');
  if (!certFile) fail('the signed certificate file is needed');
  const r = importTrustpointCertificate(config, {
    trustpoint: name, certPem: readFileSync(resolve(certFile), 'utf8'), certLabel: certFile,
    ...(chainFile ? { chainPem: readFileSync(resolve(chainFile), 'utf8'), chainLabel: chainFile } : {}),
    now: io.now?.() ?? new Date(),
  });
  io.out(`trustpoint ${name}: installed ${r.subject}, expires ${r.notAfter.toISOString()}, chain of ${r.chainLength}`);
}

function trust(sub: 'add' | 'remove', store: string | undefined, arg: string | undefined, profiles: string | undefined, io: PkiIo): void {
  const config = loadConfig(profiles, io);
  if (store === undefined) fail('a trust store name is needed');
  if (!arg) fail(sub === 'add' ? 'the CA certificate file is needed' : 'a SHA-256 fingerprint (or its start) or a file name is needed');
  if (sub === 'add') {
    const r = addTrustedCa(config, store, readFileSync(resolve(arg), 'utf8'));
    for (const a of r.added) io.out(`trust store ${store}: added ${a.subject} (SHA-256 ${a.sha256}) in ${a.file}`);
    return;
  }
  const r = removeTrustedCa(config, store, arg, { byFile: true });
  io.out(`trust store ${store}: removed ${r.removed.join(', ')}${r.skipped.length > 0 ? ` (no certificate in, left alone: ${r.skipped.join(', ')})` : ''}`);
}

function ca(sub: string | undefined, v: Values, io: PkiIo): void {
  const dir = resolve(str(v, 'pki') ?? 'pki', 'ca');
  if (sub === 'create') {
    const r = createCa(dir, str(v, 'name'));
    return io.out(r.created ? `created ${r.certPath} (key ${r.keyPath}, mode 0600)` : `a CA is already there: ${r.certPath}`);
  }
  if (sub !== 'export') fail(`unknown pki ca subcommand '${sub ?? ''}': create or export`);
  const { pem, der } = exportCa(dir);
  const out = str(v, 'out');
  if (out) {
    if (v['der']) writeFileSync(resolve(out), der, { mode: 0o644 });
    else writePemFile(resolve(out), pem, false);
    io.err(`CA certificate written to ${out}${v['der'] ? ' (DER)' : ''}`);
  } else {
    io.out(pem.trimEnd());
  }
}

/**
 * `trunkgate pki ...` as the command line runs it: `inspect HOST:PORT` (no such file, and host:port) looks at what
 * a TLS server sends, which takes a handshake; everything else is pkiCommand.
 */
export async function pkiCommandLine(args: string[], io: PkiIo): Promise<number> {
  let parsed: ReturnType<typeof parsePkiArgs> | undefined;
  try {
    parsed = parsePkiArgs(args);
  } catch {
    // pkiCommand prints the usage problem
  }
  const [sub, target] = parsed?.positionals ?? [];
  const remote = sub === 'inspect' && target !== undefined && !existsSync(target) ? parseHostPort(target) : undefined;
  if (!parsed || !remote) return pkiCommand(args, io);
  const v = parsed.values as Values;
  const sni = str(v, 'sni');
  try {
    const rows = await inspectRemote(remote.host, remote.port, { ...(sni ? { sni } : {}), now: io.now?.() ?? new Date() });
    if (v['json']) io.out(JSON.stringify(rows, null, 2));
    else for (const l of formatRows(rows)) io.out(l);
    return 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    io.err(`trunkgate pki inspect: ${target}: ${(e as Error).message}${typeof code === 'string' ? ` [${code}]` : ''}`);
    return 1;
  }
}

function parsePkiArgs(args: string[]) {
  return parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      profiles: { type: 'string' }, json: { type: 'boolean' }, pki: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' },
      der: { type: 'boolean' }, sni: { type: 'string' }, subject: { type: 'string' }, san: { type: 'string' }, key: { type: 'string' },
      'reuse-key': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
}

/** `trunkgate pki ...`: exit 0 done, 1 refused (the reason on stderr), 2 usage. */
export function pkiCommand(args: string[], io: PkiIo): number {
  let parsed: ReturnType<typeof parsePkiArgs>;
  try {
    parsed = parsePkiArgs(args);
  } catch (e) {
    io.err(`trunkgate pki: ${(e as Error).message}\n\n${PKI_USAGE}`);
    return 2;
  }
  const v = parsed.values as Values;
  const [sub, a, b, c] = parsed.positionals;
  if (v['help']) {
    io.out(PKI_USAGE);
    return 0;
  }
  const now = io.now?.() ?? new Date();
  try {
    switch (sub) {
      case 'list': {
        const r = listCertificates(loadConfig(str(v, 'profiles'), io), now);
        if (v['json']) io.out(JSON.stringify(r, null, 2));
        else for (const l of formatRows(r.rows)) io.out(l);
        for (const p of r.problems) io.err(p);
        return r.problems.length > 0 ? 1 : 0;
      }
      case 'inspect': {
        if (!a) fail('a PEM file is needed');
        const rows = inspectFile(resolve(a), now);
        if (rows.length === 0) fail(`${a}: no PEM certificate in it`);
        if (v['json']) io.out(JSON.stringify(rows, null, 2));
        else for (const l of formatRows(rows)) io.out(l);
        return 0;
      }
      case 'ca': ca(a, v, io); return 0;
      case 'csr': csr(a, v, io); return 0;
      case 'import': importCert(a, b, c, str(v, 'profiles'), io); return 0;
      case 'trust':
        if (a !== 'add' && a !== 'remove') fail(`unknown pki trust subcommand '${a ?? ''}': add or remove`);
        trust(a, b, c, str(v, 'profiles'), io);
        return 0;
      default:
        io.err(`trunkgate pki: ${sub === undefined ? 'a subcommand is needed' : `unknown subcommand '${sub}'`}\n\n${PKI_USAGE}`);
        return 2;
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    io.err(`trunkgate pki ${sub}: ${(e as Error).message}${typeof code === 'string' && !(e instanceof PkiFailure) ? ` [${code}]` : ''}`);
    return 1;
  }
}
