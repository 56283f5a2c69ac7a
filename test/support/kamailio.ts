/**
 * Runs kamailio (Debian `kamailio` plus `kamailio-tls-modules`) as a SIP peer on loopback: a carrier SBC in front
 * of sipp or a PBX behind the gateway, with its own TLS certificates, CA list and SNI.
 *
 *   const kam = await startKamailio({
 *     listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
 *     tls: { certificate: leaf.cert, privateKey: leaf.key, caList: gatewayCa.cert },
 *     route: { kind: 'relay', target: { host: '127.0.0.1', port: gwTlsPort, transport: 'tls' } },
 *   });
 *   t.after(() => kam.stop());
 *
 * Each instance writes kamailio.cfg, tls.cfg and its PEM files into a temporary directory of its own, runs in
 * the foreground (`-DD -E`) with its own runtime directory and pid file, loads no control module (no RPC socket
 * or FIFO anywhere shared), never asks DNS, and is stopped by its process id and process group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './sipp.js';
import {
  buildKamailioCfg, type KamailioListen, type KamailioLogLevel, type KamailioProto, type KamailioRoute,
} from './kamailio/kamailio-cfg.js';
import { dispatcherList } from './kamailio/dispatcher-cfg.js';
import { buildTlsCfg, type KamailioTlsMethod, type TlsProfileFiles } from './kamailio/tls-cfg.js';

export type { KamailioListen, KamailioLogLevel, KamailioProto, KamailioRoute, KamailioTlsMethod };
export type { KamailioRelayTarget } from './kamailio/kamailio-cfg.js';

/** kamailio's outbound (client) side of TLS. */
export interface KamailioTlsClientOptions {
  /** Check the server's chain against `caList` (default true when a caList is given). kamailio checks no name. */
  verifyCertificate?: boolean;
  /** Present `certificate` when the server asks for one (default true). */
  presentCertificate?: boolean;
  /** CA certificates (PEM) trusted for servers; default: the top-level caList. */
  caList?: string;
  method?: KamailioTlsMethod;
}

export interface KamailioTlsOptions {
  /** PEM certificate (chain) and PEM private key, for both the server and the client profiles. */
  certificate: string;
  privateKey: string;
  /** PEM CA certificates kamailio trusts for peers. */
  caList?: string;
  /** Default 'TLSv1.2+'. */
  method?: KamailioTlsMethod;
  /** Server side: verify a client's certificate when one is sent (default true when a caList is given). */
  verifyCertificate?: boolean;
  /** Server side: demand a client certificate (default false). */
  requireCertificate?: boolean;
  /**
   * SNI sent on new outbound connections. A destination's own serverName wins when the relay target is that
   * destination. (kamailio 5.6 takes the SNI it sends from an xavp, not from a client profile: see kamailio-cfg.ts.)
   */
  serverName?: string;
  client?: KamailioTlsClientOptions;
  /** One [client:<ip>:<port>] profile each, for a given destination; its serverName selects it and is sent. */
  destinations?: Array<{ host: string; port: number; serverName?: string }>;
  cipherList?: string;
}

export interface KamailioOptions {
  listen: KamailioListen[];
  tls?: KamailioTlsOptions;
  route: KamailioRoute;
  /** kamailio's debug level (default 'notice': the tg-request lines and warnings). */
  logLevel?: KamailioLogLevel;
  /** Worker processes per socket (-n) and for TCP/TLS (default 1). */
  children?: number;
  /** Shared memory in MB (-m, default 64): transactions live there, so a load run wants more. */
  sharedMemoryMb?: number;
  /**
   * kamailio's allocator for shared and private memory (-x, -X). Default: its own default, q_malloc, which checks
   * every block and costs most of kamailio's CPU under load; 'tlsf' is the fast one, for load runs.
   */
  memoryManager?: 'qm' | 'fm' | 'tlsf';
  /** How long to wait for every listener to be bound (default 10,000 ms). */
  startTimeoutMs?: number;
  /** tm timers (defaults 5,000 and 15,000 ms, below sipp's default -timeout). */
  frTimerMs?: number;
  frInvTimerMs?: number;
}

/** One `tg-request` line: a request as kamailio received it. */
export interface KamailioRequestSeen {
  method: string;
  proto: string;
  src: string;
  dst: string;
  callId: string;
  /** TLS only: the SNI the peer sent (kamailio prints `<null>` for none), whether its chain verified, its CN. */
  sni?: string;
  verified?: string;
  peerCn?: string;
  version?: string;
  /** TLS only: the suite the connection negotiated (OpenSSL name). */
  cipher?: string;
}

