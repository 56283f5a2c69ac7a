// The outbound half of the TLS-profile interop: a trunkgate engine with TLS profiles, a real drachtio-srf app that
// places B legs through it with X-Trunkgate-Route, and `openssl s_server` as the far end the B leg connects to.
// The far end answers SIP itself (what it reads on stdin goes to the client), so a call that gets through ends in a
// final response from OpenSSL's side, and one that does not shows what the engine and the app were told.
import type { TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import Srf from 'drachtio-srf';
import { startEngine, type Engine } from '../../../src/engine/index.js';
import type { ProfileInput, TlsFailureCount, TlsProfileSpec } from '../../../src/tls/index.js';
import type { TestCa, TestCert } from '../../support/test-certs.js';
import { sServer, type SServer } from './openssl-cli.js';

const run = promisify(execFile);

/** A profile with `cert` as trustpoint (issued by `ca`), `clientCert` as the separate client trustpoint, and a CRL. */
export function outboundProfile(
  spec: TlsProfileSpec,
  ca: TestCa,
  cert: TestCert,
  extra: { trusted?: TestCa[]; clientCert?: { cert: TestCert; ca: TestCa }; crlPems?: string[] } = {},
): ProfileInput {
  return {
    spec,
    material: {
      trustpoint: { keyPem: cert.key, certPem: cert.cert, chainPems: [ca.cert] },
      ...(extra.clientCert
        ? { clientTrustpoint: { keyPem: extra.clientCert.cert.key, certPem: extra.clientCert.cert.cert, chainPems: [extra.clientCert.ca.cert] } }
        : {}),
      trustedCaPems: (extra.trusted ?? [ca]).map((c) => c.cert),
      ...(extra.crlPems ? { crlPems: extra.crlPems } : {}),
    },
  };
}

/**
 * Revokes `leaf` in the OpenSSL CA database of `ca` and returns a fresh CRL (PEM) signed by `ca`: the `openssl ca`
 * command line, an oracle independent of our own CRL code.
 */
export async function revokeWithOpenssl(ca: TestCa, leaf: TestCert): Promise<string> {
  const cnf = join(ca.dir, 'ca.cnf');
  const conf = await readFile(cnf, 'utf8');
  if (!conf.includes('default_crl_days')) await writeFile(cnf, conf.replace('[c]\n', '[c]\ndefault_crl_days = 7\n'));
  await run('openssl', ['ca', '-config', cnf, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-revoke', leaf.certPath]);
  const out = join(ca.dir, `crl-${Date.now()}.pem`);
  await run('openssl', ['ca', '-config', cnf, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-gencrl', '-out', out]);
  return readFile(out, 'utf8');
}

interface SrfUac {
  connect(o: { host: string; port: number; secret: string }): void;
  disconnect(): void;
  on(event: string, fn: (...a: unknown[]) => void): void;
  createUAC(uri: string, opts: { headers?: Record<string, string> }): Promise<unknown>;
}

export interface LoggedLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface OutboundRig {
  engine: Engine;
  srf: SrfUac;
  /** Every JSON log line the engine wrote. */
  logs: LoggedLine[];
}

const SECRET = 'outbound-interop';

/**
 * An engine with the given profiles (short SIP timers so a lost request ends in seconds), its pino output kept,
 * and a connected drachtio-srf app. Closed after the test.
 */
export async function startOutboundRig(t: TestContext, profiles: ProfileInput[]): Promise<OutboundRig> {
  const logs: LoggedLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          logs.push(JSON.parse(line) as LoggedLine);
        } catch {
          logs.push({ level: 0, msg: line });
        }
      }
      cb();
    },
  });
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: profiles[0]!.spec.name }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
    tls: { profiles },
    timers: { T1: 50 },
    log: pino({ level: 'info' }, sink),
  });
  t.after(() => engine.close());
  const srf = new Srf() as unknown as SrfUac;
  srf.on('error', () => undefined);
  const ready = new Promise<void>((ok, fail) => srf.on('connect', (err) => (err ? fail(err as Error) : ok())));
  srf.connect({ host: '127.0.0.1', port: engine.addresses()!.control.port, secret: SECRET });
  await ready;
  t.after(() => srf.disconnect());
  return { engine, srf, logs };
}

export interface CallOutcome {
  status: number;
  reason?: string;
  /** When there is no status: what drachtio-srf rejected with. */
  error?: string;
}

