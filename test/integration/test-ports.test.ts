// The tests' port picker (test/support/port-picker.mjs), across processes: test files run in parallel, and a port
// one of them found free must not be handed to another before the first binds it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PICKER = fileURLToPath(new URL('../support/port-picker.mjs', import.meta.url));
const RESERVE_DIR = join(tmpdir(), 'trunkgate-test-ports');

interface Child {
  ports: Promise<number[]>;
  /** Lets the child exit (and release its reservations); resolves when it has. */
  release(): Promise<void>;
}

/**
 * A picker in a child process from `start`: it makes `count` calls (`pick`, a call on the picker's exports) and holds
 * what they returned until released.
 */
function pickInChild(start: number, count: number, pick = 'freePort()'): Child {
  const code = `const p = await import(${JSON.stringify(PICKER)}); const out = [];
for (let i = 0; i < ${count}; i++) out.push(await p.${pick});
process.stdout.write(JSON.stringify(out) + '\\n'); process.stdin.resume();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, TRUNKGATE_TEST_PORT_START: String(start) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ports = new Promise<number[]>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.endsWith('\n')) resolve(JSON.parse(out) as number[]);
    });
    void exited.then((c) => reject(new Error(`picker exited ${c} before it answered: ${err}`)));
  });
  return {
    ports,
    release: async () => {
      child.stdin.end();
      const c = await exited;
      assert.equal(c, 0, `picker exit ${c}: ${err}`);
    },
  };
}

/** Starts the pickers together, waits until every one has answered, then releases them all. */
async function pickTogether<T extends Child[]>(...children: T): Promise<{ [K in keyof T]: number[] }> {
  try {
    return (await Promise.all(children.map((c) => c.ports))) as { [K in keyof T]: number[] };
  } finally {
    await Promise.all(children.map((c) => c.release()));
  }
}

test('two test processes picking from the same start at the same time never get the same port', async () => {
  const start = 21_000 + (process.pid % 4_000);
  const [a, b] = await pickTogether(pickInChild(start, 60), pickInChild(start, 60));
  assert.equal(a.length, 60);
  assert.equal(b.length, 60);
  const shared = a.filter((p) => b.includes(p));
  assert.deepEqual(shared, [], `ports handed to both: ${shared.join(', ')}`);
  // Each child released its ports when it exited.
  assert.deepEqual([...a, ...b].filter((p) => existsSync(join(RESERVE_DIR, String(p)))), []);
});

test("sipp's four media ports are never shared with another process's ports either", async () => {
  const start = 25_000 + (process.pid % 4_000);
  const [media, plain] = await pickTogether(pickInChild(start, 15, 'freeMediaPort()'), pickInChild(start, 60));
  const mediaPorts = media.flatMap((base) => [base, base + 1, base + 2, base + 3]);
  assert.deepEqual(mediaPorts.filter((p) => plain.includes(p)), []);
});

test("a media range (rtpengine's, baresip's) is never shared with another process's ports, and starts even", async () => {
  const start = 23_000 + (process.pid % 2_000);
  const [blocks, plain] = await pickTogether(pickInChild(start, 3, 'freeUdpBlock(63)'), pickInChild(start, 80));
  assert.equal(blocks.length, 3);
  assert.deepEqual(blocks.filter((b) => b % 2 !== 0), [], `odd bases: ${blocks.join(', ')}`);
  const ranges = blocks.flatMap((base) => Array.from({ length: 63 }, (_, k) => base + k));
  assert.equal(new Set(ranges).size, 3 * 63, 'the three ranges overlap');
  assert.deepEqual(ranges.filter((p) => plain.includes(p)), []);
});

test('a reservation left by a process that is gone is reclaimed; one held by a live process is not', async (t) => {
  const start = 29_000 + (process.pid % 2_000);
  mkdirSync(RESERVE_DIR, { recursive: true });
  const old = new Date(Date.now() - 5 * 60_000);
  // A pid above Linux's largest pid_max (2^22) is never a live process; this process's own pid always is.
  const dead = join(RESERVE_DIR, String(start + 1));
  const live = join(RESERVE_DIR, String(start + 2));
  writeFileSync(dead, '4194305');
  writeFileSync(live, String(process.pid));
  t.after(() => rmSync(live, { force: true }));
  utimesSync(dead, old, old);
  utimesSync(live, old, old);
  const [picked] = await pickTogether(pickInChild(start, 3));
  assert.ok(picked.includes(start + 1), `the dead process's port ${start + 1} was handed out again: ${picked.join(', ')}`);
  assert.ok(!picked.includes(start + 2), `the live process's port ${start + 2} was handed out: ${picked.join(', ')}`);
  assert.ok(existsSync(live));
});

test('a port picked after a large media range comes from past it: the range is not spent as tries', async () => {
  // From this start the block's base lies 10 below the picker's position, so the next 390 candidates of freePort
  // are ports of the block this process reserved already; counted as tries, they used up all 200.
  const start = 24_010 + 400 * (process.pid % 10);
  const [[offset]] = await pickTogether(pickInChild(start, 1, 'freeUdpBlock(400).then((b) => p.freePort().then((q) => q - b))'));
  assert.ok(offset !== undefined && offset >= 400, `the port came ${offset} above the block's base`);
});