export interface KamailioProcess {
  pid: number;
  /** The temporary directory holding kamailio.cfg, tls.cfg and the PEM files. */
  dir: string;
  /** The listeners with their ports filled in. */
  listen: KamailioListen[];
  /** Everything kamailio printed (stdout then stderr interleaved as received; the last 4 MB). */
  logs(): string;
  /** The requests kamailio has logged so far. */
  requests(): KamailioRequestSeen[];
  /** The replies kamailio has received over TLS so far, with the serial of the certificate each connection showed. */
  tlsReplies(): KamailioTlsReplySeen[];
  /**
   * Resolves with the logged requests once `done` holds for them, or rejects with the log tail after
   * `timeoutMs` (default 5,000). kamailio's log arrives through a pipe, so it can trail the SIP traffic.
   */
  waitForRequests(done: (seen: KamailioRequestSeen[]) => boolean, timeoutMs?: number): Promise<KamailioRequestSeen[]>;
  /** Resolves with the first match of `pattern` in the log once there is one, or rejects with the log tail after `timeoutMs` (default 5,000). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The relay failures kamailio has logged so far (one text line each). */
  relayFailures(): string[];
  /** The port of the first listener of this protocol. */
  port(proto: KamailioProto): number;
  /** SIGTERM, then SIGKILL to its process group after 5 s; removes the directory. Idempotent. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'apt-get install -y kamailio kamailio-tls-modules';
const LOG_CAP = 4 * 1024 * 1024;

let moduleDirCache: string | undefined;

/** Fails loudly, naming the packages, when kamailio or its tls module is missing; returns the module dir. */
export function requireKamailio(needTls = true): string {
  if (moduleDirCache === undefined) {
    const v = spawnSync('kamailio', ['-v'], { encoding: 'utf8' });
    if (v.error) throw new Error(`kamailio is not installed: ${INSTALL_HINT}`);
    const info = spawnSync('kamailio', ['-I'], { encoding: 'utf8' });
    const m = /Default paths to modules:\s*(\S+)/.exec(`${info.stdout}${info.stderr}`);
    moduleDirCache = m?.[1] ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules';
  }
  if (needTls) {
    const probe = spawnSync('test', ['-f', join(moduleDirCache, 'tls.so')]);
    if (probe.status !== 0) throw new Error(`kamailio's tls module is missing from ${moduleDirCache}: ${INSTALL_HINT}`);
  }
  return moduleDirCache;
}

/** The version line of `kamailio -v`, e.g. 'kamailio 5.6.3 (x86_64/linux)'. */
export function kamailioVersion(): string {
  const v = spawnSync('kamailio', ['-v'], { encoding: 'utf8' });
  return /version:\s*(.*)/.exec(v.stdout ?? '')?.[1]?.trim() ?? 'unknown';
}

/** What a log held, for a failure message: requests by method and transport, and each call's methods in order. */
function requestSummary(seen: KamailioRequestSeen[]): string {
  const counts = new Map<string, number>();
  const calls = new Map<string, string[]>();
  for (const r of seen) {
    counts.set(`${r.method}/${r.proto}`, (counts.get(`${r.method}/${r.proto}`) ?? 0) + 1);
    calls.set(r.callId, [...(calls.get(r.callId) ?? []), r.method]);
  }
  const byCall = [...calls].map(([id, methods]) => `${id.slice(0, 8)}: ${methods.join(' ')}`).join('; ');
  return `seen ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing'}; by call: ${byCall}`;
}

/** Parses the tg-request lines of a kamailio log. */
export function parseRequestLines(log: string): KamailioRequestSeen[] {
  const out: KamailioRequestSeen[] = [];
  for (const line of log.split('\n')) {
    const at = line.indexOf('tg-request ');
    if (at < 0) continue;
    const fields: Record<string, string> = {};
    for (const m of line.slice(at + 'tg-request '.length).matchAll(/(\w+)=(\S*)/g)) fields[m[1]!] = m[2]!;
    const seen: KamailioRequestSeen = {
      method: fields.method ?? '', proto: fields.proto ?? '', src: fields.src ?? '', dst: fields.dst ?? '', callId: fields.callid ?? '',
    };
    if (fields.sni !== undefined) seen.sni = fields.sni;
    if (fields.verified !== undefined) seen.verified = fields.verified;
    if (fields.peer_cn !== undefined) seen.peerCn = fields.peer_cn;
    if (fields.version !== undefined) seen.version = fields.version;
    if (fields.cipher !== undefined) seen.cipher = fields.cipher;
    out.push(seen);
  }
  return out;
}

/** One `tg-reply` line: a reply kamailio received over TLS, and the serial of the certificate its connection showed. */
export interface KamailioTlsReplySeen {
  status: string;
  src: string;
  callId: string;
  /** The peer certificate's serial number as kamailio prints it (decimal). */
  peerSerial: string;
  peerCn: string;
  /** The suite the connection negotiated (OpenSSL name). */
  cipher: string;
}

/** Reads the `tg-reply` lines (replies that arrived over TLS) out of kamailio's log. */
export function parseTlsReplyLines(log: string): KamailioTlsReplySeen[] {
  const out: KamailioTlsReplySeen[] = [];
  for (const line of log.split('\n')) {
    const at = line.indexOf('tg-reply ');
    if (at < 0) continue;
    const f: Record<string, string> = {};
    for (const m of line.slice(at + 'tg-reply '.length).matchAll(/(\w+)=(\S*)/g)) f[m[1]!] = m[2]!;
    out.push({ status: f.status ?? '', src: f.src ?? '', callId: f.callid ?? '', peerSerial: f.peer_serial ?? '', peerCn: f.peer_cn ?? '', cipher: f.cipher ?? '' });
  }
  return out;
}

function profile(o: KamailioTlsOptions, files: { cert: string; key: string; ca?: string; clientCa?: string }): {
  server: TlsProfileFiles; client: TlsProfileFiles;
} {
  const method = o.method ?? 'TLSv1.2+';
  const server: TlsProfileFiles = {
    method,
    certificate: files.cert,
    privateKey: files.key,
    ...(files.ca ? { caList: files.ca } : {}),
    verifyCertificate: o.verifyCertificate ?? files.ca !== undefined,
    requireCertificate: o.requireCertificate ?? false,
    ...(o.cipherList ? { cipherList: o.cipherList } : {}),
  };
  const c = o.client ?? {};
  const present = c.presentCertificate ?? true;
  const clientCa = files.clientCa ?? files.ca;
  const client: TlsProfileFiles = {
    method: c.method ?? method,
    ...(present ? { certificate: files.cert, privateKey: files.key } : {}),
    ...(clientCa ? { caList: clientCa } : {}),
    verifyCertificate: c.verifyCertificate ?? clientCa !== undefined,
    requireCertificate: c.verifyCertificate ?? clientCa !== undefined,
    ...(o.cipherList ? { cipherList: o.cipherList } : {}),
  };
  return { server, client };
}

/** Waits for `p`, at most `ms`, leaving no timer behind. */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((ok) => { timer = setTimeout(ok, ms); })]);
  clearTimeout(timer);
}

