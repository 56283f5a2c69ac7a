import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mediaSections, sdpAddresses } from '../../../src/media/index.js';
import { cdrsLogged, startMediaGateway } from '../../support/media-gateway.js';
import { startRtpengine } from '../../support/rtpengine.js';
import { RTP_PACKET_BYTES, uacRtpScenario, writeRtpPcap } from '../../support/rtp-pcap.js';
import { runSipp, startSippUas } from '../../support/sipp.js';

// Each side on its own loopback address: the PBX (sipp UAC) on 127.0.0.2, the carrier (sipp UAS) on 127.0.0.3,
// the gateway and rtpengine on 127.0.0.1. So an address of one side seen by the other is a leak, not a coincidence.
const PBX = '127.0.0.2';
const CARRIER = '127.0.0.3';
const PACKETS = 25;

test('sipp → trunkgate (flow-through) → sipp: RTP both ways through rtpengine, the CDR counts the packets of each leg, and no PBX address reaches the carrier side', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-call-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeRtpPcap(join(dir, 'rtp.pcap'), PACKETS);
  writeFileSync(join(dir, 'uac.xml'), uacRtpScenario(join(dir, 'rtp.pcap')));
  const carrierMessages = join(dir, 'carrier-messages.log');

  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  // The carrier echoes every RTP packet back to where it came from (rtpengine's port for that leg).
  const uas = await startSippUas({
    scenario: { file: 'uas-call.xml' }, localIp: CARRIER,
    extraArgs: ['-rtp_echo', '-trace_msg', '-message_file', carrierMessages],
  });
  t.after(() => uas.stop());

  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `${CARRIER}:${uas.port}`, media: { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } } },
    rtpengines: [rtpe.ng],
  });
  t.after(() => gw.close());
  const log = gw.log;

  const r = await runSipp({ scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${gw.sipPort}`, localIp: PBX, calls: 1, service: '3001', timeoutSec: 30 });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(log, 1);
  const far = await uas.stop();
  assert.equal(far.stats.successful, 1, `sipp UAS: ${far.errors.slice(0, 1500)}`);

  const cdr = log.cdrs[0]!;
  assert.equal(cdr.status, 200);
  const media = cdr.media as { a: { packets: number; bytes: number }; b: { packets: number; bytes: number } } | undefined;
  assert.ok(media, `the CDR has rtpengine's figures: ${JSON.stringify(cdr)}`);
  assert.equal(media.a.packets, PACKETS, 'every packet the PBX sent reached rtpengine');
  assert.equal(media.a.bytes, PACKETS * RTP_PACKET_BYTES);
  assert.equal(media.b.packets, PACKETS, 'the carrier echoed every packet rtpengine relayed to it');
  const counters = gw.b2bua.stats().media;
  assert.deepEqual([counters?.requests.offer, counters?.requests.answer, counters?.requests.delete, counters?.sessionsOpen], [1, 1, 1, 0],
    'the b2bua\'s stats count the call\'s ng requests');

  // Topology: nothing the carrier received names the PBX's address, its SDP names only rtpengine.
  const seen = readFileSync(carrierMessages, 'utf8');
  assert.match(seen, /INVITE sip:/);
  assert.ok(!seen.includes(PBX), `a PBX address reached the carrier:\n${seen.split('\n').filter((l) => l.includes(PBX)).join('\n')}`);
  const invite = seen.slice(seen.indexOf('INVITE sip:'));
  // sipp's message log separates messages with a line of dashes.
  const sdp = invite.slice(invite.indexOf('v=0'), invite.indexOf('-----', invite.indexOf('v=0')));
  assert.deepEqual(sdpAddresses(sdp), ['127.0.0.1']);
  const port = mediaSections(sdp)[0]?.port ?? 0;
  assert.ok(port >= rtpe.portMin && port <= rtpe.portMax, `m= port ${port} is rtpengine's`);
});
