/**
 * CPU per call at several fixed rates, per thread of the gateway's process: for each rate a gateway of its own
 * (`npm start`'s options, the policy pipeline, UDP both legs) takes --warm seconds of unmeasured calls at that rate,
 * then --seconds measured (a process warmed at another rate would still be clearing that load's tables). A
 * thread's CPU comes from /proc/<pid>/task/<tid>/stat (user and system apart): the b2bua's thread is the process's
 * main thread, the engine's is the busiest other one, and the rest (V8's helpers, libuv's pool) are summed. Shows
 * how much of a call's CPU is paid per wake-up of a thread rather than per message: at a low rate each message
 * wakes both threads on its own, at a high one a wake-up serves several.
 *
 *   node --import tsx bench/cpu-by-rate.ts [--rates 100,250,500,900] [--seconds 8] [--warm 10]
 *   node --import tsx bench/cpu-by-rate.ts ... --uas uas-call-trying.xml     the far end sends 100 Trying first
 *   node --import tsx bench/cpu-by-rate.ts ... --main-thread     the engine in the b2bua's thread (engine.thread: main)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSipp } from '../test/support/sipp.js';
import { policyGateway, policyMainThread, sippBuffers } from './sipp-targets.js';

const { values: o } = parseArgs({
  options: {
    rates: { type: 'string', default: '100,250,500,900' }, seconds: { type: 'string', default: '8' }, warm: { type: 'string', default: '10' },
    'main-thread': { type: 'boolean', default: false },
  },
  // --uas and --node-args are read by bench/sipp-targets.ts.
  strict: false,
});
const rates = String(o.rates).split(',').map(Number);
const seconds = Number(o.seconds);
const warm = Number(o.warm);
if (!rates.every((r) => r > 0) || !(seconds > 0) || !(warm >= 0)) throw new Error('--rates takes positive numbers, --seconds a positive number, --warm seconds (0 or more)');

/** USER_HZ: /proc times are in hundredths of a second. */
const TICK_MS = 10;

/** User and system milliseconds of each thread of `pid`, by thread id. */
function threadTimes(pid: number): Map<number, { user: number; sys: number }> {
  const out = new Map<number, { user: number; sys: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS });
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return out;
}

interface Row { rate: number; failed: number; b2bua: [number, number]; engine: [number, number]; others: number; total: number }

const sameThread = o['main-thread'] === true;
const rows: Row[] = [];
for (const rate of rates) {
  const t = await (sameThread ? policyMainThread : policyGateway).start();
  const pid = t.pids.gateway!;
  try {
    const warmCalls = Math.round(rate * warm);
    if (warmCalls > 0) {
      await (await startSipp({ scenario: { file: 'uac-call.xml' }, remote: t.remote, calls: warmCalls, rate, timeoutSec: warm + 15, extraArgs: sippBuffers })).exited;
    }
    const calls = Math.round(rate * seconds);
    const before = threadTimes(pid);
    const r = await (await startSipp({ scenario: { file: 'uac-call.xml' }, remote: t.remote, calls, rate, timeoutSec: seconds + 15, extraArgs: sippBuffers })).exited;
    const after = threadTimes(pid);
    const used = [...after].map(([tid, a]) => {
      const b = before.get(tid) ?? { user: 0, sys: 0 };
      return { tid, user: (a.user - b.user) / calls, sys: (a.sys - b.sys) / calls };
    });
    const main = used.find((u) => u.tid === pid) ?? { user: 0, sys: 0 };
    const rest = used.filter((u) => u.tid !== pid).sort((x, y) => (y.user + y.sys) - (x.user + x.sys));
    // With the engine in the main thread there is no engine thread: every other thread is a helper.
    const engine = sameThread ? { user: 0, sys: 0 } : rest[0] ?? { user: 0, sys: 0 };
    const others = rest.slice(sameThread ? 0 : 1).reduce((s, u) => s + u.user + u.sys, 0);
    rows.push({
      rate, failed: r.stats.failed, b2bua: [main.user, main.sys], engine: [engine.user, engine.sys], others,
      total: main.user + main.sys + engine.user + engine.sys + others,
    });
    console.error(`${rate} calls/s done (${calls} calls, ${r.stats.failed} failed)`);
  } finally {
    await t.stop();
  }
}

const ms = (n: number): string => n.toFixed(2);
console.log(`CPU per call (ms) of the gateway's threads, by rate; ${seconds} s a rate after ${warm} s of warm calls at that rate, a fresh gateway each; policy pipeline, UDP both legs`
  + (sameThread ? '; engine in the b2bua thread (its row is under b2bua)' : ''));
console.log('| calls/s | failed | b2bua thread user / sys | engine thread user / sys | other threads | total |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.rate} | ${r.failed} | ${ms(r.b2bua[0])} / ${ms(r.b2bua[1])} | ${ms(r.engine[0])} / ${ms(r.engine[1])} | ${ms(r.others)} | ${ms(r.total)} |`);
}
console.log(`node ${process.version}; thread CPU from /proc in ${TICK_MS} ms ticks`);
