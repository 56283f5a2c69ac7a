// The harness itself, with no gateway: sipp UAC → sipp UAS on loopback with our scenarios. If this fails,
// a gateway failure in b2bua-calls says nothing about the gateway.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSipp, startSippUas, type SippTransport } from '../support/sipp.js';

for (const transport of ['u1', 't1'] as SippTransport[]) {
  test(`sipp → sipp: 1,000 short calls over ${transport === 'u1' ? 'UDP' : 'TCP'} with 0 failed`, async (t) => {
    const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport });
    t.after(() => uas.stop());
    const r = await runSipp({
      scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${uas.port}`, transport,
      calls: 1000, rate: 500, timeoutSec: 30,
    });
    assert.equal(r.exitCode, 0, `sipp exit ${r.exitCode}: ${r.errors}`);
    assert.equal(r.stats.successful, 1000);
    assert.equal(r.stats.failed, 0);
  });
}
