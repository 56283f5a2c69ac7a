// Issue 14's done-when call, every part a real program on loopback:
//   sipp (PBX, RTP from a pcap with RTCP sender reports, then an RFC 4733 digit) → UDP → trunkgate (npm start, both
//   tenants flow-through) → TLS → kamailio → TLS → baresip (SRTP mandatory, answers by itself, sends a tone)
// with the media anchored on rtpengine: RTP/AVP towards the PBX, SDES SRTP towards the carrier. Two calls on one
// rig: the first with sipp echoing what it receives (audio both ways, counted), the second without (the digit).
// Each side's own count is the verdict, set against rtpengine's counters (an ng query while the call is up, its
// per-port lines when the call ends) and the CDR's media figures (rtpengine's delete answer).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNgTransport, legTotals, mediaSections, redactSdp } from '../../../src/media/index.js';
import { startBaresip } from '../../support/baresip.js';
import { startKamailio } from '../../support/kamailio.js';
import { ngListCalls, startRtpengine } from '../../support/rtpengine.js';
import { RTP_PACKET_BYTES, uacRtpScenario, writeRtpPcap } from '../../support/rtp-pcap.js';
import { freePort, runSipp } from '../../support/sipp.js';
import { createTestCa, writeTrustpointDir } from '../../support/test-certs.js';
import { profilesDir, startTrunkgate, type LogLine } from '../../support/trunkgate-process.js';
import { traceBodies } from '../../support/media-trace.js';

const AUDIO = 150; // 3 s of PCMA from the PBX
const DTMF_PCAP = '/usr/share/sip-tester/dtmf_2833_1.pcap'; // digit 1: ten telephone-event packets
const DTMF_PACKETS = 10;
const NUMBER = '3001';
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** rtpengine's end-of-call lines, one per port: `Port <local> <> <remote>[ (RTCP)], SSRC x, N p, N b, N e`. */
function rtpPortLines(log: string): Array<{ callId: string; remote: string; rtcp: boolean; packets: number; bytes: number; errors: number }> {
  return [...log.matchAll(/\[([^\]\s]+)\]: \[core\] -+ Port\s+\S+ <>\s+(\S+?)( \(RTCP\))?,\s+SSRC \S+, (\d+) p, (\d+) b, (\d+) e/g)]
    .map((m) => ({ callId: m[1]!, remote: m[2]!, rtcp: m[3] !== undefined, packets: Number(m[4]), bytes: Number(m[5]), errors: Number(m[6]) }));
}

test('sipp → trunkgate → TLS → kamailio → TLS → baresip: audio both ways through rtpengine, SRTP to the carrier and RTP to the PBX, counters and CDR agree, the digit arrives', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-done-when-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeRtpPcap(join(dir, 'audio.pcap'), AUDIO, { senderReportEvery: 50 });
  // The echoed call lasts 12 s: baresip's first RTCP packets do not pass (below), so it needs a few RTCP intervals.
  const scenario = (pauseMs: number) => uacRtpScenario(join(dir, 'audio.pcap'), { dtmf: true, then: { pcap: DTMF_PCAP, afterMs: AUDIO * 20 + 200 }, pauseMs });
  writeFileSync(join(dir, 'echo.xml'), scenario(9000));
  writeFileSync(join(dir, 'dtmf.xml'), scenario(1500));

  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  const carrierCa = await createTestCa({ cn: 'carrier CA' });
  t.after(async () => { await gatewayCa.cleanup(); await carrierCa.cleanup(); });
  const gwCert = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  const sbcCert = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'DNS:localhost'] });
  const phoneCert = await carrierCa.issue({ cn: 'phone.carrier.test', sans: ['DNS:phone.carrier.test', 'IP:127.0.0.1'] });

  // MOS from loss and jitter only (mos=LQ): the PBX's pcap sends sender reports but no reception reports, so rtpengine
  // has no round trip for that leg, without which it keeps none of the phone's reports (MOS-CQ needs both legs').
  const rtpe = await startRtpengine({ extraArgs: ['--mos=LQ'] });
  t.after(() => rtpe.stop());
  const phone = await startBaresip({ certificate: phoneCert.cert, privateKey: phoneCert.key, caList: carrierCa.cert, user: NUMBER });
  t.after(() => phone.stop());
  const kam = await startKamailio({
    listen: [{ proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: sbcCert.cert, privateKey: sbcCert.key, caList: `${gatewayCa.cert}\n${carrierCa.cert}`, requireCertificate: false },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: phone.tlsPort, transport: 'tls' } },
  });
  t.after(() => kam.stop());

  const [sipPort, securePort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const profiles = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  media:
    rtpengines: [{ host: ${rtpe.ng.host}, port: ${rtpe.ng.port} }]
trustpoints:
  gw: { dir: ../pki/gw }
trustStores:
  carriers: ../pki/carrier-ca.pem
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2 }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.2], media: { mode: flow-through, srtp: off, allowedNetworks: [127.0.0.0/8] } }
  carrier:
    transport: tls
    tlsProfile: edge
    listenPortSecure: ${securePort}
    sipServer: localhost:${kam.port('tls')}
    media: { mode: flow-through, srtp: required, suites: [AES_CM_128_HMAC_SHA1_80], allowedNetworks: [127.0.0.0/8] }
