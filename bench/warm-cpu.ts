/**
 * CPU per call of a gateway in service: the policy pipeline (UDP both legs, as `npm run bench -- --only policy`) is
 * started once per run, given --warm calls at --rate unmeasured, then --calls more at the same rate, and its CPU
 * over those (user + system, every thread, from /proc) is divided by the calls. A fresh process's first seconds are
 * not in it (bench/warm-up.ts counts those). Each run starts a new gateway; the runs are printed one per line.
 *
 *   node --import tsx bench/warm-cpu.ts --rate 1000 --warm 2000 --calls 15000 --runs 3
 *   node --import tsx bench/warm-cpu.ts --plain            the plain b2bua instead of the policy pipeline
 *   node --import tsx bench/warm-cpu.ts --pretenuring      the policy pipeline with V8's pretenuring left on
 *   node --import tsx bench/warm-cpu.ts --node-args "--v8-pool-size=1 --trace-gc"   the gateway's node options
 *
 * A run fails (exit 1) when any call failed: a number measured over failed calls would flatter the gateway.
 * Builds dist/ first, as `npm start` does.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuSeconds } from './proc-cpu.js';
import { gateway, opt, policyGateway, policyPretenuring, sippBuffers } from './sipp-targets.js';
import { startSipp } from '../test/support/sipp.js';

const rate = Number(opt('rate') ?? 1000);
const warm = Number(opt('warm') ?? 2000);
const calls = Number(opt('calls') ?? 15_000);
const runs = Number(opt('runs') ?? 3);
const target = process.argv.includes('--plain') ? gateway : process.argv.includes('--pretenuring') ? policyPretenuring : policyGateway;
for (const [name, v] of [['rate', rate], ['warm', warm], ['calls', calls], ['runs', runs]] as const) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
}

if (spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' }).status !== 0) process.exit(1);

async function uac(remote: string, n: number): Promise<{ ok: boolean; successful: number; errors: string }> {
  const p = await startSipp({
    scenario: { file: 'uac-call.xml' }, remote, calls: n, rate, timeoutSec: Math.ceil(n / rate) + 15, extraArgs: sippBuffers,
  });
  const r = await p.exited;
  return { ok: r.exitCode === 0 && r.stats.successful === n && r.stats.failed === 0, successful: r.stats.successful, errors: r.errors };
}

console.log(`${target.name}: ${rate} calls/s, CPU over ${calls} calls after ${warm} unmeasured ones`);
let failed = false;
for (let i = 1; i <= runs; i++) {
  const t = await target.start();
  try {
    const pid = t.pids.gateway!;
    const w = await uac(t.remote, warm);
    const before = cpuSeconds(pid);
    const t0 = process.hrtime.bigint();
    const m = await uac(t.remote, calls);
    const after = cpuSeconds(pid);
    const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!w.ok || !m.ok || before === undefined || after === undefined) {
      failed = true;
      console.log(`run ${i}: calls failed (warm ${w.successful}/${warm}, measured ${m.successful}/${calls}); no figure`);
      const log = w.errors || m.errors;
      console.log(`  in sipp's error log: ${/SIP\/2\.0 \d{3}[^\r\n]*/.exec(log)?.[0] ?? '(no status line)'}; ${/^Reason:[^\r\n]*/m.exec(log)?.[0] ?? ''}`);
      continue;
    }
    const msPerCall = ((after - before) * 1000) / calls;
    console.log(`run ${i}: ${msPerCall.toFixed(3)} ms CPU per call (gateway ${(100 * (after - before) / wall).toFixed(0)}% of a core over ${wall.toFixed(1)} s, ${rssMiB.toFixed(0)} MiB resident at the end)`);
  } finally {
    await t.stop();
  }
}
process.exit(failed ? 1 : 0);
