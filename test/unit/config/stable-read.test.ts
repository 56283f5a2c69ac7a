// A reload reads the profiles files once no one is writing them: a file written within the last 300 ms, or changed
// while it was read, or a folder whose files come and go, is read again after a wait, and one that never settles
// within 2 s is refused naming the file (ERR_CONFIG_FILE_UNSTABLE). The clock and the waits are injected: no test
// here waits for real.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readConfigDocumentsStable, type StableReadOptions } from '../../../src/config/index.js';

const PEERS = 'dialPeers:\n  - { id: 1, destinationPattern: "^1", tenant: far }\n  - { id: 2, destinationPattern: "^2", tenant: far }\n';
const CUT = PEERS.split('\n').slice(0, 2).join('\n') + '\n';

function folder(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-stable-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A clock `ahead` ms past the wall clock; each wait moves it on and runs `onWait` (a writer's next step). */
function clock(ahead: number, onWait: (n: number) => void = () => {}): Required<Pick<StableReadOptions, 'now' | 'sleep'>> & { waits: number[] } {
  let offset = ahead;
  const waits: number[] = [];
  return {
    waits,
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      waits.push(ms);
      onWait(waits.length);
      offset += ms;
    },
  };
}

test('files left alone for longer than the quiet window are read at once', async (t) => {
  const dir = folder(t, { 'a.yaml': 'gateway: {}\n', 'dial-peers.yaml': PEERS });
  const c = clock(10_000);
  const r = await readConfigDocumentsStable(dir, c);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.documents.map((d) => [d.file, d.text]), [[join(dir, 'a.yaml'), 'gateway: {}\n'], [join(dir, 'dial-peers.yaml'), PEERS]]);
  assert.deepEqual(c.waits, []);
});

test('a file written within the last 300 ms is waited for: the writer finishes it and the whole file is read', async (t) => {
  const dir = folder(t, { 'dial-peers.yaml': CUT });
  const file = join(dir, 'dial-peers.yaml');
  // The wall clock as it is: the file was written just now.
  const c = clock(0, (n) => {
    if (n === 1) writeFileSync(file, PEERS);
  });
  const r = await readConfigDocumentsStable(dir, c);
  assert.deepEqual(r.problems, []);
  assert.equal(r.documents[0]?.text, PEERS, 'not the first lines the writer had put there');
  assert.ok(c.waits.length >= 1 && c.waits[0]! > 0 && c.waits[0]! <= 300, String(c.waits));
});

test('a file rewritten while it is read is read again, and the text read is the one that stays', async (t) => {
  const dir = folder(t, { 'dial-peers.yaml': CUT });
  const file = join(dir, 'dial-peers.yaml');
  const c = clock(10_000);
  let reads = 0;
  const r = await readConfigDocumentsStable(dir, {
    ...c,
    afterRead: (f) => {
      // Between the read and the second look: the writer puts the rest of the file.
      if (f === file && ++reads === 1) writeFileSync(file, PEERS);
    },
  });
  assert.deepEqual(r.problems, []);
  assert.equal(r.documents[0]?.text, PEERS);
  assert.equal(reads, 2);
  assert.equal(c.waits.length, 1);
});

test('a file that keeps changing is refused after 2 s, naming it; the other files are not taken either', async (t) => {
  const dir = folder(t, { 'a.yaml': 'gateway: {}\n', 'dial-peers.yaml': PEERS });
  const file = join(dir, 'dial-peers.yaml');
  const c = clock(10_000);
  let n = 0;
  const r = await readConfigDocumentsStable(dir, { ...c, afterRead: (f) => { if (f === file) writeFileSync(file, `${PEERS}# ${++n}\n`); } });
  assert.deepEqual(r.documents, []);
  assert.deepEqual(r.problems.map((p) => [p.code, p.file]), [['ERR_CONFIG_FILE_UNSTABLE', file]]);
  assert.ok(c.waits.reduce((a, b) => a + b, 0) <= 2_000, 'bounded by the 2 s deadline');
  assert.ok(c.waits.length >= 2, 'tried again before giving up');
});

test('a file that appears or goes away while the folder is read is a change under way: read again', async (t) => {
  const dir = folder(t, { 'a.yaml': 'gateway: {}\n', 'b.yaml': PEERS });
  const c = clock(10_000);
  let first = true;
  const r = await readConfigDocumentsStable(dir, {
    ...c,
    afterRead: (f) => {
      if (first && f === join(dir, 'a.yaml')) {
        first = false;
        unlinkSync(join(dir, 'b.yaml'));
        writeFileSync(join(dir, 'c.yaml'), PEERS);
      }
    },
  });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.documents.map((d) => d.file), [join(dir, 'a.yaml'), join(dir, 'c.yaml')]);
  assert.equal(c.waits.length, 1);
});

test('a clock step or a file from another host (mtime well ahead of now) does not hold the read', async (t) => {
  const dir = folder(t, { 'dial-peers.yaml': PEERS });
  const c = clock(-60_000);
  const r = await readConfigDocumentsStable(dir, c);
  assert.equal(r.documents[0]?.text, PEERS);
  assert.deepEqual(c.waits, []);
  assert.ok(statSync(join(dir, 'dial-peers.yaml')).mtimeMs > c.now());
});

test('what cannot be read is reported as the plain read does: no such folder, no *.yaml, a link that leads nowhere', async (t) => {
  const c = clock(10_000);
  const missing = await readConfigDocumentsStable(join(tmpdir(), 'tg-stable-read-none', 'x'), c);
  assert.deepEqual(missing.problems.map((p) => p.code), ['ERR_CONFIG_READ']);
  const none = await readConfigDocumentsStable(folder(t, { 'notes.txt': 'x' }), c);
  assert.deepEqual(none.problems.map((p) => [p.code, p.message]), [['ERR_CONFIG_READ', 'no *.yaml file in this directory']]);
  const dir = folder(t, { 'a.yaml': 'gateway: {}\n' });
  symlinkSync(join(dir, 'elsewhere', 'b.yaml'), join(dir, 'b.yaml'));
  const dangling = await readConfigDocumentsStable(dir, c);
  assert.deepEqual(dangling.problems.map((p) => [p.code, p.file]), [['ERR_CONFIG_READ', join(dir, 'b.yaml')]]);
  assert.deepEqual(dangling.documents.map((d) => d.file), [join(dir, 'a.yaml')]);
  assert.deepEqual(c.waits, [], 'nothing to wait for: no writer will settle these');
});
