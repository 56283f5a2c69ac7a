import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cdrsLogged, startMediaGateway } from '../../support/media-gateway.js';
import { startRtpengine } from '../../support/rtpengine.js';
import { ANSWER_200_OK, answer200WithSdp, uacRtpScenario } from '../../support/rtp-pcap.js';
import { runSipp, startSippUas } from '../../support/sipp.js';

// sip-tester ships RFC 4733 captures: dtmf_2833_1.pcap is digit 1, ten telephone-event packets (payload type 101).
const DTMF_PCAP = '/usr/share/sip-tester/dtmf_2833_1.pcap';
const CARRIER = '127.0.0.3';

const uac = uacRtpScenario(DTMF_PCAP, { dtmf: true, pauseMs: 1500 });

/** The carrier answers with a media port of the test's own socket, so the test sees every RTP packet it is sent. */
const uas = (mediaPort: number) => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas call whose media goes to the test">
  <recv request="INVITE" crlf="true"/>
  ${answer200WithSdp(`v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio ${mediaPort} RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16`)}
  <recv request="ACK"/>
  <recv request="BYE"/>
  ${ANSWER_200_OK}
  <timewait milliseconds="500"/>
</scenario>
`;

test('an RFC 4733 digit from the PBX crosses a flow-through call: the carrier receives every telephone-event packet, digit 1, from rtpengine', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-dtmf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const media = createSocket('udp4');
  media.bind(0, CARRIER);
  await once(media, 'listening');
  t.after(() => media.close());
  const events: Array<{ pt: number; event: number; from: string }> = [];
  media.on('message', (pkt, rinfo) => {
    if (pkt.length >= 16 && pkt[0]! >> 6 === 2) events.push({ pt: pkt[1]! & 0x7f, event: pkt[12]!, from: rinfo.address });
  });
  writeFileSync(join(dir, 'uac.xml'), uac);
  writeFileSync(join(dir, 'uas.xml'), uas(media.address().port));

  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const far = await startSippUas({ scenario: { file: join(dir, 'uas.xml') }, localIp: CARRIER });
  t.after(() => far.stop());
  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `${CARRIER}:${far.port}`, media: { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } } },
    rtpengines: [rtpe.ng],
  });
  t.after(() => gw.close());
  const r = await runSipp({ scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${gw.sipPort}`, localIp: '127.0.0.2', calls: 1, service: '3001', timeoutSec: 30 });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);

  const dtmf = events.filter((e) => e.pt === 101);
  assert.equal(dtmf.length, 10, `telephone-event packets at the carrier: ${JSON.stringify(events.slice(0, 12))}`);
  assert.ok(dtmf.every((e) => e.event === 1 && e.from === '127.0.0.1'), 'digit 1, sent by rtpengine');
  const cdrMedia = gw.log.cdrs[0]?.media as { a: { packets: number } } | undefined;
  assert.equal(cdrMedia?.a.packets, 10, 'the CDR counts them as the PBX leg\'s packets');
});
