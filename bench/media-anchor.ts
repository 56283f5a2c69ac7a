/**
 * Media anchored on rtpengine against media flowing around, on the same machine: `npm start`'s process (dist/,
 * built first) with one dial peer from the PBX tenant to a sipp UAS, UDP on both legs, the same calls, and the two
 * tenants either with no media block (flow-around) or both `flow-through` on one rtpengine (Debian
 * rtpengine-daemon in user space, as the tests run it).
 *
 *   1. calls/s: short calls (INVITE/100/180/200/ACK/BYE/200, SDP offer and answer, no RTP) at rising rates, each
 *      step --step-seconds long; the highest rate whose step has no failed call. rtpengine's CPU per call there.
 *   2. INVITE→200: sipp's response time (avg, p99) at --latency-rate for --step-seconds, each mode.
 *   3. media per call: --media-calls calls, each with --media-seconds of RTP both ways (50 packets/s from the PBX's
 *      pcap, echoed by the carrier), all up at once: rtpengine's CPU (share of one core, and seconds per call) and
 *      its resident memory above idle, per call up.
 *
 *   node --import tsx bench/media-anchor.ts
 *   node --import tsx bench/media-anchor.ts --rates 100,200,300,400 --step-seconds 5 --latency-rate 50 --media-calls 40
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRtpengine, type RtpengineProcess } from '../test/support/rtpengine.js';
import { uacRtpScenario, writeRtpPcap } from '../test/support/rtp-pcap.js';
import { freePort, runSipp, startSippUas, type SippProcess } from '../test/support/sipp.js';
import { adminUp } from '../test/support/udp-call-rig.js';
import { cpuSeconds } from './proc-cpu.js';
import { sippClockEnv, sippClockNote } from './sipp-clock.js';
import { startNodeArgs } from '../test/support/trunkgate-process.js';

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const rates = (opt('rates') ?? '100,200,300,400,500').split(',').map(Number);
const stepSeconds = Number(opt('step-seconds') ?? 4);
const latencyRate = Number(opt('latency-rate') ?? 50);
const mediaCalls = Number(opt('media-calls') ?? 30);
const mediaSeconds = Number(opt('media-seconds') ?? 6);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

type Mode = 'flow-around' | 'anchored';

interface Rig {
  sipPort: number;
  gw: ChildProcess;
  uas: SippProcess;
  stop(): Promise<void>;
}

/** npm start on a profiles dir of two UDP tenants, media blocks only when anchored. */
async function startRig(mode: Mode, rtpe: RtpengineProcess, uas: SippProcess): Promise<Rig> {
  const root = mkdtempSync(join(tmpdir(), 'tg-media-bench-'));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const media = (srtp: string) => (mode === 'anchored' ? `, media: { mode: flow-through, srtp: ${srtp} }` : '');
  writeFileSync(join(dir, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  limits: { requestsPerSecondPerSource: 0 }
${mode === 'anchored' ? `  media: { rtpengines: [{ host: ${rtpe.ng.host}, port: ${rtpe.ng.port} }] }\n` : ''}tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32]${media('off')} }
  far: { transport: udp, sipServer: 127.0.0.1:${uas.port}${media('optional')} }
dialPeers:
  - { id: far-end, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`);
  const gw = spawn(process.execPath, [...startNodeArgs, 'dist/main.js', 'start', '--profiles', dir], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TRUNKGATE_LOG_LEVEL: 'warn', TRUNKGATE_PREWARM_CALLS: '0' },
  });
  if (!await adminUp(adminPort)) throw new Error(`the gateway (${mode}) did not come up`);
  return {
    sipPort, gw, uas,
    stop: async () => {
      gw.kill('SIGINT');
      await new Promise((ok) => gw.once('exit', ok));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

interface Step { rate: number; calls: number; ok: number; failed: number; rttMs: number[]; rtpeCpuSec: number }

async function shortCalls(rig: Rig, rtpe: RtpengineProcess, rate: number, traceRtt: boolean): Promise<Step> {
  const calls = Math.round(rate * stepSeconds);
  const c0 = cpuSeconds(rtpe.pid) ?? 0;
  const r = await runSipp({
    scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${rig.sipPort}`, calls, rate, service: '3001',
    timeoutSec: stepSeconds + 15, traceRtt, extraArgs: ['-buff_size', String(8 << 20)], ...(traceRtt ? { env: sippClockEnv() } : {}),
  });
  return {
    rate, calls, ok: r.stats.successful, failed: calls - r.stats.successful, rttMs: r.rttMs,
    rtpeCpuSec: (cpuSeconds(rtpe.pid) ?? 0) - c0,
  };
}

interface MediaStep { calls: number; ok: number; rtpeCpuPct: number; rtpeCpuSecPerCall: number; rssKbPerCall: number }