dialPeers:
  - { id: to-carrier, destinationPattern: "^3\\\\d{3}$", tenant: carrier, from: [pbx] }
`);
  const root = join(profiles, '..');
  writeTrustpointDir(join(root, 'pki', 'gw'), gwCert, gatewayCa.cert);
  writeFileSync(join(root, 'pki', 'carrier-ca.pem'), carrierCa.cert);
  const gw = await startTrunkgate(t, profiles, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });

  const ng = createNgTransport({ timeoutMs: 2_000 });
  t.after(() => ng.close());
  let calls = 0;
  /** One call from the PBX; with `echo`, sipp sends back every RTP packet it receives (-rtp_echo). */
  const call = async (name: string, echo: boolean) => {
    // rtpengine's own counters while the call is up, once the PBX's audio and digit are through.
    const during = (async () => {
      await sleep(AUDIO * 20 + 1800);
      const [callId] = await ngListCalls(rtpe.ng.host, rtpe.ng.port);
      return callId ? ng.send(rtpe.ng, 'query', { 'call-id': callId }) : undefined;
    })();
    const pbxLog = join(dir, `${name}.log`);
    const r = await runSipp({
      scenario: { file: join(dir, `${name}.xml`) }, remote: `127.0.0.1:${sipPort}`, localIp: '127.0.0.2', calls: 1, service: NUMBER, timeoutSec: 40,
      extraArgs: ['-trace_msg', '-message_file', pbxLog, ...(echo ? ['-rtp_echo'] : [])],
    });
    const diag = (): string => `sipp: ${r.errors.slice(0, 800)}\nkamailio:\n${kam.logs().slice(-1500)}\nbaresip:\n${redactSdp(phone.logs()).slice(-2500)}`;
    assert.equal(r.exitCode, 0, diag());
    calls++;
    await gw.waitFor(() => gw.lines.filter((l: LogLine) => l.msg === 'cdr').length >= calls, 10_000);
    for (let i = 0; i < 40 && phone.summaries().length < calls; i++) await sleep(50);
    const cdr = gw.lines.filter((l) => l.msg === 'cdr')[calls - 1]!.cdr as Record<string, unknown> & { media?: ReturnType<typeof legTotals> };
    const log = readFileSync(pbxLog, 'utf8');
    const callId = /^Call-ID:\s*(\S+)/m.exec(log)?.[1] ?? '';
    const q = await during;
    const ports = rtpPortLines(rtpe.logs()).filter((p) => p.callId === callId);
    assert.equal(cdr.status, 200, JSON.stringify(cdr));
    assert.ok(cdr.media, 'the CDR has rtpengine\'s figures');
    const media = cdr.media;
    // rtpengine's own per-port counters (its log at the end of the call) and the CDR's media figures agree.
    const pbxPort = ports.find((p) => !p.rtcp && p.remote.startsWith('127.0.0.2:'));
    const phonePort = ports.find((p) => !p.rtcp && p.remote.startsWith('127.0.0.1:'));
    assert.deepEqual([pbxPort?.packets, pbxPort?.bytes], [media.a.packets, media.a.bytes], 'PBX leg: rtpengine\'s counters = the CDR\'s');
    assert.deepEqual([phonePort?.packets, phonePort?.bytes, phonePort?.errors], [media.b.packets, media.b.bytes, media.b.errors], 'carrier leg: rtpengine\'s counters = the CDR\'s');
    const aTag = /^From:.*;tag=([^;>\s]+)/m.exec(log)?.[1] ?? '';
    const live = q && legTotals(q, aTag, Object.keys((q.tags ?? {}) as object).find((tag) => tag !== aTag));
    assert.ok(live && live.a.packets >= AUDIO + DTMF_PACKETS && live.a.packets <= media.a.packets, `rtpengine counted the PBX's packets while the call was up: ${live?.a.packets}`);
    assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), [], 'the call\'s rtpengine session is deleted');
    return { media, live, log, diag, phoneRtcp: ports.find((p) => p.rtcp && p.remote.startsWith('127.0.0.1:')), summary: phone.summaries()[calls - 1] };
  };

  // Call 1, sipp echoing: the PBX leg carries its pcap, its digit and the phone's tone sent back, so what rtpengine
  // took from the PBX beyond its own packets is what reached the PBX.
  const first = await call('echo', true);
  const { media } = first;
  // Signalling: over TLS to kamailio and from kamailio to the phone; SDP: RTP/AVP without keys towards the PBX, SDES
  // SRTP in the carrier's suite towards the phone.
  const seen = await kam.waitForRequests((x) => x.some((y) => y.method === 'BYE'));
  assert.ok(seen.filter((x) => x.method === 'INVITE').every((x) => x.proto === 'tls'), 'the INVITE reached kamailio over TLS');
  const [pbxAnswer] = traceBodies(first.log, /^SIP\/2\.0 200/);
  assert.ok(pbxAnswer, 'the PBX got an SDP answer');
  assert.deepEqual(mediaSections(pbxAnswer).map((x) => [x.proto, x.sdes, x.address]), [['RTP/AVP', false, '127.0.0.1']]);
  assert.match(phone.logs(), /SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/, 'the phone secured its audio with the carrier\'s suite');
  const echoed = media.a.packets - (AUDIO + DTMF_PACKETS);
  assert.ok(media.b.packets > 100, `rtpengine received the phone's tone: ${media.b.packets}`);
  assert.ok(echoed > 100 && echoed <= media.b.packets && media.b.packets - echoed <= 10,
    `the PBX received the phone's tone and sent it back: ${echoed} of ${media.b.packets}`);
  assert.equal(media.a.bytes, AUDIO * RTP_PACKET_BYTES + DTMF_PACKETS * 16 + echoed * RTP_PACKET_BYTES, 'bytes from the PBX');
  assert.equal(media.a.errors, 0);
  // SRTP on the carrier leg. The phone's first RTCP packets (counted on both of the leg's ports), and in some runs an
  // RTP packet or two, fail authentication at rtpengine, all within the first seconds (the query at about 5 s saw
  // every one of them); its later SRTCP passes, so rtpengine has the phone's reception reports, which the CDR gives
  // as the carrier leg's loss and jitter, the phone's own final figures beside them.
  assert.ok(first.live && first.live.b.errors === media.b.errors && media.b.errors <= 12, `errors only in the first seconds: ${first.live?.b.errors} then ${media.b.errors}`);
  assert.ok(media.b.rtcpPackets > 0, 'the phone\'s SRTCP reached rtpengine');
  assert.ok(first.summary, `baresip printed its call summary:\n${first.diag()}`);
  assert.equal(media.b.lost, first.summary.lostRx, `the loss the phone reported = its own count: ${first.summary.line}`);
  assert.ok(media.b.jitterMs !== null && Math.abs(media.b.jitterMs - first.summary.jitterRxMs) <= 2, `jitter ${media.b.jitterMs} ms vs the phone's ${first.summary.jitterRxMs}`);
  assert.ok(media.b.mos !== null && media.b.mos >= 1 && media.b.mos <= 4.5, `MOS ${media.b.mos}`);
  // The phone's meter shows audio sent and received.
  const meter = [...phone.logs().matchAll(/audio=(\d+)\/(\d+) \(bit\/s\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(meter.some(([tx, rx]) => tx! > 0 && rx! > 0), 'baresip\'s meter shows audio sent and received');

  // Call 2, no echo (the phone's own tone coming back would interleave with the digit under another SSRC, and
  // baresip 1.0.0 then drops the event): the RFC 4733 digit reaches the phone through the SRTP leg. The pcap's end
  // packet is sent three times with one sequence number; SRTP's replay protection (RFC 3711 §3.3.2) keeps the first.
  const second = await call('dtmf', false);
  assert.equal(second.media.a.packets, AUDIO + DTMF_PACKETS, 'rtpengine took the PBX\'s audio and digit, nothing more');
  // (In the echoed call the PBX leg also carries the phone's SSRC, so the phone's reports show on both legs there.)
  assert.equal(second.media.a.lost, null, 'sipp sends no reception report: no loss or jitter for the PBX leg');
  assert.deepEqual(phone.dtmf(), ['1'], `the phone logged the digit:\n${second.diag()}`);
});