async function bound(l: KamailioListen): Promise<boolean> {
  if (l.proto === 'udp') {
    return new Promise((ok) => {
      const u = createSocket(l.host.includes(':') ? 'udp6' : 'udp4');
      // A failed bind leaves the socket open: close it either way.
      u.once('error', () => {
        u.close();
        ok(true);
      });
      u.bind(l.port, l.host, () => u.close(() => ok(false)));
    });
  }
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(true));
    s.listen(l.port, l.host, () => s.close(() => ok(false)));
  });
}

/**
 * Starts kamailio and resolves once every listener is bound; rejects with its log if it exits or times out. Ports
 * given as 0 are picked free just before the start; another process can take one in between, so a start that fails
 * on "Address already in use" with picked ports is tried again with new ones (three times at most).
 */
export async function startKamailio(o: KamailioOptions): Promise<KamailioProcess> {
  const picked = o.listen.some((l) => l.port === 0);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKamailioOnce(o);
    } catch (e) {
      if (!picked || attempt >= 3 || !/Address already in use/.test(String(e))) throw e;
    }
  }
}

async function startKamailioOnce(o: KamailioOptions): Promise<KamailioProcess> {
  const needTls = o.listen.some((l) => l.proto === 'tls');
  if (needTls && !o.tls) throw new Error('startKamailio: a tls listener needs tls options (certificate and privateKey)');
  const moduleDir = requireKamailio(needTls);
  for (const l of o.listen) {
    if (!/^127\.|^::1$/.test(l.host)) throw new Error(`startKamailio: ${l.host} is not a loopback address`);
  }
  const listen: KamailioListen[] = [];
  for (const l of o.listen) listen.push({ ...l, port: l.port === 0 ? await freePort(l.host) : l.port });

  const dir = mkdtempSync(join(tmpdir(), 'tg-kamailio-'));
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  let tlsCfgPath: string | undefined;
  if (needTls && o.tls) {
    const files = {
      cert: write('cert.pem', o.tls.certificate),
      key: write('key.pem', o.tls.privateKey),
      ...(o.tls.caList ? { ca: write('ca.pem', o.tls.caList) } : {}),
      ...(o.tls.client?.caList ? { clientCa: write('client-ca.pem', o.tls.client.caList) } : {}),
    };
    const { server, client } = profile(o.tls, files);
    const destinations = (o.tls.destinations ?? []).map((d) => {
      const { serverName: _inherited, ...base } = client;
      const sni = d.serverName ?? o.tls?.serverName;
      return { ...base, host: d.host, port: d.port, ...(sni ? { serverName: sni } : {}) };
    });
    tlsCfgPath = write('tls.cfg', buildTlsCfg({ server, client, destinations }));
  }
  const children = o.children ?? 1;
  const target = o.route.kind === 'relay' ? o.route.target : undefined;
  const sendServerName = o.tls?.destinations?.find((d) => d.host === target?.host && d.port === target?.port)?.serverName
    ?? o.tls?.serverName;
  const dispatcherListPath = o.route.kind === 'dispatcher' ? write('dispatcher.list', dispatcherList(o.route)) : undefined;
  const cfgPath = write('kamailio.cfg', buildKamailioCfg({
    listen, route: o.route, logLevel: o.logLevel ?? 'notice', moduleDir, children,
    frTimerMs: o.frTimerMs ?? 5000, frInvTimerMs: o.frInvTimerMs ?? 15_000,
    ...(tlsCfgPath ? { tlsCfgPath } : {}),
    ...(sendServerName ? { sendServerName } : {}),
    ...(dispatcherListPath ? { dispatcherListPath } : {}),
  }));

  const args = ['-f', cfgPath, '-DD', '-E', '-n', String(children), '-m', String(o.sharedMemoryMb ?? 64), '-M', '8',
    ...(o.memoryManager ? ['-x', o.memoryManager, '-X', o.memoryManager] : []), '-Y', runDir,
    '-P', join(runDir, 'kamailio.pid'), '-w', dir, '--atexit=no'];
  const child: ChildProcess = spawn('kamailio', args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (d: Buffer): void => {
    log += d.toString();
    if (log.length > LOG_CAP) log = log.slice(-LOG_CAP);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  // 'exit' of the main process; 'close' comes only once every forked worker has let go of the pipes too.
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const closed = new Promise<void>((ok) => child.once('close', () => ok()));
  const pid = child.pid ?? -1;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && pid > 0) {
        child.kill('SIGTERM');
        await within(exited, 5000);
      }
      // Its forked workers share the process group this spawn created; none may outlive the test.
      try {
        if (pid > 0) process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
      if (child.exitCode === null && child.signalCode === null) await exited;
      await within(closed, 2000);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 10_000);
  const pending = [...listen];
  while (pending.length > 0) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await within(closed, 1000);
      const text = log;
      await stop();
      throw new Error(`kamailio exited during start (code ${child.exitCode}, signal ${child.signalCode}` +
        `${spawnError ? `, ${spawnError.message}` : ''}):\n${text.slice(-6000)}`);
    }
    if (Date.now() > deadline) {
      const text = log;
      await stop();
      throw new Error(`kamailio did not bind ${pending.map((l) => `${l.proto}:${l.host}:${l.port}`).join(', ')} ` +
        `within ${o.startTimeoutMs ?? 10_000} ms:\n${text.slice(-6000)}`);
    }
    if (await bound(pending[0]!)) pending.shift();
    else await new Promise((r) => setTimeout(r, 25));
  }

  return {
    pid,
    dir,
    listen,
    logs: () => log,
    requests: () => parseRequestLines(log),
    tlsReplies: () => parseTlsReplyLines(log),
    waitForRequests: async (done, timeoutMs = 15_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const seen = parseRequestLines(log);
        if (done(seen)) return seen;
        if (Date.now() > until) {
          throw new Error(`kamailio did not log the expected requests within ${timeoutMs} ms; ${requestSummary(seen)}\n${log.slice(-4000)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    waitForLog: async (pattern, timeoutMs = 5_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(log);
        if (m) return m;
        if (Date.now() > until) throw new Error(`kamailio did not log ${pattern} within ${timeoutMs} ms\n${log.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    relayFailures: () => log.split('\n').filter((l) => l.includes('tg-relay-failure ')),
    port: (proto) => {
      const l = listen.find((x) => x.proto === proto);
      if (!l) throw new Error(`kamailio has no ${proto} listener`);
      return l.port;
    },
    stop,
  };
}
