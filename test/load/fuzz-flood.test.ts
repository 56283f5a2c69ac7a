// 200,000 mutated SIP messages against trunkgate started as `npm start` starts it: each is a message of the fuzz
// corpus (fuzz/corpus/sip-parser, seeded from RFC 4475/5118 and real traces) with random bytes flipped, inserted,
// dropped or the message cut short, sent over UDP from the trusted PBX address so that what parses reaches the call
// policy. The process's RSS, sampled four times a second, stays within twice its idle level; the log stays pino
// JSON; and a sipp run of 20 calls goes through afterwards.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSipp, startSippUas } from '../support/sipp.js';
import { repoRoot } from '../support/trunkgate-process.js';
import { quietRss, rig, rssBytes, sleep } from './hostile-rig.js';

/** A small seeded generator (mulberry32): the same run every time. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(seed: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(seed);
  const edits = 1 + Math.floor(rnd() * 4);
  let out = b;
  for (let e = 0; e < edits && out.length > 0; e++) {
    const at = Math.floor(rnd() * out.length);
    const kind = Math.floor(rnd() * 4);
    if (kind === 0) out[at] = Math.floor(rnd() * 256);
    else if (kind === 1) out = Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), out.subarray(at)]);
    else if (kind === 2) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else out = out.subarray(0, Math.max(1, at));
  }
  return out;
}

test('200,000 mutated messages from a trusted source: RSS within twice its idle level, JSON logs, calls after', { timeout: 300_000 }, async (t) => {
  const dir = join(repoRoot, 'fuzz/corpus/sip-parser');
  const seeds = readdirSync(dir).map((f) => readFileSync(join(dir, f))).filter((b) => b.length > 0 && b.length < 60_000);
  assert.ok(seeds.length >= 20, `the corpus has ${seeds.length} messages`);
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport: 't1' });
  t.after(() => uas.stop());
  const r = await rig(t, uas.port);
  const pid = r.p.child.pid!;
  const call = (calls: number) => runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${r.sipPort}`, calls, rate: 20, service: '3000', timeoutSec: 60 });
  assert.equal((await call(20)).stats.successful, 20, 'calls before');
  const idle = await quietRss(pid, 10_000);

  const s = createSocket({ type: 'udp4' });
  s.on('message', () => undefined);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  const rnd = prng(0x5eed);
  const logFrom = r.p.lines.length;
  let peak = rssBytes(pid);
  const total = 200_000;
  let sent = 0;
  const started = Date.now();
  let lastSample = 0;
  while (sent < total) {
    // 200 a 10 ms slice: 20,000 a second.
    for (let k = 0; k < 200 && sent < total; k++, sent++) s.send(mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd), r.sipPort, '127.0.0.1');
    await sleep(10);
    if (Date.now() - lastSample >= 250) {
      lastSample = Date.now();
      peak = Math.max(peak, rssBytes(pid));
    }
  }
  const elapsed = Date.now() - started;
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    peak = Math.max(peak, rssBytes(pid));
  }
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const lines = r.p.lines.slice(logFrom);
  t.diagnostic(`${sent} mutated messages in ${elapsed} ms; RSS idle ${mib(idle)} MiB, peak ${mib(peak)} MiB (${(peak / idle).toFixed(2)}×); ${lines.length} log lines`);
  assert.ok(peak <= 2 * idle, `RSS peaked at ${mib(peak)} MiB, more than twice the idle ${mib(idle)} MiB`);
  assert.deepEqual(lines.filter((l) => typeof l.level !== 'number').slice(0, 3), [], 'every line on stdout is pino JSON');
  assert.ok(lines.length < 2_000, `${lines.length} log lines for ${sent} bad messages`);
  const after = await call(20);
  assert.equal(after.stats.successful, 20, `calls after: ${after.errors}`);
});
