import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ANSWER_200_OK, pbxInviteThenAck } from '../../support/rtp-pcap.js';
import { cdrsLogged, startMediaGateway } from '../../support/media-gateway.js';
import { startRtpengine } from '../../support/rtpengine.js';
import { runSipp, startSippUas } from '../../support/sipp.js';

/** A caller that sends no media and waits for the gateway's BYE. */
const uac = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac call without media, ended by the far side">
${pbxInviteThenAck()}
  <recv request="BYE">
    <action>
      <ereg regexp="No media for [0-9]+ s" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/>
    </action>
  </recv>
  ${ANSWER_200_OK}
  <Reference variables="reason"/>
</scenario>
`;

test('gateway.media.rtpTimeoutSeconds: an anchored call on which rtpengine receives no media is ended with BYE and a Reason on both legs, CDR cause media-timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-timeout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'uac.xml'), uac);
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const far = await startSippUas({ scenario: { file: 'uas-call.xml' }, localIp: '127.0.0.3' });
  t.after(() => far.stop());
  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `127.0.0.3:${far.port}`, media: { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } } },
    rtpengines: [rtpe.ng],
    rtpTimeoutMs: 2_000,
  });
  t.after(() => gw.close());
  const r = await runSipp({ scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${gw.sipPort}`, localIp: '127.0.0.2', calls: 1, service: '3001', timeoutSec: 20 });
  assert.equal(r.exitCode, 0, `sipp UAC (the BYE with its Reason): ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);
  const farResult = await far.stop();
  assert.equal(farResult.stats.successful, 1, 'the carrier got its BYE too');
  const cdr = gw.log.cdrs[0]!;
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy], [200, 'media-timeout', 'gateway']);
  assert.match(String(cdr.reason), /No media for \d+ s/);
});
