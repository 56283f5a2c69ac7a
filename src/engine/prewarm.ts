import { ManualClock } from '../common/clock.js';
import { collectWarmUpGarbage } from '../common/full-gc.js';
import { runWarmUpModule, type WarmUpResult } from '../common/warm-up-module.js';
import { getHeader, parseMessage, type SipMessage } from '../sip/message/index.js';
import { TransactionLayer } from '../sip/transaction/index.js';
import type { Flow, ListenerInfo, SendTarget, TransportSender } from '../sip/transport/types.js';
import { EngineCore as SipCore } from './core/index.js';
import type { Logger } from '../log/index.js';
import type { EngineErrorCode } from './errors.js';
import type { AppHub, CdrKind, SipFrameMeta } from './types.js';
import {
  FrameDecoder, buildCdrFrame, buildResponse, buildSipFrame, encodeFrame, parseControlMessage, toAppSipCommand,
} from './wire/index.js';

/**
 * Warm-up before the listeners open. A fresh process runs its first calls through code V8 has not compiled yet: at
 * 500 calls/s the first second's INVITE→200 is several times the later seconds' (bench/warm-up.ts). So the engine
 * first runs synthetic calls. In the gateway's engine worker they go end to end through loopback sockets
 * (loopbackWarmUpFrom, below). Otherwise, and when that fails, they go through a throwaway SIP core of its own, built
 * from the same classes as the real one (parser, transaction layer, core, control-protocol frames both ways), with a
 * fake network and a fake app in memory and a manual clock (prewarmEngine). Nothing of either touches the real core
 * or its counters; every call ends, and its timers are run out or its sockets closed, so nothing of it stays.
 */

const LISTENER: ListenerInfo = { id: 'prewarm', protocol: 'udp', address: '127.0.0.1', port: 5060 };
const A_SIDE: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 5060, listenerId: 'prewarm' };
const B_SIDE: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5060, listenerId: 'prewarm' };
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';
const CONN = 'prewarm-app';

export interface PrewarmResult {
  calls: number;
  /** Calls that went all the way through (INVITE, 180, 200, ACK and BYE on both legs). */
  completed: number;
  ms: number;
  /** Dialogs left in the throwaway core afterwards (0 when every call ended). */
  dialogsLeft: number;
  /** The full collection of the throwaway core afterwards (full-gc.ts). */
  gcMs: number;
}

class MemoryNetwork implements TransportSender {
  readonly sent: { data: Buffer; msg: SipMessage }[] = [];
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    const r = parseMessage(data);
    if (r.ok) this.sent.push({ data, msg: r.message });
    return Promise.resolve({ protocol: target.protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: target.address, remotePort: target.port, listenerId: 'prewarm' });
  }
  listeners(): ListenerInfo[] {
    return [LISTENER];
  }
  take(): SipMessage[] {
    return this.sent.splice(0).map((s) => s.msg);
  }
}

