/**
 * sipp's response times at a useful resolution. sipp 3.6 takes the start and stop of every response-time
 * measurement (-trace_rtt) from CLOCK_MONOTONIC_COARSE, which moves once per kernel tick: on a kernel with HZ=250
 * every INVITE→200 it reports is a multiple of 4 ms (0, 4, 8, 12 …), so a p99 of "8" and one of "12" may be the
 * same latency either side of a tick. The benches that report sipp's times preload bench/sipp-clock/fine-clock.c
 * into the measuring sipp, which answers that clock from CLOCK_MONOTONIC; it is compiled on first use with the
 * system's C compiler into .tmp/ (ignored by git). Without a compiler the benches say so and report the coarse times.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'bench', 'sipp-clock', 'fine-clock.c');
const LIBRARY = join(ROOT, '.tmp', 'sipp-fine-clock.so');

let built: { env: Record<string, string> } | { error: string } | undefined;

/** The environment a measuring sipp is started with: LD_PRELOAD of the fine clock, or undefined when it cannot be built. */
export function sippClockEnv(): Record<string, string> | undefined {
  built ??= build();
  return 'env' in built ? built.env : undefined;
}

/** One line for a bench's output: what resolution its sipp times have. */
export function sippClockNote(): string {
  built ??= build();
  return 'env' in built
    ? "sipp's response times from CLOCK_MONOTONIC (bench/sipp-clock.ts)"
    : `sipp's response times in kernel ticks (4 ms with HZ=250): the fine clock was not built (${built.error})`;
}

function build(): { env: Record<string, string> } | { error: string } {
  try {
    if (!existsSync(LIBRARY) || statSync(LIBRARY).mtimeMs < statSync(SOURCE).mtimeMs) {
      mkdirSync(join(ROOT, '.tmp'), { recursive: true });
      execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', LIBRARY, SOURCE, '-ldl'], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    return { env: { LD_PRELOAD: LIBRARY } };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = err.code === 'ENOENT' ? 'no C compiler: apt-get install gcc' : String(err.stderr ?? err.message).split('\n')[0];
    return { error: why ?? 'cc failed' };
  }
}
