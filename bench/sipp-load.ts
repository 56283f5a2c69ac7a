/**
 * Load bench: the highest call rate with 0 failed calls, sipp UAC → gateway → sipp UAS and sipp UAC → sipp UAS
 * directly, side by side, with each process's CPU and the INVITE→200 time (average, p99) at half that rate.
 * UDP on both legs; short calls INVITE/100/180/200/ACK/BYE/200 (test/support/scenarios/uac-call.xml).
 * Each step is bounded in calls (rate × --step-seconds) and in time (-timeout).
 *
 *   npm run bench                        both columns
 *   npm run bench -- --only direct       sipp to sipp only
 *   npm run bench -- --only policy       sipp → gateway running the full policy pipeline (UDP↔UDP) → sipp
 *   npm run bench -- --only gateway,policy   the plain b2bua next to the policy pipeline
 *   npm run bench -- --step-seconds 3 --rates 500,1000,2000
 *   npm run bench -- --latency-rates 275,575   INVITE→200 also at these fixed rates
 *   npm run bench -- --product src       the gateway from TypeScript through tsx instead of dist/ (built first)
 * The table is printed and written to bench/results/ (gitignored).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { freePort, startSipp, startSippUas, type SippProcess, type SippResult } from '../test/support/sipp.js';
import { cpuMeter } from './proc-cpu.js';

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const only = opt('only');
const stepSeconds = Number(opt('step-seconds') ?? 3);
const rates = (opt('rates') ?? '250,500,750,1000,1500,2000,3000,4000,6000,8000,10000,12000,14000,16000,20000')
  .split(',').map(Number);
const latencyCalls = Number(opt('latency-calls') ?? 0);
const latencyRates = (opt('latency-rates') ?? '').split(',').filter((r) => r !== '').map(Number);
const product = opt('product') === 'src' ? 'src' : 'dist';
/** Larger socket buffers for sipp itself, so sipp is not what drops datagrams. */
const sippBuffers = ['-buff_size', String(8 * 1024 * 1024)];

interface Target {
  name: string;
  /** Starts what answers calls; returns the address to call and the pids whose CPU is reported. */
  start(): Promise<{ remote: string; pids: Record<string, number>; stop(): Promise<void> }>;
}

interface StepResult {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  exitCode: number | null;
  cpu: Record<string, number | undefined>;
  rttMs: number[];
}

const direct: Target = {
  name: 'sipp → sipp',
  async start() {
    const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, extraArgs: sippBuffers });
    return { remote: `127.0.0.1:${uas.port}`, pids: { 'sipp UAS': uas.pid }, stop: async () => void (await uas.stop()) };
  },
};

function gatewayTarget(name: string, extra: string[]): Target {
  return {
  name,
  async start() {
    const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, extraArgs: sippBuffers });
    const sipPort = await freePort();
    const controlPort = await freePort();
    const gw = spawn(process.execPath, ['--import', 'tsx', join('bench', 'gateway-process.ts'),
      '--sip', `127.0.0.1:${sipPort}`, '--control', String(controlPort), '--target', `127.0.0.1:${uas.port}`,
      '--product', product, ...extra],
    { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await waitReady(gw);
    } catch (err) {
      await uas.stop();
      throw err;
    }
    return {
      remote: `127.0.0.1:${sipPort}`,
      pids: { gateway: gw.pid ?? -1, 'sipp UAS': uas.pid },
      stop: async () => {
        gw.stdin?.end();
        gw.kill('SIGTERM');
        await uas.stop();
      },
    };
  },
  };
}

const gateway = gatewayTarget('sipp → gateway (plain b2bua) → sipp', []);
const policyGateway = gatewayTarget('sipp → gateway (policy pipeline) → sipp', ['--policy']);

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((ok, fail) => {
    let out = '';
    const t = setTimeout(() => fail(new Error('gateway not ready after 20 s')), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready /m.test(out)) {
        clearTimeout(t);
        ok();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      fail(new Error(`gateway exited with ${code}`));
    });
  });
}

async function step(target: Target, rate: number, calls: number, traceRtt: boolean): Promise<StepResult> {
  const t = await target.start();
  try {
    const uac: SippProcess = await startSipp({
      scenario: { file: 'uac-call.xml' }, remote: t.remote, calls, rate, timeoutSec: Math.ceil(calls / rate) + 15,
      traceRtt, extraArgs: sippBuffers,
    });
    const pids: Array<[string, number]> = [['sipp UAC', uac.pid], ...Object.entries(t.pids)];
    const meters = pids.map(([k, pid]) => [k, cpuMeter(pid)] as const);
    const r: SippResult = await uac.exited;
    const cpu = Object.fromEntries(meters.map(([k, m]) => [k, m.stop()]));
    return {
      rate, calls, successful: r.stats.successful, failed: r.stats.failed + Math.max(0, calls - r.stats.successful - r.stats.failed),
      retransmissions: r.stats.retransmissions, exitCode: r.exitCode, cpu, rttMs: r.rttMs,
    };
  } finally {
    await t.stop();
  }
}

const clean = (s: StepResult): boolean => s.exitCode === 0 && s.failed === 0 && s.successful === s.calls;

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]!;
}

interface Series {
  target: Target;
  maxRate: number;
  atMax?: StepResult;
  firstFail?: StepResult;
  half?: StepResult;
  /** INVITE→200 at the --latency-rates, whatever the maximum. */
  fixed: StepResult[];
  error?: string;
}

