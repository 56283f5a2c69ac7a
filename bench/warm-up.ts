/**
 * What a fresh gateway process costs its first calls: the gateway (policy pipeline, `dist/` as `npm start` runs
 * it) is started, and as soon as it says ready sipp sends calls at a fixed rate over UDP. INVITE→200 is reported
 * per slice of the run (the first second against the later ones) and as the number of calls over 20 ms, over
 * several fresh processes.
 *
 *   npm run build && node --import tsx bench/warm-up.ts [--rate 500] [--seconds 3] [--runs 3] [--prewarm 1000]
 *
 * Runs alternate between the pre-warm on (--prewarm, default 1000 calls, as gateway.engine.prewarmCalls) and off,
 * so that both see the same machine. With --node-args "..." they alternate instead between `npm start`'s Node
 * options (package.json) and these, the pre-warm on in both.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, startSipp, startSippUas } from '../test/support/sipp.js';
import { startNodeArgs } from '../test/support/trunkgate-process.js';
import { sippClockEnv, sippClockNote } from './sipp-clock.js';
import { gatewayProcessArgs } from './gateway-script.js';

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const rate = Number(opt('rate', '500'));
const seconds = Number(opt('seconds', '3'));
const runs = Number(opt('runs', '3'));
const prewarm = Number(opt('prewarm', '1000'));
const otherNodeArgs = process.argv.includes('--node-args') ? opt('node-args', '').split(' ').filter((a) => a !== '') : undefined;
const sippBuffers = ['-buff_size', '8388608'];

function pct(v: number[], p: number): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function oneRun(warm: number, nodeArgs: string[]): Promise<{ rtt: number[]; readyMs: number }> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, extraArgs: sippBuffers });
  const sipPort = await freePort();
  const controlPort = await freePort();
  const started = performance.now();
  const gw = spawn(process.execPath, [...nodeArgs, ...gatewayProcessArgs('dist'), '--sip', `127.0.0.1:${sipPort}`,
    '--control', String(controlPort), '--target', `127.0.0.1:${uas.port}`, '--policy', '--product', 'dist', '--prewarm', String(warm)],
  { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((ok, fail) => {
      let out = '';
      gw.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^ready /m.test(out)) ok();
      });
      gw.once('exit', (code) => fail(new Error(`gateway exited with ${code}`)));
    });
    const readyMs = performance.now() - started;
    const calls = rate * seconds;
    const uac = await startSipp({
      scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, calls, rate, timeoutSec: seconds + 15, traceRtt: true,
      extraArgs: sippBuffers, env: sippClockEnv(),
    });
    const r = await uac.exited;
    if (r.stats.successful !== calls) console.error(`  ${r.stats.successful}/${calls} calls ok`);
    return { rtt: r.rttMs, readyMs };
  } finally {
    gw.stdin?.end();
    gw.kill('SIGTERM');
    await uas.stop();
  }
}

const rows: string[] = [];
for (let i = 0; i < 2 * runs; i++) {
  const warm = (otherNodeArgs || i % 2 === 0) ? prewarm : 0;
  const nodeArgs = otherNodeArgs && i % 2 === 1 ? otherNodeArgs : startNodeArgs;
  const { rtt, readyMs } = await oneRun(warm, nodeArgs);
  const first = rtt.slice(0, rate);
  const rest = rtt.slice(rate);
  rows.push(`| ${Math.floor(i / 2) + 1} | ${warm} | ${nodeArgs.join(' ') || '(none)'} | ${readyMs.toFixed(0)} | ${pct(first, 50).toFixed(1)} / ${pct(first, 99).toFixed(1)} | ${first.filter((x) => x > 20).length} | ` +
    `${pct(rest, 50).toFixed(1)} / ${pct(rest, 99).toFixed(1)} | ${rest.filter((x) => x > 20).length} |`);
}
console.log(`\nfresh process, ${rate} calls/s for ${seconds} s, policy pipeline, UDP both legs\n`);
console.log('| run | pre-warm calls | node options | start to ready (ms) | first second: INVITE→200 p50 / p99 (ms) | first second: calls over 20 ms | rest: p50 / p99 (ms) | rest: calls over 20 ms |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
console.log(`\n${sippClockNote()}`);
