import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configCheck } from '../../src/cli/config-check.js';

// Credentials with no realm answer whoever challenges: `trunkgate config check` says so for each, and only for those.
function profiles(tenants: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-digest-realm-'));
  writeFileSync(join(dir, 'gateway.yaml'), 'gateway:\n  listen:\n    - { transport: udp, host: 127.0.0.1, port: 5060 }\n');
  writeFileSync(join(dir, 'tenants.yaml'), `tenants:\n${tenants}`);
  return dir;
}

function check(dir: string): { status: number; err: string[] } {
  const err: string[] = [];
  const status = configCheck([dir], { out: () => undefined, err: (l) => err.push(l), env: { ITSP_PW: 'x', REG_PW: 'y' } });
  return { status, err };
}

test('config check warns about digest and register credentials without a realm, and not about those with one', (t) => {
  const open = profiles([
    '  itsp:',
    '    sipServer: 127.0.0.1:5090',
    '    digest: { username: trunk-7, passwordEnv: ITSP_PW }',
    '    register: { username: trunk-7, passwordEnv: REG_PW }',
    '',
  ].join('\n'));
  t.after(() => rmSync(open, { recursive: true, force: true }));
  const warned = check(open);
  assert.equal(warned.status, 0, 'a warning, not an error');
  const lines = warned.err.filter((l) => l.includes('[WARN_CONFIG_DIGEST_REALM]'));
  assert.equal(lines.length, 2, warned.err.join('\n'));
  assert.match(lines[0]!, /^warning: .*tenants\.yaml(:\d+)?: tenants\.itsp\.digest\.realm: .*any realm/);
  assert.match(lines[1]!, /tenants\.itsp\.register\.realm: .*any realm/);

  const named = profiles([
    '  itsp:',
    '    sipServer: 127.0.0.1:5090',
    '    digest: { username: trunk-7, realm: itsp.example, passwordEnv: ITSP_PW }',
    '    register: { username: trunk-7, realm: itsp.example, passwordEnv: REG_PW }',
    '',
  ].join('\n'));
  t.after(() => rmSync(named, { recursive: true, force: true }));
  const quiet = check(named);
  assert.equal(quiet.status, 0);
  assert.deepEqual(quiet.err.filter((l) => l.includes('WARN_CONFIG_DIGEST_REALM')), []);
});
