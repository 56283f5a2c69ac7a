// The JSON-lines file when its path stops naming the file being written (deleted, renamed away by logrotate
// without copytruncate, replaced), and when the disk refuses the writes: a record is counted written only once the
// disk took it, and the file is created again at its path.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { JsonLinesFile } from '../../../src/cdr/index.js';
import { captureLog } from '../b2bua/fake-srf.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-cdr-file-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const ns = (file: string): unknown[] =>
  readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { n: unknown }).n);

test('JSON-lines file: deleted while running, it is created again at its path within a second, with one ERR_CDR_FILE_GONE line', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  const cap = captureLog();
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path, rotateBytes: 0, rotateDaily: false, keep: 3, log: cap.log, clock });
  f.start();
  f.write({ n: 1 });
  await f.flush();
  unlinkSync(path);
  clock.advance(1_000);
  for (let n = 2; n <= 5; n++) f.write({ n });
  await f.close();
  assert.deepEqual(ns(path), [2, 3, 4, 5]);
  const gone = cap.lines.filter((l) => l.code === 'ERR_CDR_FILE_GONE');
  assert.equal(gone.length, 1);
  assert.equal(gone[0]!.found, 'nothing');
  assert.deepEqual([f.stats().written, f.stats().lost, f.stats().errors], [5, 0, 1]);
});

test('JSON-lines file: a rotation (by size or by day) finds the deleted file first and opens a new one instead of failing on it', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  const cap = captureLog();
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path, rotateBytes: 100, rotateDaily: true, keep: 10, log: cap.log, clock });
  f.write({ n: 1 });
  await f.flush();
  unlinkSync(path);
  // The same instant: the once-a-second check is not due, the rotation past 100 bytes makes it.
  for (let n = 2; n <= 6; n++) f.write({ n, pad: 'x'.repeat(20) });
  clock.advance(2 * DAY);
  f.write({ n: 7 });
  await f.close();
  const all = readdirSync(d).sort().flatMap((x) => ns(join(d, x)));
  // 2 and 3 went into the deleted file (80 bytes); 4 would pass 100, and the rotation found the file gone.
  assert.deepEqual(all.sort(), [4, 5, 6, 7]);
  assert.ok(existsSync(path));
  assert.equal(cap.lines.filter((l) => l.code === 'ERR_CDR_FILE').length, 0, 'no "cannot rotate" line');
  assert.equal(cap.lines.filter((l) => l.code === 'ERR_CDR_FILE_GONE').length, 1);
});

test('JSON-lines file: renamed away (logrotate without copytruncate), the old records stay in the renamed file and the later ones go to a new file; a file put in its place is written to', async (t) => {
  const d = dir(t);
  const path = join(d, 'cdr.jsonl');
  const cap = captureLog();
  const clock = new ManualClock(T0);
  const f = new JsonLinesFile({ path, rotateBytes: 0, rotateDaily: false, keep: 3, log: cap.log, clock });
  f.write({ n: 1 });
  await f.flush();
  renameSync(path, `${path}.1`);
  clock.advance(1_000);
  f.write({ n: 2 });
  await f.flush();
  assert.deepEqual(ns(`${path}.1`), [1]);
  assert.deepEqual(ns(path), [2]);
  // logrotate's `create`: the new file comes first and takes the name (a minute on: the line is once a minute).
  renameSync(path, `${path}.2`);
  writeFileSync(path, '');
  clock.advance(60_000);
  f.write({ n: 3 });
  await f.close();
  assert.deepEqual(ns(`${path}.2`), [2]);
  assert.deepEqual(ns(path), [3]);
  assert.deepEqual(cap.lines.filter((l) => l.code === 'ERR_CDR_FILE_GONE').map((l) => l.found), ['nothing', 'another file']);
});

test('JSON-lines file: records the disk refuses (ENOSPC) are counted lost, not written, and the failure line says how many', async (t) => {
  if (!existsSync('/dev/full')) return t.skip('no /dev/full here');
  const cap = captureLog();
  const f = new JsonLinesFile({ path: '/dev/full', rotateBytes: 0, rotateDaily: false, keep: 1, log: cap.log, clock: new ManualClock(T0) });
  for (let n = 0; n < 50; n++) f.write({ n, pad: 'x'.repeat(100) });
  await f.flush();
  await f.close();
  assert.deepEqual([f.stats().written, f.stats().lost], [0, 50]);
  const failed = cap.lines.filter((l) => l.code === 'ERR_CDR_FILE');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.lost, 50);
});
