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
 *   npm run bench -- --warm-calls 2000   each latency step after 2,000 unmeasured calls (a process in service)
 *   npm run bench -- --warm-steps 1000   each throughput step after 1,000 unmeasured calls at its rate (CPU per call
 *                                        of a process in service, without V8's one-time compilation of a fresh one)
 *   npm run bench -- --product src       the gateway from TypeScript through tsx instead of dist/ (built first)
 *   npm run bench -- --only policy --apps 2   the policy pipeline as 2 b2bua apps (gateway.workers: 2)
 *   npm run bench -- --uas uas-call-trying.xml   the far end answers 100 Trying first, as a carrier behind a proxy does
 *   npm run bench -- --only policy --node-args ""   the gateway's node without `npm start`'s options (package.json)
 *   npm run bench -- --only policy-main  the policy pipeline with the engine in the b2bua's thread (engine.thread: main)
 *   npm run bench -- --only policy-pretenuring,policy  the policy pipeline with V8's pretenuring left on, and as shipped
 * With kamailio (tls.so) as the carrier SBC in front, UDP from sipp, mutual TLS to what is behind it:
 *   npm run bench -- --only tls-policy   sipp → kamailio → TLS → gateway (policy pipeline) → UDP → sipp
 *   npm run bench -- --only tls-gateway  the same with the plain b2bua
 *   npm run bench -- --only kamailio     sipp → kamailio → sipp, UDP both sides: what kamailio costs alone
 *   npm run bench -- --only kamailio-tls sipp → kamailio → TLS → kamailio → sipp: kamailio's own TLS relay
 *   npm run bench -- --only kamailio-policy  sipp → kamailio → UDP → gateway (policy pipeline) → sipp
 * Both legs through kamailio (a carrier SBC in front, a PBX behind), over mutual TLS or UDP, to compare transports:
 *   npm run bench -- --only tls-both,udp-both  sipp → kamailio → TLS → gateway (policy) → TLS → kamailio → sipp, and UDP
 * Against drachtio-server (built from source by bench/anchor/build-drachtio-server.sh) with a minimal drachtio-srf
 * createB2BUA app, the anchor (bench/anchor/drachtio-target.ts, docs/bench-anchor.md):
 *   npm run bench -- --only drachtio-anchor,policy --rates 300,500,700,900 --latency-rates 250
 *   --kam-children N  kamailio worker processes per socket and for TLS (default 4); its CPU is the sum over
 *   every process of its group. kamailio runs with the tlsf allocator (its default, q_malloc, checks every block
 *   and made kamailio, not the gateway, the bottleneck).
 * The table is printed and written to bench/results/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startSipp, type SippProcess, type SippResult } from '../test/support/sipp.js';
import { drachtioAnchor } from './anchor/drachtio-target.js';
import { sippClockEnv, sippClockNote } from './sipp-clock.js';
import { cpuMeter, groupCpuMeter } from './proc-cpu.js';
import {
  cleanupPki, direct, gateway, kamailioDirect, kamailioTls, kamChildren, opt, policyGateway, policyMainThread, policyPretenuring, product,
  sippBuffers, tlsBothPolicy, tlsGateway, tlsPolicyGateway, udpBothPolicy, udpKamailioPolicy, type Target,
} from './sipp-targets.js';

const only = opt('only');
const stepSeconds = Number(opt('step-seconds') ?? 3);
const rates = (opt('rates') ?? '250,500,750,1000,1500,2000,3000,4000,6000,8000,10000,12000,14000,16000,20000')
  .split(',').map(Number);
const latencyCalls = Number(opt('latency-calls') ?? 0);
/**
 * --warm-calls N: before each latency step (half rate, --latency-rates) N calls at that step's rate go through the
 * freshly started target unmeasured, so the step measures a process in service rather than its warm-up
 * (bench/warm-up.ts measures that); every target is warmed alike.
 */
const warmCalls = Number(opt('warm-calls') ?? 0);
/**
 * --warm-steps N: the same for the throughput steps. A fresh gateway spends about a core-second in its first two
 * seconds on V8's optimising compiler (its background thread), which a 4-second step divides over its calls; with
 * this, each target first carries N calls at the step's rate unmeasured. A drachtio-server compiles nothing.
 */
