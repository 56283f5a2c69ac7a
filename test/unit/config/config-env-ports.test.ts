// TRUNKGATE_ADMIN_PORT and TRUNKGATE_CONTROL_PORT are the ports the gateway binds: the loader judges them with the
// files, so a port the environment sets on top of a SIP listener is refused at start and by `config check` alike,
// naming the variable, as the same port written in gateway.yaml is.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { configCheck } from '../../../src/cli/config-check.js';
import { parseConfig } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { planStartup } from '../../../src/startup.js';

const GATEWAY = 'gateway:\n  listen: [{ transport: tcp, host: 127.0.0.1, port: 5070 }]\n  admin: { host: 127.0.0.1 }\n';
const parse = (env: Record<string, string>, text = GATEWAY) => parseConfig([{ file: 'gateway.yaml', text }], { env });

function profiles(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-envports-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY);
  return dir;
}

test('an admin port from the environment on a SIP listener\'s port is a listener conflict naming the variable', () => {
  const r = parse({ TRUNKGATE_ADMIN_PORT: '5070' });
  assert.equal(r.ok, false);
  const p = r.ok ? undefined : r.problems[0];
  assert.deepEqual([p?.code, p?.file, p?.path], ['ERR_CONFIG_LISTENER_CONFLICT', 'environment', 'gateway.admin.port']);
  assert.match(p!.message, /TRUNKGATE_ADMIN_PORT/);
  // The same for the control endpoint; a port nothing else uses is taken, and is the one the configuration holds.
  const c = parse({ TRUNKGATE_CONTROL_PORT: '5070' });
  assert.deepEqual(c.ok ? [] : c.problems.map((x) => [x.file, x.path]), [['environment', 'gateway.engine.control.port']]);
  const fine = parse({ TRUNKGATE_ADMIN_PORT: '8181', TRUNKGATE_CONTROL_PORT: '9123' });
  assert.ok(fine.ok, fine.ok ? '' : fine.reason);
  assert.deepEqual([fine.config.gateway.admin.port, fine.config.gateway.engine.mode === 'embedded' && fine.config.gateway.engine.control.port], [8181, 9123]);
  // A bad value is the variable's problem, not a file's.
  const bad = parse({ TRUNKGATE_ADMIN_PORT: 'eighty' });
  assert.deepEqual(bad.ok ? [] : bad.problems.map((x) => [x.file, x.path]), [['environment', 'TRUNKGATE_ADMIN_PORT']]);
});

test('drachtio-server\'s port (engine mode external) is as configured: TRUNKGATE_CONTROL_PORT does not touch it', () => {
  const r = parse({ TRUNKGATE_CONTROL_PORT: '5070' }, `${GATEWAY}  engine: { mode: external, host: 127.0.0.1, port: 9022 }\n`);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.config.gateway.engine.mode === 'external' && r.config.gateway.engine.port, 9022);
});

test('the start and config check refuse the clash alike', (t) => {
  const dir = profiles(t);
  const env = { TRUNKGATE_ADMIN_PORT: '5070' };
  assert.throws(() => planStartup(dir, env, silentLogger()), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_CONFIG_INVALID');
    assert.match(e.message, /environment: gateway\.admin\.port: .*TRUNKGATE_ADMIN_PORT.*\[ERR_CONFIG_LISTENER_CONFLICT\]/);
    return true;
  });
  const err: string[] = [];
  assert.equal(configCheck([dir], { out: () => undefined, err: (l) => err.push(l), env }), 1);
  assert.ok(err.some((l) => /TRUNKGATE_ADMIN_PORT/.test(l) && /ERR_CONFIG_LISTENER_CONFLICT/.test(l)), err.join('\n'));
  assert.equal(configCheck([dir], { out: () => undefined, err: () => undefined, env: {} }), 0);
});
