import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces; fields after its closing ')' start at field 3
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** Samples a process's CPU over an interval: call stop() to get the share of one core used (100 = one core). */
export function cpuMeter(pid: number): { stop(): number | undefined } {
  const t0 = process.hrtime.bigint();
  let last = cpuSeconds(pid);
  const first = last;
  // sample while running: the final read fails once the process has exited
  const timer = setInterval(() => {
    const v = cpuSeconds(pid);
    if (v !== undefined) last = v;
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      const v = cpuSeconds(pid);
      if (v !== undefined) last = v;
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (first === undefined || last === undefined || wall <= 0) return undefined;
      return ((last - first) / wall) * 100;
    },
  };
}

/** CPU seconds used so far by every live process of a process group (kamailio forks a dozen workers into one). */
export function groupCpuSeconds(pgid: number): number | undefined {
  let total = 0;
  let found = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the name: state(3) ppid(4) pgrp(5) ... utime(14) stime(15)
      if (Number(rest[2]) !== pgid) continue;
      total += (Number(rest[11]) + Number(rest[12])) / TICKS;
      found++;
    } catch {
      // the process ended while the list was read
    }
  }
  return found > 0 ? total : undefined;
}

/**
 * The CPU a process group uses over an interval (100 = one core), read at the start and at stop(): the group's
 * processes must live for the whole interval (a worker that exits takes its CPU time out of the sum).
 */
export function groupCpuMeter(pgid: number): { stop(): number | undefined } {
  const t0 = process.hrtime.bigint();
  const first = groupCpuSeconds(pgid);
  return {
    stop() {
      const last = groupCpuSeconds(pgid);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (first === undefined || last === undefined || wall <= 0) return undefined;
      return ((last - first) / wall) * 100;
    },
  };
}
