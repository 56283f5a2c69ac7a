/**
 * How the gateway writes its log as `npm start` runs it: JSON lines when stdout is not a terminal (a pipe here),
 * readable lines when TRUNKGATE_LOG_FORMAT=pretty, from every thread (main, engine); a bad value stops the start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { freePort } from '../support/sipp.js';
import { productEntry, profilesDir, repoRoot, startTrunkgate } from '../support/trunkgate-process.js';

async function profiles(t: Parameters<typeof profilesDir>[0]): Promise<string> {
  const sipPort = await freePort();
  return profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { enabled: false }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
`);
}

test('TRUNKGATE_LOG_FORMAT=pretty: readable lines from the main and the engine thread, each event code before its message', async (t) => {
  const dir = await profiles(t);
  const p = await startTrunkgate(t, dir, {
    env: { TRUNKGATE_LOG_FORMAT: 'pretty' }, ready: (l) => typeof l.msg === 'string' && l.msg.includes('[EVT_GATEWAY_READY] trunkgate: drachtio control on'),
  });
  const text = p.lines.map((l) => (typeof l === 'object' && l !== null ? l.msg ?? '' : ''));
  assert.ok(!p.lines.some((l) => typeof l === 'object' && l !== null && 'level' in l), 'no JSON log line');
  assert.ok(text.some((m) => /^\[[\d-]+ [\d:.]+\] INFO: \[EVT_LISTENER_UP\] trunkgate: SIP udp listening on 127\.0\.0\.1:\d+$/.test(m)), text.join('\n'));
  assert.ok(text.some((m) => /INFO: engine started$/.test(m)), 'the engine thread writes the same way');
  assert.ok(text.some((m) => /^\s+thread: "engine"$/.test(m)), 'fields go on the lines under the message');
});

test('not a terminal and no setting: JSON lines, each with its code', async (t) => {
  const dir = await profiles(t);
  const p = await startTrunkgate(t, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  assert.ok(p.lines.some((l) => l.code === 'EVT_LISTENER_UP' && l.transport === 'udp'));
  assert.ok(p.lines.some((l) => l.msg === 'engine started' && l.thread === 'engine'));
});

test('a TRUNKGATE_LOG_FORMAT the schema does not know stops the start with the variable named', () => {
  const r = spawnSync(process.execPath, [...productEntry(), 'start', '--profiles', 'profiles'], {
    cwd: repoRoot, env: { ...process.env, TRUNKGATE_LOG_FORMAT: 'fancy' }, encoding: 'utf8', timeout: 30_000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /TRUNKGATE_LOG_FORMAT/);
  assert.match(r.stdout + r.stderr, /ERR_CONFIG_SCHEMA/);
});
