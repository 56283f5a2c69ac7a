// A flow-through call between two sipps with their messages traced: the PBX (127.0.0.2) calls through the gateway,
// both tenants flow-through on one real rtpengine, to the carrier (127.0.0.3); each side's -trace_msg log is kept so
// a test can read the SDP each side was sent.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startMediaGateway } from './media-gateway.js';
import { startRtpengine } from './rtpengine.js';
import { runSipp, startSippUas, type SippResult } from './sipp.js';

export const PBX = '127.0.0.2';
export const CARRIER = '127.0.0.3';

export interface TracedCall {
  gw: Awaited<ReturnType<typeof startMediaGateway>>;
  rtpe: Awaited<ReturnType<typeof startRtpengine>>;
  uac: SippResult;
  far: { stop(): Promise<SippResult> };
  /** What the PBX and the carrier received and sent, as sipp traced it. */
  pbxLog(): string;
  carrierLog(): string;
}

/** Runs one call of the `uac` scenario against the `uas` scenario through a flow-through gateway. */
export async function tracedFlowThroughCall(t: Pick<TestContext, 'after'>, o: { uac: string; uas: string; timeoutSec?: number }): Promise<TracedCall> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-trace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'uac.xml'), o.uac);
  writeFileSync(join(dir, 'uas.xml'), o.uas);
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const far = await startSippUas({ scenario: { file: join(dir, 'uas.xml') }, localIp: CARRIER, extraArgs: ['-trace_msg', '-message_file', join(dir, 'carrier.log')] });
  t.after(() => far.stop());
  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `${CARRIER}:${far.port}`, media: { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } } },
    rtpengines: [rtpe.ng],
  });
  t.after(() => gw.close());
  const uac = await runSipp({
    scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${gw.sipPort}`, localIp: PBX, calls: 1, service: '3001', timeoutSec: o.timeoutSec ?? 20,
    extraArgs: ['-trace_msg', '-message_file', join(dir, 'pbx.log')],
  });
  return {
    gw, rtpe, uac, far,
    pbxLog: () => readFileSync(join(dir, 'pbx.log'), 'utf8'),
    carrierLog: () => readFileSync(join(dir, 'carrier.log'), 'utf8'),
  };
}

/** The SDP bodies of the messages in a sipp -trace_msg log whose start line matches `start`. */
export function traceBodies(log: string, start: RegExp): string[] {
  const startLine = (m: string) => m.split('\n').map((l) => l.trim()).find((l) => /^(SIP\/2\.0 \d{3}|[A-Z]+ sips?:)/.test(l)) ?? '';
  return log.split(/^-{10,}.*$/m).filter((m) => start.test(startLine(m)))
    .map((m) => m.slice(m.indexOf('v=0'))).filter((b) => b.startsWith('v=0'));
}