/** `mediaCalls` calls with RTP, all up together; rtpengine's CPU share and resident memory above idle while they are. */
async function mediaStep(rig: Rig, rtpe: RtpengineProcess, dir: string): Promise<MediaStep> {
  const pcap = join(dir, 'rtp.pcap');
  writeRtpPcap(pcap, mediaSeconds * 50);
  writeFileSync(join(dir, 'uac.xml'), uacRtpScenario(pcap, { pauseMs: mediaSeconds * 1000 + 200 }));
  const idle = rssKb(rtpe.pid);
  let peak = idle;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKb(rtpe.pid)); }, 100);
  const c0 = cpuSeconds(rtpe.pid) ?? 0;
  const t0 = Date.now();
  // All calls placed within a second, so they overlap for most of --media-seconds.
  const r = await runSipp({
    scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${rig.sipPort}`, calls: mediaCalls, rate: mediaCalls, service: '3001',
    timeoutSec: mediaSeconds + 20,
  });
  clearInterval(sampler);
  const cpu = (cpuSeconds(rtpe.pid) ?? 0) - c0;
  const wall = (Date.now() - t0) / 1000;
  return {
    calls: mediaCalls, ok: r.stats.successful, rtpeCpuPct: (cpu / wall) * 100, rtpeCpuSecPerCall: cpu / mediaCalls,
    rssKbPerCall: (peak - idle) / mediaCalls,
  };
}

execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
const work = mkdtempSync(join(tmpdir(), 'tg-media-bench-work-'));
const rtpe = await startRtpengine({ mediaPorts: 4000, logLevel: 4 });
const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, extraArgs: ['-rtp_echo', '-buff_size', String(8 << 20)] });
const rows: string[] = [];
const results: Record<Mode, { max: number; cpuPerCallMs: number; lat?: Step }> = {
  'flow-around': { max: 0, cpuPerCallMs: NaN }, anchored: { max: 0, cpuPerCallMs: NaN },
};
let media: MediaStep | undefined;
try {
  for (const mode of ['flow-around', 'anchored'] as const) {
    const rig = await startRig(mode, rtpe, uas);
    try {
      await shortCalls(rig, rtpe, 20, false); // warm-up
      for (const rate of rates) {
        const s = await shortCalls(rig, rtpe, rate, false);
        console.error(`  ${mode} ${rate}/s: ${s.ok}/${s.calls} ok, rtpengine ${(s.rtpeCpuSec * 1000 / s.calls).toFixed(3)} ms CPU per call`);
        if (s.failed > 0) break;
        results[mode].max = rate;
        results[mode].cpuPerCallMs = (s.rtpeCpuSec * 1000) / s.calls;
        await sleep(500);
      }
      results[mode].lat = await shortCalls(rig, rtpe, latencyRate, true);
      if (mode === 'anchored') media = await mediaStep(rig, rtpe, work);
    } finally {
      await rig.stop();
    }
  }
} finally {
  await uas.stop();
  await rtpe.stop();
  rmSync(work, { recursive: true, force: true });
}

const fmt = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
rows.push('| media | calls/s (0 failed, steps of ' + `${stepSeconds} s) | INVITE→200 avg / p99 at ${latencyRate}/s (ms) | rtpengine CPU per call, no RTP |`);
rows.push('| --- | --- | --- | --- |');
for (const mode of ['flow-around', 'anchored'] as const) {
  const r = results[mode];
  const lat = r.lat?.rttMs ?? [];
  const avg = lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : NaN;
  const step = rates[rates.indexOf(r.max) + 1];
  rows.push(`| ${mode} | ${r.max}${step && r.max < rates.at(-1)! ? ` (${step}/s failed)` : r.max === rates.at(-1) ? ' (highest step tried)' : ''} | ${fmt(avg, 2)} / ${fmt(pct(lat, 99), 2)} | ${mode === 'anchored' ? `${fmt(r.cpuPerCallMs, 3)} ms` : '-'} |`);
}
if (media) {
  rows.push('');
  rows.push(`rtpengine with ${media.calls} anchored calls up together (${media.ok} completed), each ${mediaSeconds} s of RTP both ways (50 packets/s each way):`);
  rows.push(`${fmt(media.rtpeCpuPct)} % of one core in all, ${fmt(media.rtpeCpuSecPerCall * 1000, 1)} ms CPU per call ` +
    `(${fmt((media.rtpeCpuSecPerCall * 1000) / mediaSeconds, 2)} ms per call-second), ${fmt(media.rssKbPerCall, 0)} KiB resident per call above idle.`);
}
console.log(rows.join('\n'));
console.log(`\n${sippClockNote()}`);