class MemoryApp implements AppHub {
  readonly frames: { meta: SipFrameMeta; sip: string }[] = [];
  #n = 0;
  selectApp(): string | undefined {
    return CONN;
  }
  isConnected(connId: string): boolean {
    return connId === CONN;
  }
  sendSip(_connId: string, meta: SipFrameMeta, sip: string): void {
    buildSipFrame(`p${++this.#n}`, meta, sip);
    this.frames.push({ meta, sip });
  }
  reply(_connId: string, appMsgId: string, fields: readonly string[], sip?: string): void {
    buildResponse(`p${++this.#n}`, appMsgId, fields, sip);
  }
  sendCdr(kind: CdrKind, fields: string[], sip: string): void {
    buildCdrFrame(`p${++this.#n}`, kind, fields, sip);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Runs `calls` synthetic B2BUA calls through a throwaway core (see the module comment), then collects that core: it is
 * garbage once the run returns, and collected here it is not collected among the first real calls (full-gc.ts).
 */
export async function prewarmEngine(calls: number): Promise<PrewarmResult> {
  const r = await runCalls(calls);
  return { ...r, gcMs: collectWarmUpGarbage() };
}

async function runCalls(calls: number): Promise<Omit<PrewarmResult, 'gcMs'>> {
  const started = performance.now();
  const clock = new ManualClock(0);
  const net = new MemoryNetwork();
  const app = new MemoryApp();
  const transactions = new TransactionLayer({ transport: net, clock });
  const core = new SipCore({ transactions, transport: net, hub: app, clock });
  const decoder = new FrameDecoder();
  let msgN = 0;
  const fromNet = (text: string, flow: Flow): void => {
    const buf = Buffer.from(text);
    const r = parseMessage(buf);
    if (r.ok) core.onMessage(r.message, buf, flow);
  };
  // What an app writes goes through the frame decoder and the command parser, as on a control connection.
  const fromApp = (sip: string, transactionId = '', dialogId = ''): void => {
    const { frames } = decoder.push(encodeFrame(`a${++msgN}|sip|${transactionId}|${dialogId}\r\n${sip}`));
    for (const payload of frames) {
      const m = parseControlMessage(payload);
      const cmd = m.ok ? toAppSipCommand(CONN, m.value) : undefined;
      if (cmd?.ok) core.onAppSip(cmd.value);
    }
  };
  let completed = 0;
  for (let i = 0; i < calls; i++) {
    if (await oneCall(i, fromNet, fromApp, net, app)) completed++;
    // Timers (retransmissions, Timer D/K/J) run out, so the throwaway tables stay small.
    if (i % 50 === 49) clock.advance(64_000);
  }
  clock.advance(64_000);
  const dialogsLeft = core.stats().dialogs ?? 0;
  transactions.close();
  await core.close?.();
  return { calls, completed, ms: performance.now() - started, dialogsLeft };
}

type FromNet = (text: string, flow: Flow) => void;
type FromApp = (sip: string, transactionId?: string, dialogId?: string) => void;

function copyHeaders(m: SipMessage, toTag?: string): string {
  const out: string[] = [];
  for (const h of m.headers) {
    if (h.name === 'via') out.push(`Via: ${h.value}`);
  }
  const to = getHeader(m, 'to') ?? '';
  out.push(`From: ${getHeader(m, 'from') ?? ''}`, `To: ${toTag && !to.includes(';tag=') ? `${to};tag=${toTag}` : to}`,
    `Call-ID: ${getHeader(m, 'call-id') ?? ''}`, `CSeq: ${getHeader(m, 'cseq') ?? ''}`);
  return out.join('\r\n');
}

/** One call, as a drachtio-srf createB2BUA app and two UDP peers would run it. */
async function oneCall(i: number, fromNet: FromNet, fromApp: FromApp, net: MemoryNetwork, app: MemoryApp): Promise<boolean> {
  const callId = `prewarm-${i}@127.0.0.2`;
  const aTag = `a${i}`;
  const aFrom = `"Caller" <sip:+14155550100@127.0.0.2>;tag=${aTag}`;
  const aTo = '<sip:+14155550199@127.0.0.1>';
  const head = (method: string, seq: number, branch: string, to = aTo): string =>
    `Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-${branch}-${i};rport\r\nMax-Forwards: 70\r\nFrom: ${aFrom}\r\nTo: ${to}\r\n` +
    `Call-ID: ${callId}\r\nCSeq: ${seq} ${method}\r\n`;
  app.frames.length = 0;
  fromNet(`INVITE sip:+14155550199@127.0.0.1:5060 SIP/2.0\r\n${head('INVITE', 1, 'inv')}Contact: <sip:+14155550100@127.0.0.2:5060>\r\n` +
    `User-Agent: prewarm\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`, A_SIDE);
  const aInvite = app.frames.shift();
  if (!aInvite) return false;
  const aTxn = aInvite.meta.transactionId;
  // The app's B leg.
  fromApp(`INVITE sip:+14155550199@127.0.0.3:5060 SIP/2.0\r\nFrom: <sip:+14155550100@localhost>\r\nTo: <sip:+14155550199@127.0.0.3>\r\n` +
    `Contact: <sip:+14155550100@localhost>\r\nContent-Type: application/sdp\r\nX-Trunkgate-Prewarm: ${i}\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
  await tick();
  const bInvite = net.take().find((m) => m.kind === 'request' && m.method === 'INVITE');
  if (!bInvite) return false;
  const bTag = `b${i}`;
  fromNet(`SIP/2.0 100 Trying\r\n${copyHeaders(bInvite)}\r\nContent-Length: 0\r\n\r\n`, B_SIDE);
  fromNet(`SIP/2.0 180 Ringing\r\n${copyHeaders(bInvite, bTag)}\r\nContact: <sip:b@127.0.0.3:5060>\r\nContent-Length: 0\r\n\r\n`, B_SIDE);
  fromApp('SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n', aTxn);
  fromNet(`SIP/2.0 200 OK\r\n${copyHeaders(bInvite, bTag)}\r\nContact: <sip:b@127.0.0.3:5060>\r\nContent-Type: application/sdp\r\n` +
    `Content-Length: ${SDP.length}\r\n\r\n${SDP}`, B_SIDE);
  const bDialog = app.frames.find((f) => f.sip.startsWith('SIP/2.0 200'))?.meta.dialogId;
  if (!bDialog) return false;
  fromApp('ACK sip:b@127.0.0.3:5060 SIP/2.0\r\nContent-Length: 0\r\n\r\n', '', bDialog);
  fromApp(`SIP/2.0 200 OK\r\nContact: <sip:+14155550199@localhost>\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`, aTxn);
  await tick();
  const ok = net.take().find((m) => m.kind === 'response' && m.status === 200);
  const aToTagged = ok ? getHeader(ok, 'to') ?? aTo : aTo;
  fromNet(`ACK sip:+14155550199@127.0.0.1:5060 SIP/2.0\r\n${head('ACK', 1, 'ack', aToTagged)}Content-Length: 0\r\n\r\n`, A_SIDE);
  // The caller hangs up; the app answers it and ends the B leg.
  app.frames.length = 0;
  fromNet(`BYE sip:+14155550199@127.0.0.1:5060 SIP/2.0\r\n${head('BYE', 2, 'bye', aToTagged)}Content-Length: 0\r\n\r\n`, A_SIDE);
  const bye = app.frames.find((f) => f.sip.startsWith('BYE'));
  if (!bye) return false;
  fromApp('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', bye.meta.transactionId);
  fromApp('BYE sip:placeholder SIP/2.0\r\nContent-Length: 0\r\n\r\n', '', bDialog);
  await tick();
  const bBye = net.take().find((m) => m.kind === 'request' && m.method === 'BYE');
  if (!bBye) return false;
  fromNet(`SIP/2.0 200 OK\r\n${copyHeaders(bBye)}\r\nContent-Length: 0\r\n\r\n`, B_SIDE);
  return true;
}

/** A warm-up run in this thread through real loopback sockets (EngineOptions.loopbackWarmUp). */
export type LoopbackWarmUp = (calls: number) => Promise<WarmUpResult>;

/**
 * The warm-up module the composition root names (src/prewarm/b2bua-prewarm.ts, by URL, so the engine imports nothing
 * of the b2bua), run in the engine's thread: the plain b2bua over a throwaway engine, both in this thread, on loopback
 * ephemeral ports. Unlike the in-memory warm-up it also compiles this thread's UDP socket paths and both ends of the
 * control connection; after it, a fresh gateway's first second at 250 calls/s had a p99 INVITE→200 of 9.9–13.1 ms
 * against 15.5–18.7 ms after the in-memory one (bench/warm-up.ts, docs/performance.md).
 */
export function loopbackWarmUpFrom(moduleUrl: string, maxMs: number): LoopbackWarmUp {
  return (calls) => runWarmUpModule(moduleUrl, { calls, kind: 'plain', maxMs });
}

/**
 * Warms this thread before the listeners open: through `loopback` when given, else (or when it fails, logged with
 * ERR_ENGINE_PREWARM) through the throwaway core in memory above.
 */
export async function warmEngineThread(calls: number, loopback: LoopbackWarmUp | undefined, log: Logger): Promise<void> {
  const done = 'engine: hot paths warmed before the listeners open';
  if (loopback) {
    try {
      const w = await loopback(calls);
      log.info({ kind: 'loopback', calls: w.calls, completed: w.completed, ms: Math.round(w.ms), gcMs: Math.round(w.gcMs) }, done);
      return;
    } catch (e) {
      const code: EngineErrorCode = 'ERR_ENGINE_PREWARM';
      log.warn({ code, err: e }, 'engine: the loopback warm-up failed; warming in memory instead');
    }
  }
  const w = await prewarmEngine(calls);
  log.info({ kind: 'memory', calls: w.calls, completed: w.completed, ms: Math.round(w.ms), gcMs: Math.round(w.gcMs) }, done);
}
