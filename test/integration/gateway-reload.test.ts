// The product's own entry (src/main.ts, as `npm start` runs it) reloads its configuration on SIGHUP and on
// `trunkgate reload` (the CLI asks the admin API): a dial peer added to profiles/ routes the next call; a bad file
// is refused, the CLI prints each problem and exits 1, and the running routing goes on. A reload of permissions,
// tlsPeers or unknownPeer changes the next call; one that leaves no dial peer warns and every call gets 404 with a
// Reason; a change that needs a restart is reported by every reload until the restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sdp, ua, type Ua } from '../support/mini-ua.js';
import { startSippGatewayRig } from '../support/sipp-gateway-rig.js';
import { freePort, runSipp } from '../support/sipp.js';
import { productEntry, repoRoot } from '../support/trunkgate-process.js';

const TOKEN = { env: 'RELOAD_TEST_TOKEN', value: 'cli-token' };

/** `trunkgate reload …` as a user runs it; exit status and output. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [...productEntry(), 'reload', ...args], {
    cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((ok) => child.once('exit', (code) => {
    clearTimeout(timer);
    ok({ code, out, err });
  }));
}

let seq = 0;
async function invite(uac: Ua, sipPort: number, number: string): Promise<string> {
  const n = ++seq;
  const callId = `reload-${process.pid}-${n}`;
  uac.send([`INVITE sip:${number}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKrl${n};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${uac.port}>;tag=rl${n}`, `To: <sip:${number}@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  const res = await uac.next(new RegExp(`^SIP/2\\.0 [3-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  return /^SIP\/2\.0 (\d{3})/.exec(res)![1]!;
}

test('npm start reloads its configuration on SIGHUP and on `trunkgate reload`; a bad file is refused with its problems and the old routing goes on', async (t) => {
  const peersYaml = (extra: string): string => `
dialPeers:
  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
${extra}`;
  const { gw, dir: root, env, sipPort } = await startSippGatewayRig(t, { token: TOKEN, files: { 'dial-peers.yaml': peersYaml('') } });
  const peers = (extra: string) => writeFileSync(join(root, 'dial-peers.yaml'), peersYaml(extra));
  const uac = await ua(t);
  assert.equal(await invite(uac, sipPort, '3001'), '404', 'no dial peer for 3xxx yet');

  // SIGHUP: a dial peer for 3xxx; the next call completes end to end (sipp ↔ sipp).
  peers('  - { id: 3, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }');
  const mark = gw.lines.length;
  gw.child.kill('SIGHUP');
  const reloaded = await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: configuration reloaded'), 10_000, mark);
  assert.equal(reloaded.line.trigger, 'signal');
  assert.deepEqual(reloaded.line.applied, ['routing']);
  const call = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 1, timeoutSec: 20 });
  assert.equal(call.exitCode, 0, call.errors || call.stderr);

  // The CLI without the token is turned away by the admin API.
  const noToken = await cli(['--profiles', root], {});
  assert.equal(noToken.code, 2, noToken.err);
  assert.match(noToken.err, /HTTP 401/);

  // A bad file through the CLI: exit 1, each problem printed with file and path; the gateway logs them too.
  peers(`  - { id: 3, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
  - { id: 4, destinationPattern: "^4\\\\d{3}$", tenant: nowhere }`);
  const markBad = gw.lines.length;
  const bad = await cli(['--profiles', root], env);
  assert.equal(bad.code, 1, `${bad.out}\n${bad.err}`);
  assert.match(bad.err, /dial-peers\.yaml:\d+: dialPeers\[2\]\.tenant: .*nowhere.* \[ERR_CONFIG_REFERENCE\]/);
  assert.match(bad.err, /reload refused/);
  await gw.waitFor((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.includes('configuration reload refused'), 5_000, markBad);
  const still = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3002', calls: 1, timeoutSec: 20 });
  assert.equal(still.exitCode, 0, still.errors || still.stderr);

  // A good file through the CLI: exit 0, and it says what changed; 3xxx is gone again.
  peers('');
  const good = await cli(['--profiles', root], env);
  assert.equal(good.code, 0, `${good.out}\n${good.err}`);
  assert.match(good.out, /configuration reloaded: changed dialPeers; applied: routing/);
  assert.equal(await invite(uac, sipPort, '3003'), '404');
});

/** The final answer to an INVITE, whole (status line and headers). */
async function inviteAnswer(uac: Ua, sipPort: number, number: string): Promise<string> {
  const n = ++seq;
  const callId = `reload-${process.pid}-${n}`;
  uac.send([`INVITE sip:${number}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKra${n};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${uac.port}>;tag=ra${n}`, `To: <sip:${number}@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  return uac.next(new RegExp(`^SIP/2\\.0 [3-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
}

test('a reload applies permission changes to the next call, an emptied dial-peer list refuses every call with 404 and a Reason (and says so), and a change waiting for a restart stays reported', async (t) => {
  const otherPort = await freePort();
  const twoDigits = 'dialPeers:\n  - { id: 2, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }\n';
  const { dir: root, sipPort, admin, writeGateway } = await startSippGatewayRig(t, {
    token: TOKEN, farServer: '127.0.0.1:9', files: { 'policy.yaml': twoDigits },
  });
  const gatewayYaml = (port: number, pbx = ''): void => writeGateway({ port, pbx });
  const policy = (text: string) => writeFileSync(join(root, 'policy.yaml'), text);
  const reloadApi = async (): Promise<{ status: number; body: Record<string, unknown> }> => admin<Record<string, unknown>>('/reload/config', 'POST');
  const uac = await ua(t);
  // The far end (port 9, discard) never answers a call that passes the policy: the gateway's own refusals are
  // what this test reads, and they come before any B leg.
  const blocked = `permissions:\n  blocked2: { patterns: ["^2\\\\d{3}$"], default: false, order: 0 }\n`;

  // A new category that forbids 2xxx: the next call is refused by the permission check, not routed.
  policy(twoDigits + blocked);
  const perm = await reloadApi();
  assert.equal(perm.status, 200, JSON.stringify(perm.body));
  assert.deepEqual(perm.body.applied, ['routing']);
  assert.ok((perm.body.changed as string[]).includes('permissions'), JSON.stringify(perm.body));
  assert.match(await inviteAnswer(uac, sipPort, '2001'), /^SIP\/2\.0 403 /);

  // A TLS peer added: the routing is rebuilt with it (its calls need a certificate, which UDP has not).
  policy(`${twoDigits}${blocked}tlsPeers:\n  pbx.example.com: { permissions: { blocked2: true } }\n`);
  const peers = await reloadApi();
  assert.equal(peers.status, 200, JSON.stringify(peers.body));
  assert.deepEqual(peers.body.changed, ['tlsPeers']);
  assert.deepEqual(peers.body.applied, ['routing']);

  // unknownPeer: reject on the caller's tenant: a caller with no matching TLS peer is now refused before the category.
  gatewayYaml(sipPort, ', unknownPeer: reject');
  const strict = await reloadApi();
  assert.deepEqual(strict.body.applied, ['routing'], JSON.stringify(strict.body));
  const unknown = await inviteAnswer(uac, sipPort, '2001');
  assert.match(unknown, /^SIP\/2\.0 403 /);
  assert.match(unknown, /^Reason: SIP;cause=403;text="No matching TLS Peer/im, 'refused as an unknown peer, not by the category');
  gatewayYaml(sipPort);
  assert.deepEqual((await reloadApi()).body.applied, ['routing']);

  // No dial peer at all: the reload is accepted, warns, and every call gets 404 with a Reason, never a bridge.
  policy('dialPeers: []\n');
  const empty = await reloadApi();
  assert.equal(empty.status, 200, JSON.stringify(empty.body));
  assert.deepEqual((empty.body.warnings as Array<{ code: string }>).map((w) => w.code), ['WARN_NO_DIAL_PEERS']);
  const refused = await inviteAnswer(uac, sipPort, '2001');
  assert.match(refused, /^SIP\/2\.0 404 /);
  assert.match(refused, /^Reason: SIP;cause=404;text="No route: no dial peer for 2001 from tenant pbx"/im);

  // A listener change needs a restart; a later reload that changes something else still reports it.
  gatewayYaml(otherPort);
  const moved = await reloadApi();
  assert.deepEqual((moved.body.needsRestart as Array<{ what: string }>).map((n) => n.what), ['listeners']);
  policy(twoDigits);
  const later = await reloadApi();
  assert.equal(later.status, 200, JSON.stringify(later.body));
  assert.deepEqual(later.body.applied, ['routing']);
  assert.deepEqual((later.body.needsRestart as Array<{ what: string }>).map((n) => n.what), ['listeners'],
    'the listener change is still waiting for a restart');
  // And putting the listener back as started clears it.
  gatewayYaml(sipPort);
  const back = await reloadApi();
  assert.deepEqual(back.body.needsRestart, []);
});
