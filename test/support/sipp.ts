/**
 * Runs sipp (Debian package sip-tester) on loopback, bounded in calls and time, and reads its verdict:
 * the exit code plus the cumulative counters of its -trace_stat CSV.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeMediaPort, freePort, tcpFree, udpFree } from './ports.js';

export const scenarioDir = resolve(fileURLToPath(new URL('.', import.meta.url)), 'scenarios');

export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

export interface SippOptions {
  /** A file in test/support/scenarios (or an absolute path), or one of sipp's built-ins. */
  scenario: { file: string } | { builtin: 'uac' | 'uas' };
  /** host:port to call; omitted for a UAS. */
  remote?: string;
  transport?: SippTransport;
  localIp?: string;
  /** Local SIP port (-p); a free one is picked when omitted. */
  port?: number;
  /** Local media port (-mp); a free one is picked when omitted, so parallel runs do not collide. */
  mediaPort?: number;
  /** -m: stop after this many calls. */
  calls?: number;
  /** -r calls per second (with -rp 1000). */
  rate?: number;
  /** -l: most simultaneous calls. */
  limit?: number;
  /** -lost: percent of messages dropped on purpose. */
  lost?: number;
  /** -timeout (seconds, with -timeout_error so hitting it is a failure). Always set: default 30. */
  timeoutSec?: number;
  /** -s: the user part called. */
  service?: string;
  /** -d: pause length in ms for scenarios with a bare <pause/>. */
  pauseMs?: number;
  /** Write -trace_rtt (response times of rtd timers) every call. */
  traceRtt?: boolean;
  extraArgs?: string[];
  /** Variables added to sipp's environment (the benches preload a finer clock this way: bench/sipp-clock.ts). */
  env?: Record<string, string>;
}

export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  retransmissions: number;
  deadCalls: number;
  outOfCallMessages: number;
  failedTimeout: number;
  failedUnexpected: number;
  elapsedSec: number;
  /** The cumulative row of the CSV, every column. */
  raw: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stats: SippStats;
  /** Response times in ms from -trace_rtt (one per call reaching the rtd), when asked for. */
  rttMs: number[];
  errors: string;
  stderr: string;
  args: string[];
  pid: number;
}

export interface SippProcess {
  port: number;
  pid: number;
  child: ChildProcess;
  /** Stops the process (SIGUSR1 first, so it finishes cleanly, then SIGKILL) and reads its results. */
  stop(): Promise<SippResult>;
  /** Resolves when the process exits by itself. */
  exited: Promise<SippResult>;
  /** The counters of the running process as of its last -trace_stat dump (once a second). */
  liveStats(): SippStats;
}

let sippChecked = false;

/** Fails loudly, naming the package, when sipp is not installed. */
export function requireSipp(): void {
  if (sippChecked) return;
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  if (r.error) throw new Error('sipp is not installed: apt-get install -y sip-tester (scripts/ensure-peers.sh does this as root)');
  sippChecked = true;
}

export { freePort } from './ports.js';

/** sipp ended at once because a port it wanted was taken between the check and its bind. */
function bindRace(r: SippResult): boolean {
  return r.stats.created === 0 && /Address already in use|Unable to bind/i.test(r.stderr);
}

function buildArgs(o: SippOptions, port: number, mediaPort: number, dir: string): string[] {
  const args: string[] = [];
  if ('file' in o.scenario) args.push('-sf', resolve(scenarioDir, o.scenario.file));
  else args.push('-sn', o.scenario.builtin);
  args.push('-i', o.localIp ?? '127.0.0.1', '-p', String(port), '-mp', String(mediaPort));
  args.push('-t', o.transport ?? 'u1');
  if (o.calls !== undefined) args.push('-m', String(o.calls));
  if (o.rate !== undefined) args.push('-r', String(o.rate), '-rp', '1000');
  if (o.limit !== undefined) args.push('-l', String(o.limit));
  if (o.lost !== undefined) args.push('-lost', String(o.lost));
  if (o.service !== undefined) args.push('-s', o.service);
  if (o.pauseMs !== undefined) args.push('-d', String(o.pauseMs));
  args.push('-timeout', `${o.timeoutSec ?? 30}s`, '-timeout_error');
  args.push('-nostdin', '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1');
  args.push('-trace_err', '-error_file', join(dir, 'errors.log'));
  if (o.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1');
  if (o.extraArgs) args.push(...o.extraArgs);
  if (o.remote) args.push(o.remote);
  return args;
}

/** Parses sipp's -trace_stat CSV; the last row holds the cumulative (C) counters. */
export function parseStatCsv(text: string): SippStats {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(';');
  const last = (lines.length > 1 ? lines[lines.length - 1]! : '').split(';');
  const raw: Record<string, string> = {};
  header.forEach((h, i) => {
    if (h) raw[h] = last[i] ?? '';
  });
  const n = (name: string): number => Number(raw[name] ?? 0) || 0;
  const elapsed = raw['ElapsedTime(C)'] ?? '';
  const m = /(\d+):(\d+):(\d+)(?::(\d+))?/.exec(elapsed);
  const elapsedSec = m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0) / 1e6 : 0;
  return {
    created: n('TotalCallCreated'),
    successful: n('SuccessfulCall(C)'),
    failed: n('FailedCall(C)'),
    retransmissions: n('Retransmissions(C)'),
    deadCalls: n('DeadCallMsgs(C)'),
    outOfCallMessages: n('OutOfCallMsgs(C)'),
    failedTimeout: n('FailedCallTimeout(C)') + n('FailedMaxUDPRetrans(C)'),
    failedUnexpected: n('FailedUnexpectedMessage(C)'),
    elapsedSec,
    raw,
  };
}