const warmSteps = Number(opt('warm-steps') ?? 0);
const latencyRates = (opt('latency-rates') ?? '').split(',').filter((r) => r !== '').map(Number);

interface StepResult {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  exitCode: number | null;
  cpu: Record<string, number | undefined>;
  rttMs: number[];
  /** For a gateway step that lost calls: what its overload control shed (bench/sipp-targets.ts shed()). */
  shed?: string;
  /** How long the CPU meters ran (seconds). */
  wallSec: number;
}

/**
 * Starts a target, trying again twice when it fails to start: ports come from freePort(), and another process
 * on the machine may take one before kamailio or the gateway binds it.
 */
async function startTarget(target: Target): ReturnType<Target['start']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await target.start();
    } catch (err) {
      if (attempt >= 3) throw err;
      console.error(`  ${target.name}: start failed (${String((err as Error).message).split('\n')[0]}), trying again`);
    }
  }
}

async function step(target: Target, rate: number, calls: number, traceRtt: boolean): Promise<StepResult> {
  const t = await startTarget(target);
  try {
    const warmN = traceRtt ? warmCalls : warmSteps;
    if (warmN > 0) {
      const warm = await startSipp({
        scenario: { file: 'uac-call.xml' }, remote: t.remote, calls: warmN, rate, timeoutSec: Math.ceil(warmN / rate) + 15,
        extraArgs: [...sippBuffers, ...(t.uacArgs ?? [])],
      });
      await warm.exited;
    }
    const uac: SippProcess = await startSipp({
      scenario: { file: 'uac-call.xml' }, remote: t.remote, calls, rate, timeoutSec: Math.ceil(calls / rate) + 15,
      traceRtt, extraArgs: [...sippBuffers, ...(t.uacArgs ?? [])], ...(traceRtt ? { env: sippClockEnv() } : {}),
    });
    const pids: Array<[string, number]> = [['sipp UAC', uac.pid], ...Object.entries(t.pids)];
    const t0 = process.hrtime.bigint();
    const meters = [
      ...pids.map(([k, pid]) => [k, cpuMeter(pid)] as const),
      ...Object.entries(t.groups ?? {}).map(([k, pgid]) => [k, groupCpuMeter(pgid)] as const),
    ];
    const r: SippResult = await uac.exited;
    const cpu = Object.fromEntries(meters.map(([k, m]) => [k, m.stop()]));
    const shed = t.shed && (r.stats.failed > 0 || r.stats.successful < calls) ? await t.shed() : undefined;
    const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
    return {
      rate, calls, successful: r.stats.successful, failed: r.stats.failed + Math.max(0, calls - r.stats.successful - r.stats.failed),
      retransmissions: r.stats.retransmissions, exitCode: r.exitCode, cpu, rttMs: r.rttMs, wallSec, ...(shed ? { shed } : {}),
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

/** CPU milliseconds per completed call of every process but the sipps (the target's own cost); — for sipp alone. */
function cpuPerCall(r: StepResult | undefined): string {
  const own = Object.entries(r?.cpu ?? {}).filter(([k]) => !k.startsWith('sipp'));
  if (!r || own.length === 0 || r.successful === 0) return '—';
  if (own.some(([, v]) => v === undefined)) return '?';
  const cores = own.reduce((a, [, v]) => a + v!, 0) / 100;
  return `${((cores * r.wallSec) / r.successful * 1000).toFixed(2)} (${own.map(([k]) => k).join(' + ')})`;
}

function table(series: Series[]): string {
  const col = (f: (s: Series) => string): string => series.map(f).join(' | ');
  const rows = [
    `| | ${col((s) => s.target.name)} |`,
    `| --- | ${col(() => '---')} |`,
    `| max rate with 0 failed (calls/s) | ${col((s) => (s.error ? `${s.maxRate > 0 ? `≥ ${s.maxRate}, then ` : ''}not measured: ${s.error.split('\n')[0]}` : String(s.maxRate)))} |`,
    `| first failing step | ${col((s) => (s.firstFail ? `${s.firstFail.rate}/s: ${s.firstFail.failed} failed, ${s.firstFail.retransmissions} retrans${s.firstFail.shed ? `, ${s.firstFail.shed}` : ''}` : 'none up to the last step'))} |`,
    `| CPU at max rate (100% = one core) | ${col((s) => fmtCpu(s.atMax))} |`,
    `| CPU per call at max rate, all but the sipps (ms) | ${col((s) => cpuPerCall(s.atMax))} |`,
    `| INVITE→200 at half rate, avg (ms) | ${col((s) => (s.half ? (s.half.rttMs.reduce((a, b) => a + b, 0) / s.half.rttMs.length).toFixed(2) : '—'))} |`,
    `| INVITE→200 at half rate, p99 (ms) | ${col((s) => (s.half ? pct(s.half.rttMs, 99).toFixed(1) : '—'))} |`,
    `| half-rate run | ${col((s) => (s.half ? `${s.half.rate}/s, ${s.half.successful}/${s.half.calls} ok, ${fmtCpu(s.half)}` : '—'))} |`,
  ];
  for (const [i, rate] of latencyRates.entries()) {
    const at = (s: Series): StepResult | undefined => s.fixed[i];
    rows.push(`| INVITE→200 at ${rate}/s, avg / p99 (ms) | ${col((s) => {
      const r = at(s);
      if (!r || r.rttMs.length === 0) return '—';
      const avg = r.rttMs.reduce((a, b) => a + b, 0) / r.rttMs.length;
      return `${avg.toFixed(2)} / ${pct(r.rttMs, 99).toFixed(1)} (${r.successful}/${r.calls} ok, ${fmtCpu(r)})`;
    })} |`);
  }
  return rows.join('\n');
}

const byName: Record<string, Target> = {
  gateway, policy: policyGateway, 'policy-main': policyMainThread, 'policy-pretenuring': policyPretenuring, direct, 'tls-gateway': tlsGateway, 'tls-policy': tlsPolicyGateway,
  kamailio: kamailioDirect, 'kamailio-tls': kamailioTls, 'kamailio-policy': udpKamailioPolicy,
  'tls-both': tlsBothPolicy, 'udp-both': udpBothPolicy,
  'drachtio-anchor': drachtioAnchor,
};
const unknown = (only ?? '').split(',').filter((n) => n !== '' && !byName[n]);
if (unknown.length > 0) throw new Error(`--only: unknown target ${unknown.join(', ')}; known: ${Object.keys(byName).join(', ')}`);
const targets = only ? only.split(',').map((n) => byName[n]!) : [gateway, policyGateway, direct];
for (const t of targets) t.check?.();
if (product === 'dist' && targets.some((t) => t.name.includes('gateway'))) {
  console.error('building dist/ (npm run build), which the gateway process runs');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
const series: Series[] = [];
// The machine may be shared: the 1-minute load average as each target starts and at the end goes in the header.
const loads: string[] = [];
for (const t of targets) {
  loads.push(`${t.name.split(' → ')[1] ?? t.name} ${loadavg()[0]!.toFixed(1)}`);
  console.error(`measuring ${t.name} (steps of ${stepSeconds} s: ${rates.join(', ')} calls/s)`);
  series.push(await measure(t));
}
await cleanupPki();
const header = `sipp load bench, ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
  `node ${process.version}, sipp on UDP, steps of ${stepSeconds} s, gateway from ${product}, kamailio children ${kamChildren}, ` +
  `${warmCalls > 0 ? `${warmCalls} unmeasured calls before each latency step` : 'latency steps from a fresh process'}; ` +
  `${warmSteps > 0 ? `${warmSteps} unmeasured calls before each throughput step` : 'throughput steps from a fresh process'}; ` +
  `load average (1 min) as each target started: ${loads.join(', ')}, at the end ${loadavg()[0]!.toFixed(1)}; ` +
  `${sippClockNote()}`;
const out = `${header}\n\n${table(series)}\n`;
console.log(out);
mkdirSync(join('bench', 'results'), { recursive: true });
const file = join('bench', 'results', `sipp-load-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
writeFileSync(file, out);
console.error(`written to ${file}`);
