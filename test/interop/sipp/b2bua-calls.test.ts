// sipp UAC → gateway (engine + b2bua) → sipp UAS: 1,000 calls over UDP and TCP, and 200 calls with 10% loss on
// both legs, all recovered by retransmissions; no call may fail and no leg may stay up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSipp, startSippUas, type SippTransport } from '../../support/sipp.js';
import { startGateway } from './gateway-under-test.js';

/** uac-call.xml with named transactions, so a late 200 to the INVITE is never taken for the BYE's 200. */
const uacScenario = fileURLToPath(new URL('./scenarios/uac-call.xml', import.meta.url));
/** uas-call.xml whose 180 is never dropped: sipp cannot answer an INVITE retransmission once its 180 and 200 are both lost. */
const uasScenario = fileURLToPath(new URL('./scenarios/uas-call.xml', import.meta.url));

/** sipp's retransmission limits raised to RFC 3261's (Timer B/F = 64·T1), so loss is recovered, not failed. */
const rfcRetrans = ['-max_invite_retrans', '6', '-max_non_invite_retrans', '10', '-max_retrans', '10'];

async function waitLegsDown(stats: () => { legsUp: number; active: number }, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && stats().legsUp > 0) await new Promise((r) => setTimeout(r, 50));
}

for (const [transport, calls, lost] of [['u1', 1000, 0], ['t1', 1000, 0], ['u1', 200, 10]] as Array<[SippTransport, number, number]>) {
  const label = `${calls} calls over ${transport === 'u1' ? 'UDP' : 'TCP'}${lost ? ` with -lost ${lost} on both legs` : ''}`;
  test(`sipp → gateway → sipp: ${label}, 0 failed, no legs left up`, async (t) => {
    const tcp = transport === 't1';
    const uas = await startSippUas({
      scenario: { file: uasScenario }, transport, lost: lost || undefined, extraArgs: lost ? rfcRetrans : undefined,
    });
    t.after(() => uas.stop());
    const gw = await startGateway(`127.0.0.1:${uas.port}${tcp ? ';transport=tcp' : ''}`);
    t.after(() => gw.close());
    const r = await runSipp({
      scenario: { file: uacScenario }, remote: `127.0.0.1:${gw.sipPort}`, transport,
      calls, rate: 200, timeoutSec: lost ? 90 : 30, lost: lost || undefined, extraArgs: lost ? rfcRetrans : undefined,
    });
    // A leg is down when its BYE is answered; under loss a BYE may need every retransmission up to Timer F
    // (64*T1 = 32 s, https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2), so that is the bound there.
    await waitLegsDown(() => gw.b2bua.stats(), lost ? 34_000 : 5000);
    const stats = gw.b2bua.stats();
    assert.equal(r.exitCode, 0, `sipp exit ${r.exitCode}: ${r.errors.slice(0, 1500)}`);
    assert.equal(r.stats.successful, calls);
    assert.equal(r.stats.failed, 0);
    assert.equal(stats.failedTotal, 0, JSON.stringify(stats.failed));
    assert.equal(stats.connected, calls);
    assert.equal(stats.legsUp, 0, 'no legs left up');
    if (lost) assert.ok(r.stats.retransmissions > 0, 'loss was recovered by retransmissions');
  });
}
