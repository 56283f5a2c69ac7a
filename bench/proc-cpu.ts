import { readFileSync } from 'node:fs';

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
