import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem, resolveConfigDir, tryLoadConfig, type GatewayConfig } from '../config/index.js';
import {
  createCsr, createLocalCa, exportCaCertificate, generateKeyPair, importSignedCertificate, importTrustedCa, inspectCertificate,
  loadPrivateKey, parseCertificate, saveTrustpoint, splitPemBundle, writePemFile, type KeySpec, type SanEntry,
} from '../pki/index.js';
import { validateCipherName } from '../tls/cipher-names.js';
import { loadTrustpointEntry, trustStorePems, type TrustpointEntry } from '../tls-files.js';
import { formatRows, inspectFile, listCertificates } from './pki-list.js';

export interface PkiIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
}

export const PKI_USAGE = `Usage:
  trunkgate pki list [--profiles DIR] [--json]      every certificate of every trustpoint and trust store, with expiry
  trunkgate pki inspect FILE [--json]               the certificates of a PEM file
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
  const r = tryLoadConfig(dir, { validateCipherName, env: io.env });
  if (!r.ok) fail(`${dir}: configuration has problems:\n${r.problems.map(formatProblem).join('\n')}`);
  return r.config;
}

function trustpointOf(config: GatewayConfig, name: string | undefined): TrustpointEntry {
  if (name === undefined) fail('a trustpoint name is needed');
  const tp = config.trustpoints[name];
  if (!tp) fail(`no trustpoint ${name} in the configuration (known: ${Object.keys(config.trustpoints).join(', ') || 'none'})`);
  return tp;
}

/** Where a new key waits between `csr` and `import`. */
function pendingKeyPath(tp: TrustpointEntry): string {
  return 'dir' in tp ? join(resolve(tp.dir), 'key.pending.pem') : `${resolve(tp.key)}.pending`;
}

function keySpec(text: string | undefined): KeySpec {
  const specs: Record<string, KeySpec> = {
    'ec:p256': { type: 'ec', curve: 'P-256' }, 'ec:p384': { type: 'ec', curve: 'P-384' },
    'rsa:2048': { type: 'rsa', bits: 2048 }, 'rsa:3072': { type: 'rsa', bits: 3072 }, 'rsa:4096': { type: 'rsa', bits: 4096 },
  };
  const s = specs[(text ?? 'ec:p256').toLowerCase()];
  return s ?? fail(`--key ${text}: one of ${Object.keys(specs).join(', ')}`);
}

function subjectOf(text: string | undefined): { commonName?: string; organization?: string; organizationalUnit?: string; country?: string } {
  if (!text) fail('--subject is needed, e.g. --subject CN=gw.example.com,O=Example');
  const out: Record<string, string> = {};
  const names: Record<string, string> = { CN: 'commonName', O: 'organization', OU: 'organizationalUnit', C: 'country' };
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const k = names[part.slice(0, eq).trim().toUpperCase()];
    if (eq <= 0 || !k) fail(`--subject: '${part}' is not CN=, O=, OU= or C=`);
    out[k] = part.slice(eq + 1).trim();
  }
  if (!out['commonName']) fail('--subject needs a CN');
  return out;
}

function sansOf(text: string | undefined): SanEntry[] {
  if (!text) return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const colon = s.indexOf(':');
    const kind = s.slice(0, colon).toUpperCase();
    const value = s.slice(colon + 1);
    if (kind === 'DNS') return { type: 'dns', value };
    if (kind === 'URI') return { type: 'uri', value };
    if (kind === 'IP') return { type: 'ip', value };
    return fail(`--san: '${s}' is not DNS:, URI: or IP:`);
  });
}

function csr(name: string | undefined, v: Record<string, string | boolean | undefined>, io: PkiIo): void {
  const tp = trustpointOf(loadConfig(v['profiles'] as string | undefined, io), name);
  let keyPem: string;
  if (v['reuse-key']) {
    keyPem = loadTrustpointEntry(name!, tp).keyPem;
  } else {
    keyPem = generateKeyPair(keySpec(v['key'] as string | undefined)).privateKeyPem;
    const pending = pendingKeyPath(tp);
    mkdirSync(dirname(pending), { recursive: true, mode: 0o700 });
    writePemFile(pending, keyPem, true);
    io.err(`a new key waits in ${pending} (mode 0600) until the signed certificate is imported`);
  }
  const pem = createCsr({ subject: subjectOf(v['subject'] as string | undefined), privateKeyPem: keyPem, san: sansOf(v['san'] as string | undefined) });
  const out = v['out'] as string | undefined;
  if (out) {
    writePemFile(resolve(out), pem, false);
    io.err(`CSR written to ${out}`);
  } else {
    io.out(pem.trimEnd());
  }
}

/** The keys a signed certificate may belong to: the one a CSR left waiting, then the trustpoint's own. */
function keyCandidates(name: string, tp: TrustpointEntry, pending: string): { keyPem: string; from: string }[] {
  const out: { keyPem: string; from: string }[] = [];
  if (existsSync(pending)) out.push({ keyPem: readFileSync(pending, 'utf8'), from: pending });
  try {
    out.push({ keyPem: loadTrustpointEntry(name, tp).keyPem, from: 'the trustpoint key' });
  } catch {
    // no trustpoint files yet: only the pending key can match
  }
  return out;
}

function importCert(name: string | undefined, certFile: string | undefined, chainFile: string | undefined, profiles: string | undefined, io: PkiIo): void {
  const config = loadConfig(profiles, io);
  const tp = trustpointOf(config, name);
  if (!certFile) fail('the signed certificate file is needed');
  const certPem = readFileSync(resolve(certFile), 'utf8');
  const chainPems = chainFile ? splitPemBundle(readFileSync(resolve(chainFile), 'utf8')) : [];
  const pending = pendingKeyPath(tp);
  const leaf = parseCertificate(splitPemBundle(certPem)[0] ?? fail(`${certFile}: no certificate in it`));
  const candidates = keyCandidates(name!, tp, pending);
  const key = candidates.find((c) => leaf.checkPrivateKey(loadPrivateKey(c.keyPem)))
    ?? fail(`${certFile} was not issued for ${candidates.map((c) => c.from).join(' or ') || `any key of trustpoint ${name}`} [ERR_PKI_KEY_MISMATCH]`);
  // The chain must reach a root: the one the CA sent along when it did, else a CA of one of our trust stores.
  const sentRoot = [...splitPemBundle(certPem).slice(1), ...chainPems].some((p) => inspectCertificate(p).selfSigned);
  const trusted = sentRoot ? undefined : Object.entries(config.trustStores).flatMap(([n, st]) => {
    try {
      return trustStorePems(n, st);
    } catch {
      return [];
    }
  });
  const material = importSignedCertificate({
    privateKeyPem: key.keyPem, certPem, chainPems, ...(trusted ? { trustedPems: trusted } : {}), now: io.now?.() ?? new Date(),
  });
  if ('dir' in tp) {
    saveTrustpoint(resolve(tp.dir), material);
  } else {
    // The chain file is written only when the trustpoint names one; the key last, so a watcher sees a matched pair.
    writePemFile(resolve(tp.certificate), material.certPem, false);
    const chain = tp.chain === undefined ? undefined : typeof tp.chain === 'string' ? tp.chain : tp.chain[0];
    if (chain !== undefined) writePemFile(resolve(chain), material.chainPems.join(''), false);
    writePemFile(resolve(tp.key), material.keyPem, true);
  }
  if (key.from === pending) rmSync(pending, { force: true });
  const info = inspectCertificate(material.certPem);
  io.out(`trustpoint ${name}: installed ${info.subject.replace(/\n/g, ', ')}, expires ${info.notAfter.toISOString()}, chain of ${material.chainPems.length}`);
}

function storeFolder(config: GatewayConfig, store: string | undefined): string {
  if (store === undefined) fail('a trust store name is needed');
  const s = config.trustStores[store];
  if (s === undefined) fail(`no trust store ${store} in the configuration (known: ${Object.keys(config.trustStores).join(', ') || 'none'})`);
  const path = typeof s === 'string' ? resolve(s) : undefined;
  if (path === undefined || (existsSync(path) && !statSync(path).isDirectory())) {
    fail(`trust store ${store} is a file or a list of files; pki trust works on a trust-store folder (trustStores: { ${store}: pki/${store} })`);
  }
  return path;
}

function trust(sub: string | undefined, store: string | undefined, arg: string | undefined, profiles: string | undefined, io: PkiIo): void {
  const dir = storeFolder(loadConfig(profiles, io), store);
  if (!arg) fail(sub === 'add' ? 'the CA certificate file is needed' : 'a SHA-256 fingerprint (or its start) or a file name is needed');
  if (sub === 'add') {
    const info = importTrustedCa(dir, readFileSync(resolve(arg), 'utf8'));
    io.out(`trust store ${store}: added ${info.subject.replace(/\n/g, ', ')} (SHA-256 ${info.fingerprint256})`);
    return;
  }
  const want = arg.replace(/:/g, '').toUpperCase();
  const gone = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(pem|crt)$/i.test(f)).filter((f) => {
    if (f === arg) return true;
    const fp = inspectCertificate(readFileSync(join(dir, f), 'utf8')).fingerprint256.replace(/:/g, '');
    return want.length >= 8 && fp.startsWith(want);
  }) : [];
  if (gone.length === 0) fail(`trust store ${store}: no CA matches ${arg}`);
  for (const f of gone) rmSync(join(dir, f));
  io.out(`trust store ${store}: removed ${gone.join(', ')}`);
}

function ca(sub: string | undefined, v: Record<string, string | boolean | undefined>, io: PkiIo): void {
  const dir = resolve((v['pki'] as string | undefined) ?? 'pki', 'ca');
  const certPath = join(dir, 'ca.crt');
  if (sub === 'create') {
    if (existsSync(certPath)) return io.out(`a CA is already there: ${certPath}`);
    const made = createLocalCa({ commonName: (v['name'] as string | undefined) ?? 'trunkgate local CA' });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writePemFile(join(dir, 'ca.key'), made.keyPem, true);
    writePemFile(certPath, made.certPem, false);
    return io.out(`created ${certPath} (key ${join(dir, 'ca.key')}, mode 0600)`);
  }
  if (sub !== 'export') fail(`unknown pki ca subcommand '${sub ?? ''}': create or export`);
  if (!existsSync(certPath)) fail(`no CA at ${certPath}: trunkgate pki ca create, or start the gateway once`);
  const { pem, der } = exportCaCertificate(readFileSync(certPath, 'utf8'));
  const out = v['out'] as string | undefined;
  if (out) {
    if (v['der']) writeFileSync(resolve(out), der, { mode: 0o644 });
    else writePemFile(resolve(out), pem, false);
    io.err(`CA certificate written to ${out}${v['der'] ? ' (DER)' : ''}`);
  } else {
    io.out(pem.trimEnd());
  }
}

/** `trunkgate pki ...`: exit 0 done, 1 refused (the reason on stderr), 2 usage. */
export function pkiCommand(args: string[], io: PkiIo): number {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        profiles: { type: 'string' }, json: { type: 'boolean' }, pki: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' },
        der: { type: 'boolean' }, subject: { type: 'string' }, san: { type: 'string' }, key: { type: 'string' }, 'reuse-key': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`trunkgate pki: ${(e as Error).message}\n\n${PKI_USAGE}`);
    return 2;
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const [sub, a, b, c] = parsed.positionals;
  if (v['help']) {
    io.out(PKI_USAGE);
    return 0;
  }
  const now = io.now?.() ?? new Date();
  try {
    switch (sub) {
      case 'list': {
        const r = listCertificates(loadConfig(v['profiles'] as string | undefined, io), now);
        if (v['json']) io.out(JSON.stringify(r, null, 2));
        else for (const l of formatRows(r.rows)) io.out(l);
        for (const p of r.problems) io.err(p);
        return r.problems.length > 0 ? 1 : 0;
      }
      case 'inspect': {
        if (!a) fail('a PEM file is needed');
        const rows = inspectFile(resolve(a), now);
        if (v['json']) io.out(JSON.stringify(rows, null, 2));
        else for (const l of formatRows(rows)) io.out(l);
        return 0;
      }
      case 'ca': ca(a, v, io); return 0;
      case 'csr': csr(a, v, io); return 0;
      case 'import': importCert(a, b, c, v['profiles'] as string | undefined, io); return 0;
      case 'trust':
        if (a !== 'add' && a !== 'remove') fail(`unknown pki trust subcommand '${a ?? ''}': add or remove`);
        trust(a, b, c, v['profiles'] as string | undefined, io);
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
