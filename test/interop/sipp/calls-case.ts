// One sipp-to-sipp call run through the gateway's policy pipeline, checked at both ends: the UAC's verdict, the
// UAS's verdict (each of its calls ends with the BYE it received and answered, so the far end saw every B leg
// torn down), the b2bua's counters and one CDR per call naming the pipeline's tenants and dial peer.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROUTE, startGateway } from '../../support/gateway-under-test.js';
import { runSipp, startSippUas, type SippTransport } from '../../support/sipp.js';

/** uac-call.xml with named transactions, so a late 200 to the INVITE is never taken for the BYE's 200. */
const uacScenario = fileURLToPath(new URL('./scenarios/uac-call.xml', import.meta.url));
/** uas-call.xml whose 180 is never dropped: sipp cannot answer an INVITE retransmission once its 180 and 200 are both lost. */
const uasScenario = fileURLToPath(new URL('./scenarios/uas-call.xml', import.meta.url));

/** sipp's retransmission limits raised to RFC 3261's (Timer B/F = 64·T1), so loss is recovered, not failed. */
const rfcRetrans = ['-max_invite_retrans', '6', '-max_non_invite_retrans', '10', '-max_retrans', '10'];

/** Polls a condition every 50 ms until it holds or `ms` has passed; the caller asserts what it found. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !cond()) await new Promise((r) => setTimeout(r, 50));
}

export function callsLabel(transport: SippTransport, calls: number, lost: number): string {
  return `sipp → gateway (policy pipeline) → sipp: ${calls} calls over ${transport === 'u1' ? 'UDP' : 'TCP'}${lost ? ` with -lost ${lost} on both legs` : ''}, ` +
    '0 failed at either end, every B leg released by a BYE the far end answered, one CDR per call';
}

export async function callsCase(t: TestContext, transport: SippTransport, calls: number, lost: number, rate = 200): Promise<void> {
  const tcp = transport === 't1';
  const uas = await startSippUas({
    scenario: { file: uasScenario }, transport, lost: lost || undefined, extraArgs: lost ? rfcRetrans : undefined,
  });
  t.after(() => uas.stop());
  const gw = await startGateway(`127.0.0.1:${uas.port}`, tcp ? 'tcp' : 'udp');
  t.after(() => gw.close());
  const r = await runSipp({
    scenario: { file: uacScenario }, remote: `127.0.0.1:${gw.sipPort}`, transport,
    calls, rate, timeoutSec: lost ? 90 : 30, lost: lost || undefined, extraArgs: lost ? rfcRetrans : undefined,
  });
  // A leg is down when its BYE is answered; under loss a BYE may need every retransmission up to Timer F
  // (64*T1 = 32 s, https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2), so that is the bound there.
  await until(() => gw.b2bua.stats().legsUp === 0 && gw.log.cdrs.length >= calls, lost ? 34_000 : 5000);
  const stats = gw.b2bua.stats();
  assert.equal(r.exitCode, 0, `sipp exit ${r.exitCode}: ${r.errors.slice(0, 1500)}`);
  assert.equal(r.stats.successful, calls);
  assert.equal(r.stats.failed, 0);
  // The far end's own verdict: a UAS call is successful only once the BYE came and was answered and its 4 s timewait
  // (uas-call.xml) is over. Under loss the last B-leg BYE may complete just now, so the UAS is given that timewait
  // and its next counter dump before it is stopped: stopping it sooner would leave that call uncounted.
  await until(() => uas.liveStats().successful >= calls, lost ? 7_000 : 0);
  const far = await uas.stop();
  assert.equal(far.stats.successful, calls, `UAS: ${far.errors.slice(0, 1500)}`);
  assert.equal(far.stats.failed, 0, `UAS: ${far.errors.slice(0, 1500)}`);
  assert.equal(stats.failedTotal, 0, JSON.stringify(stats.failed));
  assert.equal(stats.connected, calls);
  assert.equal(stats.legsUp, 0, 'no legs left up');
  assert.equal(gw.log.cdrs.length, calls, 'one CDR per call');
  const routes = new Set(gw.log.cdrs.map((c) => `${c.tenantIn} ${c.dialPeer} ${c.tenantOut}`));
  assert.deepEqual([...routes], [`${ROUTE.tenantIn} ${ROUTE.dialPeer} ${ROUTE.tenantOut}`], 'every call ran the pipeline');
  if (lost) assert.ok(r.stats.retransmissions > 0, 'loss was recovered by retransmissions');
}
