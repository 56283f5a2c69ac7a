// A sipp UAC scenario for a call the far end must refuse: INVITE, then exactly `status` (any other final response
// fails the call), whose Reason header must match `reason` (sipp's ereg with check_it: no match, no success),
// then the ACK of that final response in the INVITE's own transaction (RFC 3261 §17.1.1.3: same branch).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const xmlAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Writes the scenario into `dir` and returns its path (give it to runSipp as `scenario: { file }`). */
export function refusedCallScenario(dir: string, status: number, reason: RegExp): string {
  const path = join(dir, `uac-refused-${status}.xml`);
  writeFileSync(path, `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="trunkgate uac refused ${status}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port];transport=[transport] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]TgR[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="${status}">
    <action>
      <ereg regexp="${xmlAttr(reason.source)}" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port];transport=[transport] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-5];rport
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]TgR[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="reason"/>
</scenario>
`);
  return path;
}
