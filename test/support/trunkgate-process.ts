import type { TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const mainTs = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
export const distMain = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/**
 * The Node options `npm start` gives the gateway, read from package.json's `start` script (the words between `node`
 * and `dist/main.js`), so tests and benches run the process as a user's `npm start` does.
 */
export const startNodeArgs: string[] = (() => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const end = words.indexOf('dist/main.js');
  if (words[0] !== 'node' || end < 0) throw new Error(`package.json start script not understood: ${pkg.scripts.start}`);
  return words.slice(1, end);
})();

export type LogLine = Record<string, unknown> & { msg?: string };

/**
 * `trunkgate start` as a user runs it: dist/main.js as `npm start` runs it when the test runner built it
 * (TRUNKGATE_TEST_PRODUCT=dist, scripts/test.mjs), else src/main.ts through tsx; its pino JSON lines read from stdout.
 */
export interface TrunkgateProcess {
  child: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first log line (from index `from` on) that `match` accepts; rejects with the log tail. */
  waitFor(match: (l: LogLine) => boolean, ms: number, from?: number): Promise<{ line: LogLine; index: number }>;
  /**
   * SIGINT (the gateway stops at once: calls still up get their BYE, no drain time; a test of the SIGTERM drain
   * sends SIGTERM itself), then SIGKILL after 10 s; idempotent, and run by the test's `after`.
   */
  stop(): Promise<void>;
}

/**
 * The Node arguments that run the product's own entry (`trunkgate <command>`) as the tests do: dist/main.js when the
 * runner built it (TRUNKGATE_TEST_PRODUCT=dist, scripts/test.mjs), else src/main.ts through tsx, which compiles the
 * whole import graph at every start.
 */
export function productEntry(): string[] {
  return process.env.TRUNKGATE_TEST_PRODUCT === 'dist' ? [distMain] : ['--import', 'tsx', mainTs];
}

/** Starts the product's own entry on `profilesDir` and waits for the log line `ready` accepts (30 s at most). */
export async function startTrunkgate(t: TestContext, profilesDir: string, o: {
  env?: Record<string, string>;
  ready: (l: LogLine) => boolean;
  /** A command the gateway is started under, its arguments first (e.g. `['prlimit', '--nofile=512', '--']`). */
  under?: string[];
}): Promise<TrunkgateProcess> {
  const entry = [...startNodeArgs, ...productEntry()];
  const argv = [process.execPath, ...entry, 'start', '--profiles', profilesDir];
  const [cmd, ...args] = [...(o.under ?? []), ...argv] as [string, ...string[]];
  const child: ChildProcess = spawn(cmd, args, {
    // The pre-warm is off unless a test asks for it: it would add about a second to each of the many starts here.
    cwd: repoRoot, env: { ...process.env, TRUNKGATE_PREWARM_CALLS: '0', ...o.env, TRUNKGATE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000); });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      lines.push({ msg: text });
    }
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    })();
    return stopping;
  };
  t.after(stop);
  const tail = (): string => `${lines.slice(-30).map((l) => JSON.stringify(l)).join('\n')}\n${stderr}`;
  const waitFor: TrunkgateProcess['waitFor'] = async (match, ms, from = 0) => {
    const until = Date.now() + ms;
    for (;;) {
      const index = lines.findIndex((l, i) => i >= from && match(l));
      if (index >= 0) return { line: lines[index]!, index };
      if (child.exitCode !== null) throw new Error(`trunkgate exited (${child.exitCode}):\n${tail()}`);
      if (Date.now() > until) throw new Error(`trunkgate: no such log line within ${ms} ms:\n${tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await waitFor(o.ready, 30_000);
  return { child, lines, waitFor, stop };
}

/**
 * A profiles directory of one `gateway.yaml` with `yaml` in it, removed after the test. It sits in a folder of its
 * own, so what the gateway writes beside it by default (the CDR file in `../cdr/`) goes away with it.
 */
export function profilesDir(t: Pick<TestContext, 'after'>, yaml: string): string {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-profiles-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  writeFileSync(join(dir, 'gateway.yaml'), yaml);
  return dir;
}
