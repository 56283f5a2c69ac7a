import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { JsonLinesFile } from '../../../src/cdr/index.js';
import { captureLog } from '../b2bua/fake-srf.js';

const DAY = 86_400_000;
/** 2026-12-01T23:59:00Z */
const T0 = Date.UTC(2026, 11, 1, 23, 59, 0);

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-cdr-file-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const lines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

test('JSON-lines file: one line per record; past rotateBytes the file goes aside under its start time and a new one begins', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr', 'cdr.jsonl');
  const clock = new ManualClock(T0 - 60_000);
  const f = new JsonLinesFile({ path, rotateBytes: 200, rotateDaily: false, keep: 10, log: captureLog().log, clock });
  const rec = (n: number) => ({ n, callId: `call-${n}`, pad: 'x'.repeat(40) });
  for (let n = 1; n <= 7; n++) {
    f.write(rec(n));
    clock.advance(1_000);
  }
  await f.close();
  const rotated = readdirSync(join(d, 'cdr')).filter((x) => x !== 'cdr.jsonl').sort();
  // Each line is about 70 bytes: two fit under 200, the third starts a new file.
  assert.deepEqual(rotated, ['cdr-20261201T235800.000Z.jsonl', 'cdr-20261201T235802.000Z.jsonl', 'cdr-20261201T235804.000Z.jsonl']);
  assert.deepEqual(rotated.map((x) => lines(join(d, 'cdr', x)).map((r) => r.n)), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(lines(path).map((r) => r.n), [7]);
  assert.equal(f.stats().rotations, 3);
  assert.equal(f.stats().written, 7);
});

test('JSON-lines file: close() resolves only after a rotated-away file has its last records too', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path, rotateBytes: 0, rotateDaily: true, keep: 10, log: captureLog().log, clock, maxBufferedBytes: 1e9 });
  // The large record waits in the first file's stream behind the small one; the day's rotation ends that stream
  // while it still has 8 MB to write, and the new file gets one small record, which is written long before.
  f.write({ n: 1 });
  f.write({ n: 2, pad: 'x'.repeat(8_000_000) });
  clock.advance(DAY);
  f.write({ n: 3 });
  await f.close();
  const open = readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
  assert.deepEqual(open.filter((p) => p.startsWith(d)), [], 'no file of the folder is still open');
  const rotated = readdirSync(d).filter((x) => x !== 'cdr.jsonl');
  assert.equal(rotated.length, 1, rotated.join(' '));
  assert.deepEqual(lines(join(d, rotated[0]!)).map((r) => r.n), [1, 2]);
  assert.deepEqual(lines(path).map((r) => r.n), [3]);
});

test('JSON-lines file: the first record of a new UTC day rotates, also for a file an earlier run left from yesterday', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  writeFileSync(path, '{"n":0}\n');
  const yesterday = (T0 - DAY) / 1000;
  utimesSync(path, yesterday, yesterday);
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path, rotateBytes: 0, rotateDaily: true, keep: 10, log: captureLog().log, clock, maxBufferedBytes: 1e9 });
  f.write({ n: 1 });
  f.write({ n: 2 });
  clock.advance(60_000); // 2026-12-02T00:00:00Z
  f.write({ n: 3 });
  await f.close();
  const names = readdirSync(d).sort();
  assert.equal(names.length, 3, names.join(' '));
  assert.equal(names[2], 'cdr.jsonl');
  assert.deepEqual(names.slice(0, 2).map((x) => lines(join(d, x)).map((r) => r.n)), [[0], [1, 2]], 'yesterday\'s file alone, then today\'s until midnight');
  assert.match(names[1]!, /^cdr-20261201T235900\.000Z\.jsonl$/);
  assert.deepEqual(lines(path).map((r) => r.n), [3]);
});

