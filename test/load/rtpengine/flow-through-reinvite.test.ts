import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sdpAddresses } from '../../../src/media/index.js';
import { cdrsLogged, startMediaGateway } from '../../support/media-gateway.js';
import { startRtpengine } from '../../support/rtpengine.js';
import { runSipp, startSippUas } from '../../support/sipp.js';

const PBX = '127.0.0.2';
const CARRIER = '127.0.0.3';

const sdp = (dir: string) => `v=0
      o=side 1 [cseq] IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=${dir}`;

const request = (method: string, cseq: number, body?: string) => `<send retrans="500"><![CDATA[
      ${method} ${cseq === 1 ? 'sip:[service]@[remote_ip]:[remote_port]' : '[next_url]'} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport${cseq === 1 ? '' : '\n      [routes]'}
      From: "pbx" <sip:1001@[local_ip]:[local_port]>;tag=[pid]TgA[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>${cseq === 1 ? '' : '[peer_tag_param]'}
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: <sip:1001@[local_ip]:[local_port]>
      Max-Forwards: 70
      ${body ? 'Content-Type: application/sdp\n      Content-Length: [len]\n\n      ' + body : 'Content-Length: 0\n'}
  ]]></send>`;
const ack = (cseq: number) => `<send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "pbx" <sip:1001@[local_ip]:[local_port]>;tag=[pid]TgA[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>`;

const uac = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac call with a hold re-INVITE">
  ${request('INVITE', 1, sdp('sendrecv'))}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  ${ack(1)}
  <pause milliseconds="300"/>
  ${request('INVITE', 2, sdp('sendonly'))}
  <recv response="100" optional="true"/>
  <recv response="200"/>
  ${ack(2)}
  <pause milliseconds="300"/>
  ${request('BYE', 3)}
  <recv response="200" crlf="true"/>
</scenario>
`;

const answer = (dir: string) => `<send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]TgB[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:uas@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=${dir}
  ]]></send>`;

const uas = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas call with a re-INVITE">
  <recv request="INVITE" crlf="true"/>
  ${answer('sendrecv')}
  <recv request="ACK"/>
  <recv request="INVITE"/>
  ${answer('recvonly')}
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
  <timewait milliseconds="1000"/>
</scenario>
`;

/** The SDP bodies of the messages in a sipp -trace_msg log whose first line matches `start`. */
function bodies(log: string, start: RegExp): string[] {
  const startLine = (m: string) => m.split('\n').map((l) => l.trim()).find((l) => /^(SIP\/2\.0 \d{3}|[A-Z]+ sips?:)/.test(l)) ?? '';
  return log.split(/^-{10,}.*$/m).filter((m) => start.test(startLine(m)))
    .map((m) => m.slice(m.indexOf('v=0'))).filter((b) => b.startsWith('v=0'));
}

test('a hold re-INVITE from the PBX in a flow-through call is re-anchored: the carrier and the PBX see only rtpengine\'s address, each side\'s direction kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-reinvite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'uac.xml'), uac);
  writeFileSync(join(dir, 'uas.xml'), uas);
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const far = await startSippUas({ scenario: { file: join(dir, 'uas.xml') }, localIp: CARRIER, extraArgs: ['-trace_msg', '-message_file', join(dir, 'carrier.log')] });
  t.after(() => far.stop());
  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off' } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `${CARRIER}:${far.port}`, media: { mode: 'flow-through', srtp: 'optional' } } },
    rtpengines: [rtpe.ng],
  });
  t.after(() => gw.close());
  const r = await runSipp({
    scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${gw.sipPort}`, localIp: PBX, calls: 1, service: '3001', timeoutSec: 30,
    extraArgs: ['-trace_msg', '-message_file', join(dir, 'pbx.log')],
  });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);
  const farResult = await far.stop();
  assert.equal(farResult.stats.successful, 1, `sipp UAS: ${farResult.errors.slice(0, 1500)}`);
  assert.ok(gw.log.cdrs[0]?.media, 'the call was anchored');

  const carrierLog = readFileSync(join(dir, 'carrier.log'), 'utf8');
  assert.ok(!carrierLog.includes(PBX), 'no PBX address reached the carrier');
  const offers = bodies(carrierLog, /^INVITE /);
  assert.equal(offers.length, 2, 'the carrier got the INVITE and the re-INVITE');
  for (const o of offers) assert.deepEqual(sdpAddresses(o), ['127.0.0.1']);
  assert.match(offers[1]!, /a=sendonly/);

  const pbxLog = readFileSync(join(dir, 'pbx.log'), 'utf8');
  assert.ok(!pbxLog.includes(CARRIER), 'no carrier address reached the PBX');
  const answers = bodies(pbxLog, /^SIP\/2\.0 200/);
  assert.equal(answers.length, 2, 'the PBX got an answer to the INVITE and to the re-INVITE');
  for (const a of answers) assert.deepEqual(sdpAddresses(a), ['127.0.0.1']);
  assert.match(answers[1]!, /a=recvonly/);
});