/** Reads -trace_rtt files: `Date_ms;response_time_ms;rtd_no` per line. */
export function parseRttCsv(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.split(';');
    const v = Number(f[1]);
    if (f.length >= 2 && Number.isFinite(v) && /^\d/.test(f[0] ?? '')) out.push(v);
  }
  return out;
}

function collect(dir: string, child: ChildProcess, args: string[], stderr: string): SippResult {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  let rtt = '';
  try {
    for (const f of readdirSync(dir)) if (f.endsWith('_rtt.csv')) rtt += read(f);
  } catch {
    // directory gone
  }
  const result: SippResult = {
    exitCode: child.exitCode,
    signal: child.signalCode,
    stats: parseStatCsv(read('stat.csv')),
    rttMs: parseRttCsv(rtt),
    errors: read('errors.log').slice(-4000),
    stderr: stderr.slice(-4000),
    args,
    pid: child.pid ?? -1,
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Starts sipp and returns at once; `exited` resolves when it ends by itself, `stop()` ends it. */
export async function startSipp(o: SippOptions): Promise<SippProcess> {
  requireSipp();
  const port = o.port ?? (await freePort(o.localIp));
  const mediaPort = o.mediaPort ?? (await freeMediaPort(o.localIp));
  const dir = mkdtempSync(join(tmpdir(), 'tg-sipp-'));
  const args = buildArgs(o, port, mediaPort, dir);
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...(o.env ? { env: { ...process.env, ...o.env } } : {}) });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-16_000);
  });
  const exited = new Promise<SippResult>((ok) => {
    child.once('error', (e) => {
      stderr += String(e);
    });
    child.once('close', () => ok(collect(dir, child, args, stderr)));
  });
  const stop = async (): Promise<SippResult> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGUSR1');
      const t = setTimeout(() => child.kill('SIGKILL'), 6000);
      const r = await exited;
      clearTimeout(t);
      return r;
    }
    return exited;
  };
  const liveStats = (): SippStats => {
    try {
      return parseStatCsv(readFileSync(join(dir, 'stat.csv'), 'utf8'));
    } catch {
      return parseStatCsv('');
    }
  };
  return { port, pid: child.pid ?? -1, child, stop, exited, liveStats };
}

/** Runs one sipp scenario to its end (bounded by -m and -timeout) and returns its verdict and counters. */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runSippOnce(o);
    if (attempt >= 3 || o.port !== undefined || o.mediaPort !== undefined || !bindRace(r)) return r;
  }
}

async function runSippOnce(o: SippOptions): Promise<SippResult> {
  const p = await startSipp(o);
  const hardLimitMs = ((o.timeoutSec ?? 30) + 10) * 1000;
  const t = setTimeout(() => p.child.kill('SIGKILL'), hardLimitMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(t);
  }
}

/** Starts a UAS that answers until stopped. Waits until its port is bound. */
export async function startSippUas(o: Omit<SippOptions, 'remote'>): Promise<SippProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSippUasOnce(o);
    } catch (e) {
      const raced = e instanceof SippBindError && bindRace(e.result);
      if (attempt >= 3 || o.port !== undefined || o.mediaPort !== undefined || !raced) throw e;
    }
  }
}

class SippBindError extends Error {
  constructor(message: string, readonly result: SippResult) {
    super(message);
  }
}

async function startSippUasOnce(o: Omit<SippOptions, 'remote'>): Promise<SippProcess> {
  const p = await startSipp({ timeoutSec: 3600, ...o });
  const udp = (o.transport ?? 'u1').startsWith('u');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) break;
    if (!(await portFree(p.port, o.localIp ?? '127.0.0.1', udp))) return p;
    await new Promise((r) => setTimeout(r, 25));
  }
  const r = await p.stop();
  throw new SippBindError(`sipp UAS did not bind ${o.localIp ?? '127.0.0.1'}:${p.port} (exit ${r.exitCode}): ${r.stderr}`, r);
}

async function portFree(port: number, host: string, udp: boolean): Promise<boolean> {
  return udp ? udpFree(port, host) : tcpFree(port, host);
}
