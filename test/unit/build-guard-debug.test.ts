// The build's guard on drachtio-srf's debug lines (scripts/guard-debug.mjs): with the namespace off, a guarded line
// builds none of its text; with DEBUG on, it prints what it printed before; and every such line of the installed
// drachtio-srf is guarded and still compiles.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { Script } from 'node:vm';
import { guardDebugCalls } from '../../scripts/guard-debug.mjs';

const require = createRequire(import.meta.url);
const createDebug = require('debug') as { enable(ns: string): void; disable(): string; log: (...a: unknown[]) => void };

const SAMPLE = `
const debug = require('debug')('tg:sample');
const other = require('debug')('tg:other');
function send(msg) {
  debug(\`send: \${JSON.stringify(msg)} \${count()}\`);
  other('other %s', msg.id);
  notALogger(msg);
  return msg.id;
}
module.exports = { send };
`;

function load(text: string, counter: { built: number }): { send(m: { id: string }): string } {
  const mod = { exports: {} as { send(m: { id: string }): string } };
  const fn = new Function('require', 'module', 'count', 'notALogger', text) as (...a: unknown[]) => void;
  fn(require, mod, () => {
    counter.built++;
    return 'built';
  }, () => undefined);
  return mod.exports;
}

test('a guarded debug line builds no text while its namespace is off, and prints the same line when DEBUG is on', () => {
  const { text, guarded } = guardDebugCalls(SAMPLE);
  assert.equal(guarded, 2, text);
  assert.match(text, /notALogger\(msg\)/);
  const lines: string[] = [];
  const savedLog = createDebug.log;
  const saved = createDebug.disable();
  createDebug.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    const plain = { built: 0 };
    const guardedCount = { built: 0 };
    const before = load(SAMPLE, plain);
    const after = load(text, guardedCount);
    assert.equal(after.send({ id: 'a1' }), 'a1');
    before.send({ id: 'a1' });
    assert.equal(plain.built, 1, 'the unguarded line built its text with the namespace off');
    assert.equal(guardedCount.built, 0, 'the guarded line built its text with the namespace off');
    assert.deepEqual(lines, []);

    createDebug.enable('tg:*');
    after.send({ id: 'b2' });
    const guardedLines = lines.splice(0);
    before.send({ id: 'b2' });
    assert.equal(guardedCount.built, 1);
    assert.equal(guardedLines.length, 2);
    const strip = (l: string) => l.replace(/\s*\+\d+m?s$/, '').replace(/^\S+ /, '');
    assert.deepEqual(guardedLines.map(strip), lines.map(strip));
    assert.match(guardedLines[0]!, /send: \{"id":"b2"\} built/);
  } finally {
    createDebug.log = savedLog;
    createDebug.enable(saved);
  }
});

test("every statement of drachtio-srf that calls a debug logger is guarded, and each file still compiles", () => {
  const dir = join(require.resolve('drachtio-srf/package.json'), '..', 'lib');
  let total = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const source = readFileSync(join(dir, f), 'utf8');
    const { text, guarded } = guardDebugCalls(source);
    total += guarded;
    const unguarded = text.split('\n').filter((l) => /^\s*(debug|debugSocket)\(/.test(l));
    assert.deepEqual(unguarded, [], `${f}: debug lines left unguarded`);
    assert.doesNotThrow(() => new Script(`(function (exports, require, module) {${text}\n})`, { filename: f }), `${f} no longer compiles`);
  }
  assert.ok(total >= 100, `only ${total} debug lines guarded in drachtio-srf`);
});
