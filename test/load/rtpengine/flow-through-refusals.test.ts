import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mediaPoolStats } from '../../../src/b2bua/index.js';
import { startFakeNgServer } from '../../support/fake-ng-server.js';
import { cdrsLogged, startMediaGateway } from '../../support/media-gateway.js';
import { refusedCallScenario } from '../../support/refused-call-scenario.js';
import { runSipp, startSippUas } from '../../support/sipp.js';

test('flow-through with its only rtpengine dead: the caller gets 503 with a Reason, counted, one log line for two calls, and no B leg is placed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-503-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dead = await startFakeNgServer('hold');
  t.after(() => dead.close());
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `127.0.0.1:${uas.port}` } },
    rtpengines: [dead.address],
    timeoutMs: 300,
  });
  t.after(() => gw.close());
  const scenario = refusedCallScenario(dir, 503, /No media relay available/);
  for (let i = 0; i < 2; i++) {
    const r = await runSipp({ scenario: { file: scenario }, remote: `127.0.0.1:${gw.sipPort}`, calls: 1, timeoutSec: 20 });
    assert.equal(r.exitCode, 0, `sipp: ${r.errors.slice(0, 1500)}`);
  }
  await cdrsLogged(gw.log, 2);
  assert.deepEqual(gw.log.cdrs.map((c) => [c.status, c.cause, c.releasedBy]), [[503, 'media-unavailable', 'gateway'], [503, 'media-unavailable', 'gateway']]);
  const far = await uas.stop();
  assert.equal(far.stats.created, 0, 'no INVITE reached the called side');
  const [stats] = mediaPoolStats();
  assert.equal(stats?.failures.unavailable, 2);
  assert.equal(stats?.failures.timeout, 1, 'the dead instance was tried once, then skipped');
  assert.equal(gw.log.lines.filter((l) => l.msg.startsWith('media: no rtpengine instance took a new call')).length, 1);
});

test('a carrier tenant with srtp: required refuses a plain-RTP offer from it with 488 and a Reason, before rtpengine is asked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-488-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ng = await startFakeNgServer('ok');
  t.after(() => ng.close());
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const gw = await startMediaGateway({
    calling: { name: 'carrier', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'required', suites: ['AES_CM_128_HMAC_SHA1_80'], allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'pbx', policy: { transport: 'udp', sipServer: `127.0.0.1:${uas.port}`, media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    rtpengines: [ng.address],
  });
  t.after(() => gw.close());
  const r = await runSipp({
    scenario: { file: refusedCallScenario(dir, 488, /SRTP \(SDES\) required on tenant carrier/) }, remote: `127.0.0.1:${gw.sipPort}`, calls: 1, timeoutSec: 20,
  });
  assert.equal(r.exitCode, 0, `sipp: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);
  assert.deepEqual([gw.log.cdrs[0]?.status, gw.log.cdrs[0]?.cause], [488, 'srtp']);
  assert.equal(ng.count('offer'), 0);
  assert.equal((await uas.stop()).stats.created, 0);
});