/** Places a B leg from the app; resolves with the final status and the Reason header of a failure. */
export async function placeCall(rig: OutboundRig, uri: string, route: string): Promise<CallOutcome> {
  try {
    await rig.srf.createUAC(uri, { headers: { 'X-Trunkgate-Route': route } });
    return { status: 200 };
  } catch (e) {
    const err = e as { status?: number; res?: { get(h: string): string | undefined } };
    const reason = err.res?.get('Reason');
    // No SIP status: the request never got a final response; the error says why (the test prints the outcome).
    const error = err.status === undefined ? { error: e instanceof Error ? e.message : String(e) } : {};
    return { status: err.status ?? 0, ...(reason !== undefined ? { reason } : {}), ...error };
  }
}

/** `openssl s_server` as a SIP far end: answers each INVITE it receives with `status` (default 486). */
export interface SipFarEnd extends SServer {
  /** The INVITEs received, as text. */
  invites: () => string[];
}

export async function farEnd(t: TestContext, args: string[], status = '486 Busy Here'): Promise<SipFarEnd> {
  const srv = await sServer(args);
  t.after(srv.stop);
  let answered = 0;
  const invites = (): string[] => [...srv.output().matchAll(/INVITE [^\r\n]+ SIP\/2\.0\r\n[\s\S]*?\r\n\r\n/g)].map((m) => m[0]);
  const poll = setInterval(() => {
    const all = invites();
    for (; answered < all.length; answered++) {
      const text = all[answered]!;
      const lines = text.split('\r\n');
      const h = (n: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(`${n.toLowerCase()}:`));
      srv.write([`SIP/2.0 ${status}`, ...h('Via'), ...h('From'), ...h('To').map((l) => `${l};tag=ossl`), ...h('Call-ID'), ...h('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
    }
  }, 20);
  t.after(() => clearInterval(poll));
  return { ...srv, invites };
}

/** The failure counters that moved between two snapshots, as `tenant/direction/reason: +n`. */
export function counterDelta(before: TlsFailureCount[], after: TlsFailureCount[]): string[] {
  const key = (c: TlsFailureCount): string => `${c.tenant}/${c.direction}/${c.reason}`;
  const was = new Map(before.map((c) => [key(c), c.count]));
  return after.filter((c) => c.count !== (was.get(key(c)) ?? 0)).map((c) => `${key(c)}: +${c.count - (was.get(key(c)) ?? 0)}`);
}

/** The ClientHello as s_server -trace decoded it: offered suites, versions, SNI. */
export interface TracedHello {
  ciphers: string[];
  versions: string[];
  sni: string | undefined;
  hasSni: boolean;
  /** The legacy client_version field (TLS 1.2 whenever 1.2 or 1.3 is offered). */
  clientVersion: string | undefined;
}

export function tracedClientHello(output: string): TracedHello | undefined {
  const start = output.indexOf('ClientHello, Length=');
  if (start < 0) return undefined;
  const end = output.indexOf('Sent Record', start);
  const block = output.slice(start, end < 0 ? undefined : end);
  const section = (from: RegExp): string[] => {
    const m = from.exec(block);
    if (!m) return [];
    const rest = block.slice(m.index + m[0].length).split('\n').slice(1);
    const indent = /^\s*/.exec(m[0].split('\n').at(-1) ?? '')?.[0].length ?? 0;
    const out: string[] = [];
    for (const l of rest) {
      if (l.trim() === '' || (/^\s*/.exec(l)?.[0].length ?? 0) <= indent) break;
      out.push(l.trim());
    }
    return out;
  };
  const ciphers = section(/\n(\s*)cipher_suites \(len=\d+\)/).map((l) => l.replace(/^\{[^}]*\}\s*/, ''));
  const versions = section(/\n(\s*)extension_type=supported_versions\(43\), length=\d+/).map((l) => l.replace(/\s*\(\d+\)$/, ''));
  const sniLines = section(/\n(\s*)extension_type=server_name\(0\), length=\d+/);
  const hex = sniLines.map((l) => l.replace(/^[0-9a-f]{4} - /, '').split('   ')[0]!.replace(/[^0-9a-f]/gi, '')).join('');
  // server_name_list: u16 list length, u8 type (0 = host_name), u16 name length, name.
  const sni = hex.length >= 10 ? Buffer.from(hex, 'hex').subarray(5).toString('latin1') : undefined;
  const clientVersion = /client_version=0x[0-9a-f]+ \(([^)]+)\)/i.exec(block)?.[1];
  return { ciphers, versions, sni, hasSni: sniLines.length > 0, clientVersion };
}
