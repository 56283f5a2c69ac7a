import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mediaPoolStats } from '../../../src/b2bua/index.js';
import { sdpAddresses } from '../../../src/media/index.js';
import { ANSWER_200_OK, answer200WithSdp } from '../../support/rtp-pcap.js';
import { cdrsLogged } from '../../support/media-gateway.js';
import { PBX, traceBodies, tracedFlowThroughCall } from '../../support/media-trace.js';
import { ngListCalls } from '../../support/rtpengine.js';

const sdp = `v=0
      o=side 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000`;
const dialog = (method: string, cseq: number, body?: string) => `<send${method === 'ACK' ? '' : ' retrans="500"'}><![CDATA[
      ${method} ${cseq === 1 && method === 'INVITE' ? 'sip:[service]@[remote_ip]:[remote_port]' : '[next_url]'} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport${method === 'INVITE' ? '' : '\n      [routes]'}
      From: "pbx" <sip:1001@[local_ip]:[local_port]>;tag=[pid]TgA[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>${method === 'INVITE' ? '' : '[peer_tag_param]'}
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: <sip:1001@[local_ip]:[local_port]>
      Max-Forwards: 70
      ${body ? `Content-Type: application/sdp\n      Content-Length: [len]\n\n      ${body}` : 'Content-Length: 0\n'}
  ]]></send>`;

/** The PBX offers nothing in its INVITE and answers in its ACK (RFC 3261 §13.2.1). */
const uac = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac late offer">
  ${dialog('INVITE', 1)}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  ${dialog('ACK', 1, sdp)}
  <pause milliseconds="300"/>
  ${dialog('BYE', 2)}
  <recv response="200" crlf="true"/>
</scenario>
`;
const uas = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas offering in its 200">
  <recv request="INVITE" crlf="true"/>
  ${answer200WithSdp(sdp, { retrans: true })}
  <recv request="ACK"/>
  <recv request="BYE"/>
  ${ANSWER_200_OK}
  <timewait milliseconds="500"/>
</scenario>
`;

test('a late-offer INVITE (no SDP) from the PBX is anchored too: the carrier\'s offer in its 200 and the PBX\'s answer in its ACK each reach the other side with rtpengine\'s address only', async (t) => {
  const { gw, rtpe, uac: r, far, pbxLog, carrierLog: carrierText } = await tracedFlowThroughCall(t, { uac, uas });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  await cdrsLogged(gw.log, 1);
  assert.equal((await far.stop()).stats.successful, 1);

  const toPbx = traceBodies(pbxLog(), /^SIP\/2\.0 200/);
  assert.equal(toPbx.length, 1, 'the PBX got the offer in the 200');
  assert.deepEqual(sdpAddresses(toPbx[0]!), ['127.0.0.1']);
  const carrierLog = carrierText();
  const acks = traceBodies(carrierLog, /^ACK /);
  assert.equal(acks.length, 1, 'the carrier got the answer in the ACK');
  assert.deepEqual(sdpAddresses(acks[0]!), ['127.0.0.1']);
  assert.ok(!carrierLog.includes(PBX), 'no PBX address reached the carrier');
  assert.ok(gw.log.cdrs[0]?.media, 'the call was anchored');
  assert.equal(mediaPoolStats()[0]?.sessionsOpen, 0);
  assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), []);
});
