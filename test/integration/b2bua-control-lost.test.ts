import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { answeringUa, callRig, pbxToFar, placeCall, cdrWhere } from './calls-support.js';
import { ua } from '../support/mini-ua.js';
import type { B2buaPolicy } from '../../src/b2bua/index.js';

/** Drops the app's control connection from its own side, as a crash of the socket would: drachtio-srf reconnects. */
function dropControl(srf: unknown): void {
  const servers = (srf as { _app: { client: { mapServer: Map<{ destroy(): void }, unknown> } } })._app.client.mapServer;
  for (const socket of servers.keys()) socket.destroy();
}

test('calls on a lost control connection are recorded as lost and give their call-limit slots back', async (t) => {
  const far = await answeringUa(t);
  const base = pbxToFar(far.port);
  const rig = await callRig(t, (p) => {
    const policy = base(p) as B2buaPolicy & { tenants: Record<string, { maxCalls?: number }> };
    policy.tenants['pbx']!.maxCalls = 1;
    return policy;
  });
  const caller = await ua(t, (msg, self, from) => {
    if (msg.startsWith('BYE ')) self.send(msg.replace(/^BYE [^\r]*/, 'SIP/2.0 200 OK'), from);
  });
  const first = await placeCall(caller, rig.sipPort, '2000');
  assert.match(first.final, /^SIP\/2\.0 200 /);
  assert.equal(rig.app.activeCalls, 1);
  dropControl(rig.app.srf);
  const lost = await cdrWhere(rig, (c) => c['cause'] === 'app-lost');
  assert.equal(lost['status'], 200, 'the connected call\'s record');
  assert.equal(rig.app.activeCalls, 0);
  assert.ok(rig.lines.some((l) => l.level === 40 && /control connection lost: its calls recorded as lost/.test(l.msg)), 'one line naming the loss');
  // The tenant's one call slot is free again once drachtio-srf has reconnected.
  let second = await placeCall(caller, rig.sipPort, '2001');
  for (let i = 0; i < 20 && !/^SIP\/2\.0 200 /.test(second.final); i++) {
    await new Promise((r) => setTimeout(r, 100));
    second = await placeCall(caller, rig.sipPort, `20${10 + i}`);
  }
  assert.match(second.final, /^SIP\/2\.0 200 /, 'a new call connects, not 503 at the call limit');
  assert.equal(rig.cdrs.filter((c) => c['cause'] === 'call-limit').length, 0);
});
