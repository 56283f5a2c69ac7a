import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sdpAddresses } from '../../../src/media/index.js';
import { ANSWER_200_OK, answer200WithSdp } from '../../support/rtp-pcap.js';
import { cdrsLogged } from '../../support/media-gateway.js';
import { CARRIER, PBX, traceBodies, tracedFlowThroughCall } from '../../support/media-trace.js';


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

/**
 * What a chatty PBX writes: a session name, contact lines and x- attributes naming its host, and an MSRP section
 * rtpengine passes through as it came (it relays RTP and UDPTL over UDP only).
 */
const chatty = (dir: string) => `v=0
      o=pbx-admin 1 [cseq] IN IP4 [local_ip]
      s=PBX pbx01.corp.internal [local_ip]
      i=trunk to [local_ip]
      u=http://[local_ip]/
      e=admin@corp.internal
      c=IN IP4 [media_ip]
      t=0 0
      a=x-pbx-host:[local_ip]
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=x-media-origin:[local_ip]
      a=${dir}
      m=message 7000 TCP/MSRP *
      c=IN IP4 [local_ip]
      a=path:msrp://[local_ip]:7000/abc;tcp`;

const uacWith = (body: (dir: string) => string) => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac call with a hold re-INVITE">
  ${request('INVITE', 1, body('sendrecv'))}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  ${ack(1)}
  <pause milliseconds="300"/>
  ${request('INVITE', 2, body('sendonly'))}
  <recv response="100" optional="true"/>
  <recv response="200"/>
  ${ack(2)}
  <pause milliseconds="300"/>
  ${request('BYE', 3)}
  <recv response="200" crlf="true"/>
</scenario>
`;
const uac = uacWith(sdp);

/** The carrier's answer; `msrp`: with the second section of the chatty offer rejected. */
const answer = (dir: string, msrp = false): string => answer200WithSdp(`v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=${dir}${msrp ? '\n      m=message 0 TCP/MSRP *' : ''}`);

const uasWith = (msrp: boolean) => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas call with a re-INVITE">
  <recv request="INVITE" crlf="true"/>
  ${answer('sendrecv', msrp)}
  <recv request="ACK"/>
  <recv request="INVITE"/>
  ${answer('recvonly', msrp)}
  <recv request="ACK"/>
  <recv request="BYE"/>
  ${ANSWER_200_OK}
  <timewait milliseconds="1000"/>
</scenario>
`;
const uas = uasWith(false);

test('a hold re-INVITE from the PBX in a flow-through call is re-anchored: the carrier and the PBX see only rtpengine\'s address, each side\'s direction kept', async (t) => {
  const { gw, uac: r, far, pbxLog: pbxText, carrierLog: carrierText } = await tracedFlowThroughCall(t, { uac, uas, timeoutSec: 30 });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);
  const farResult = await far.stop();
  assert.equal(farResult.stats.successful, 1, `sipp UAS: ${farResult.errors.slice(0, 1500)}`);
  assert.ok(gw.log.cdrs[0]?.media, 'the call was anchored');

  const carrierLog = carrierText();
  assert.ok(!carrierLog.includes(PBX), 'no PBX address reached the carrier');
  const offers = traceBodies(carrierLog, /^INVITE /);
  assert.equal(offers.length, 2, 'the carrier got the INVITE and the re-INVITE');
  for (const o of offers) assert.deepEqual(sdpAddresses(o), ['127.0.0.1']);
  assert.match(offers[1]!, /a=sendonly/);

  const pbxLog = pbxText();
  assert.ok(!pbxLog.includes(CARRIER), 'no carrier address reached the PBX');
  const answers = traceBodies(pbxLog, /^SIP\/2\.0 200/);
  assert.equal(answers.length, 2, 'the PBX got an answer to the INVITE and to the re-INVITE');
  for (const a of answers) assert.deepEqual(sdpAddresses(a), ['127.0.0.1']);
  assert.match(answers[1]!, /a=recvonly/);
});

test('a chatty PBX\'s INVITE and re-INVITE reach the carrier through rtpengine with no name or address of the PBX: session name reset, contact lines and x- attributes gone, the MSRP section disabled', async (t) => {
  const { gw, uac: r, far, carrierLog } = await tracedFlowThroughCall(t, { uac: uacWith(chatty), uas: uasWith(true), timeoutSec: 30 });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);
  assert.equal((await far.stop()).stats.successful, 1);
  const offers = traceBodies(carrierLog(), /^INVITE /);
  assert.equal(offers.length, 2);
  for (const o of offers) {
    assert.deepEqual([o.includes(PBX), /corp\.internal|pbx-admin|x-pbx-host|x-media-origin|msrp:|^[iue]=/m.test(o)], [false, false], o);
    assert.match(o, /^s=-\r?$/m);
    assert.match(o, /^m=message 0 TCP\/MSRP \*\r?$/m);
    assert.deepEqual(sdpAddresses(o).filter((a) => a !== '0.0.0.0'), ['127.0.0.1']);
  }
});