test('JSON-lines file: only the newest `keep` rotated files stay, whatever else is in the folder', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  writeFileSync(join(d, 'cdr-notes.txt'), 'kept');
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path, rotateBytes: 10, rotateDaily: false, keep: 2, log: captureLog().log, clock });
  for (let n = 1; n <= 6; n++) {
    f.write({ n });
    clock.advance(1_000);
  }
  await f.close();
  const rotated = readdirSync(d).filter((x) => /^cdr-\d/.test(x)).sort();
  assert.equal(rotated.length, 2);
  assert.deepEqual(rotated.map((x) => lines(join(d, x))[0]!.n), [4, 5], 'the two newest rotated files');
  assert.ok(readdirSync(d).includes('cdr-notes.txt'), 'a file that is not a rotated CDR file is left alone');
  assert.equal(f.stats().pruned, 3);
});

test('JSON-lines file: a path that cannot be created is one ERR_CDR_FILE line a minute and records counted as lost, never a throw; the next open waits a second', async (t) => {
  const d = dir(t);
  writeFileSync(join(d, 'blocker'), 'a file, not a folder');
  const cap = captureLog();
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path: join(d, 'blocker', 'cdr.jsonl'), rotateBytes: 0, rotateDaily: false, keep: 1, log: cap.log, clock });
  f.write({ n: 1 });
  f.write({ n: 2 });
  clock.advance(1_000);
  f.write({ n: 3 });
  await f.close();
  assert.equal(f.stats().lost, 3);
  assert.equal(f.stats().errors, 2, 'one open tried at first, the next only after a second');
  assert.equal(cap.lines.filter((l) => l.code === 'ERR_CDR_FILE').length, 1, 'one line a minute, however many failures');
});

test('JSON-lines file: records waiting for the disk are bounded; past the bound each is counted lost, one ERR_CDR_FILE line, and writing resumes once the disk catches up', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  const cap = captureLog();
  const f = new JsonLinesFile({ path, rotateBytes: 0, rotateDaily: false, keep: 1, log: cap.log, clock: new ManualClock(T0), maxBufferedBytes: 2_000 });
  // Written in one turn of the loop, nothing reaches the disk meanwhile: the stream's buffer is all there is.
  const rec = (n: number) => ({ n, pad: 'x'.repeat(80) });
  for (let n = 1; n <= 100; n++) f.write(rec(n));
  // A record counts as written once the disk took it: the kept ones are those not lost.
  const kept = 100 - f.stats().lost;
  assert.ok(kept >= 15 && kept <= 25, `about 2,000 bytes of records kept: ${kept}`);
  assert.equal(cap.lines.filter((l) => l.code === 'ERR_CDR_FILE').length, 1);
  await f.flush();
  assert.equal(f.stats().written, kept);
  f.write(rec(101));
  await f.close();
  const got = lines(path).map((l) => l['n']);
  assert.equal(got.length, kept + 1, 'what was kept, and the record after the disk caught up');
  assert.equal(got.at(-1), 101);
});

test('JSON-lines file: a rotation whose new file cannot be opened counts the record lost and logs it, never a throw; a second later writing resumes', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  const cap = captureLog();
  const manual = new ManualClock(T0);
  let block = false;
  // Right after the rotation renames the file, a folder takes its name: the new file cannot be opened.
  const clock = {
    now: () => {
      if (block && !existsSync(path)) {
        block = false;
        mkdirSync(path);
      }
      return manual.now();
    },
    setTimeout: (fn: () => void, ms: number) => manual.setTimeout(fn, ms),
  };
  const f = new JsonLinesFile({ path, rotateBytes: 0, rotateDaily: true, keep: 10, log: cap.log, clock });
  f.write({ n: 1 });
  manual.advance(DAY);
  block = true;
  assert.doesNotThrow(() => f.write({ n: 2 }));
  assert.equal(f.stats().rotations, 1);
  assert.equal(f.stats().lost, 1);
  await f.flush();
  assert.equal(f.stats().written, 1);
  assert.ok(cap.lines.some((l) => l.code === 'ERR_CDR_FILE'));
  rmSync(path, { recursive: true });
  manual.advance(1_000);
  f.write({ n: 3 });
  await f.close();
  assert.deepEqual(lines(path).map((r) => r.n), [3]);
});