async function measure(target: Target): Promise<Series> {
  const s: Series = { target, maxRate: 0, fixed: [] };
  try {
    for (const rate of rates) {
      const r = await step(target, rate, Math.round(rate * stepSeconds), false);
      const ok = clean(r);
      console.error(`  ${target.name} ${rate}/s: ${r.successful}/${r.calls} ok, ${r.failed} failed, ${r.retransmissions} retrans, ` +
        `exit ${r.exitCode}, cpu ${Object.entries(r.cpu).map(([k, v]) => `${k} ${v?.toFixed(0)}%`).join(', ')}`);
      if (!ok) {
        s.firstFail = r;
        break;
      }
      s.maxRate = rate;
      s.atMax = r;
    }
    // two bisection steps between the last clean rate and the first failing one
    for (let i = 0; i < 2 && s.firstFail && s.maxRate > 0; i++) {
      const mid = Math.round((s.maxRate + s.firstFail.rate) / 2 / 50) * 50;
      if (mid <= s.maxRate || mid >= s.firstFail.rate) break;
      const r = await step(target, mid, Math.round(mid * stepSeconds), false);
      console.error(`  ${target.name} ${mid}/s: ${r.successful}/${r.calls} ok, ${r.failed} failed, exit ${r.exitCode}`);
      if (clean(r)) {
        s.maxRate = mid;
        s.atMax = r;
      } else {
        s.firstFail = r;
      }
    }
    if (s.maxRate > 0) {
      const half = Math.max(1, Math.round(s.maxRate / 2));
      const calls = latencyCalls || Math.round(half * stepSeconds);
      s.half = await step(target, half, calls, true);
      console.error(`  ${target.name} latency at ${half}/s: ${s.half.rttMs.length} samples`);
    }
    for (const rate of latencyRates) {
      const r = await step(target, rate, latencyCalls || Math.round(rate * stepSeconds), true);
      console.error(`  ${target.name} latency at ${rate}/s: ${r.successful}/${r.calls} ok, ${r.rttMs.length} samples`);
      s.fixed.push(r);
    }
  } catch (err) {
    s.error = (err as Error).message;
  }
  return s;
}

function fmtCpu(r: StepResult | undefined): string {
  if (!r) return '—';
  return Object.entries(r.cpu).map(([k, v]) => `${k} ${v === undefined ? '?' : v.toFixed(0)}%`).join(', ');
}

function table(series: Series[]): string {
  const col = (f: (s: Series) => string): string => series.map(f).join(' | ');
  const rows = [
    `| | ${col((s) => s.target.name)} |`,
    `| --- | ${col(() => '---')} |`,
    `| max rate with 0 failed (calls/s) | ${col((s) => (s.error ? `not measured: ${s.error}` : String(s.maxRate)))} |`,
    `| first failing step | ${col((s) => (s.firstFail ? `${s.firstFail.rate}/s: ${s.firstFail.failed} failed, ${s.firstFail.retransmissions} retrans` : 'none up to the last step'))} |`,
    `| CPU at max rate (100% = one core) | ${col((s) => fmtCpu(s.atMax))} |`,
    `| INVITE→200 at half rate, avg (ms) | ${col((s) => (s.half ? (s.half.rttMs.reduce((a, b) => a + b, 0) / s.half.rttMs.length).toFixed(2) : '—'))} |`,
    `| INVITE→200 at half rate, p99 (ms) | ${col((s) => (s.half ? pct(s.half.rttMs, 99).toFixed(0) : '—'))} |`,
    `| half-rate run | ${col((s) => (s.half ? `${s.half.rate}/s, ${s.half.successful}/${s.half.calls} ok, ${fmtCpu(s.half)}` : '—'))} |`,
  ];
  for (const [i, rate] of latencyRates.entries()) {
    const at = (s: Series): StepResult | undefined => s.fixed[i];
    rows.push(`| INVITE→200 at ${rate}/s, avg / p99 (ms) | ${col((s) => {
      const r = at(s);
      if (!r || r.rttMs.length === 0) return '—';
      const avg = r.rttMs.reduce((a, b) => a + b, 0) / r.rttMs.length;
      return `${avg.toFixed(2)} / ${pct(r.rttMs, 99).toFixed(0)} (${r.successful}/${r.calls} ok, ${fmtCpu(r)})`;
    })} |`);
  }
  return rows.join('\n');
}

const byName: Record<string, Target> = { gateway, policy: policyGateway, direct };
if (product === 'dist' && (!only || only !== 'direct')) {
  console.error('building dist/ (npm run build), which the gateway process runs');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
const targets = only ? only.split(',').map((n) => byName[n]!).filter(Boolean) : [gateway, policyGateway, direct];
const series: Series[] = [];
for (const t of targets) {
  console.error(`measuring ${t.name} (steps of ${stepSeconds} s: ${rates.join(', ')} calls/s)`);
  series.push(await measure(t));
}
const header = `sipp load bench, ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
  `node ${process.version}, UDP, steps of ${stepSeconds} s, gateway from ${product}; sipp's response times are whole milliseconds`;
const out = `${header}\n\n${table(series)}\n`;
console.log(out);
mkdirSync(join('bench', 'results'), { recursive: true });
const file = join('bench', 'results', `sipp-load-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
writeFileSync(file, out);
console.error(`written to ${file}`);
