import { ManualClock } from '../../src/common/clock.js';
import { EngineCore } from '../../src/engine/core/index.js';
import { edgeGuard } from '../../src/engine/edge-guard.js';
import type { AppHub, CdrKind, SipFrameMeta } from '../../src/engine/types.js';
import { buildCdrFrame, buildResponse, buildSipFrame, parseControlMessage, toAppProxyCommand, toAppSipCommand } from '../../src/engine/wire/index.js';
import { getHeader, parseMessage, tagOf, type SipMessage } from '../../src/sip/message/index.js';
import { TransactionLayer } from '../../src/sip/transaction/index.js';
import type { TransportLayer } from '../../src/sip/transport/index.js';
import type { Flow, ListenerInfo, SendTarget, TransportSender, TransportUser } from '../../src/sip/transport/types.js';
import { srfFrameProblem, srfTextProblem } from '../../test/unit/sip/message/srf-oracle.js';
import { fail, guardAsync } from './guard.js';

/**
 * The engine's SIP core as a state machine, both sides at once: the input is a script of steps, each a SIP message
 * from one of three network peers, a control message from the app, or time passing. `$`-names in a step stand for
 * what the core last said (below), so the fuzzer reaches the states a real call passes through: answers to the
 * engine's own requests, in-dialog requests, the app's replies to transactions it was handed.
 *
 * The network's messages reach the core through the edge guard, as in the engine. What must hold, whatever the
 * script: nothing thrown out of the core, no promise rejected unhandled; every frame
 * the core hands the app, drachtio-srf parses (its SIP parser, its header parsers, the meta line); every reply and
 * CDR with SIP text, the same; every message the core puts on the network, our own parser accepts.
 */

/** Steps are separated by this line start; the byte after it says what the step is (see `step`). */
const SEP = Buffer.from('\n@@');
const MAX_STEPS = 48;
const APP = 'fuzz-app';
const LISTENER: ListenerInfo = { id: 'fuzz', protocol: 'udp', address: '127.0.0.1', port: 5060 };
const PEERS: Record<string, string> = { a: '127.0.0.2', b: '127.0.0.3', c: '127.0.0.4' };

/** What the core last said, for the `$`-names of the next steps. */
interface Seen {
  /**
   * $T: the transaction id of the last request handed to the app, $U of the last frame of any kind; $D: the last
   * dialog id the app was told of, $E the last one on a response handed to it (a B leg's).
   */
  T: string; U: string; D: string; E: string;
  /** $B, $C, $F, $S, $V: branch, Call-ID, From tag, CSeq number and top Via of the last request sent to the network. */
  B: string; C: string; F: string; S: string; V: string;
  /** $G: the To tag of the last response sent to the network. */
  G: string;
  lastRequest?: SipMessage;
}

function problem(where: string, text: string): void {
  const p = srfTextProblem(text);
  if (p) fail(`${where}: drachtio-srf cannot take it: ${p}\n${text}`);
}

class Script implements AppHub, TransportSender {
  readonly seen: Seen = { T: '', U: '', D: '', E: '', B: '', C: '', F: '', S: '', V: '', G: '' };
  #n = 0;
  selectApp(): string | undefined {
    return APP;
  }
  isConnected(connId: string): boolean {
    return connId === APP;
  }
  sendSip(_connId: string, meta: SipFrameMeta, sip: string): void {
    const frame = buildSipFrame(`s${++this.#n}`, meta, sip);
    const p = srfFrameProblem(frame, meta.dialogId, sip);
    if (p) fail(`frame to the app: drachtio-srf cannot take it: ${p}\n${frame}`);
    const response = sip.startsWith('SIP/2.0 ');
    if (meta.transactionId) {
      this.seen.U = meta.transactionId;
      if (!response) this.seen.T = meta.transactionId;
    }
    if (meta.dialogId) {
      this.seen.D = meta.dialogId;
      if (response) this.seen.E = meta.dialogId;
    }
  }
  reply(_connId: string, appMsgId: string, fields: readonly string[], sip?: string): void {
    buildResponse(`s${++this.#n}`, appMsgId, fields, sip);
    if (sip) problem('reply to the app', sip);
    const dialogId = fields[fields.length - 1];
    if (sip && dialogId && fields[0] === 'OK') this.seen.D = dialogId;
  }
  sendCdr(kind: CdrKind, fields: string[], sip: string): void {
    buildCdrFrame(`s${++this.#n}`, kind, fields, sip);
    problem(`cdr:${kind}`, sip);
  }
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    const r = parseMessage(data);
    if (!r.ok) fail(`the core sent what our parser refuses: ${r.code} ${r.reason}\n${data.toString('latin1')}`);
    const m = r.message;
    if (m.kind === 'request') {
      const via = getHeader(m, 'via') ?? '';
      this.seen.V = via;
      this.seen.B = /branch=([^;,\s]+)/i.exec(via)?.[1] ?? '';
      this.seen.C = getHeader(m, 'call-id') ?? '';
      this.seen.F = tagOf(getHeader(m, 'from')) ?? '';
      this.seen.S = /^\s*(\d+)/.exec(getHeader(m, 'cseq') ?? '')?.[1] ?? '';
      this.seen.lastRequest = m;
    } else {
      this.seen.G = tagOf(getHeader(m, 'to')) ?? '';
    }
    return Promise.resolve({ protocol: target.protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: target.address, remotePort: target.port, listenerId: 'fuzz' });
  }
  listeners(): ListenerInfo[] {
    return [LISTENER];
  }
  /** A step's text with its `$`-names filled in from what the core last said. */
  fill(text: string): string {
    return text.replace(/\$([TUDEBCFSVG])/g, (_, k: keyof Seen) => String(this.seen[k] ?? ''));
  }
  /** Headers of an answer to the last request the core sent, with `toTag` on To when it had none. */
  answerHeaders(toTag: string): string {
    const m = this.seen.lastRequest;
    if (!m) return '';
    const out = m.headers.filter((h) => h.name === 'via').map((h) => `Via: ${h.value}`);
    const to = getHeader(m, 'to') ?? '';
    out.push(`From: ${getHeader(m, 'from') ?? ''}`, `To: ${toTag && !/;\s*tag=/i.test(to) ? `${to};tag=${toTag}` : to}`,
      `Call-ID: ${getHeader(m, 'call-id') ?? ''}`, `CSeq: ${getHeader(m, 'cseq') ?? ''}`);
    return out.join('\r\n');
  }
}

function split(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  while (out.length < MAX_STEPS) {
    const at = data.indexOf(SEP, from);
    out.push(data.subarray(from, at < 0 ? data.length : at));
    if (at < 0) break;
    from = at + SEP.length;
  }
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * One step: `a`, `b` or `c` then a line end and a SIP message from that peer; `r<status> <to-tag>` and a line end
 * then more header lines: an answer from peer b to the last request the core sent; `s` then a line end and a control
 * message from the app (`msgId|sip|$T|$D` CRLF SIP text, or `proxy`); `t<ms>`: that much time passes.
 */
function step(s: Script, core: EngineCore, front: TransportUser, clock: ManualClock, raw: Buffer): void {
  if (raw.length === 0) return;
  const nl = raw.indexOf(10);
  const head = raw.subarray(1, nl < 0 ? raw.length : nl).toString('latin1');
  const rest = nl < 0 ? '' : s.fill(raw.subarray(nl + 1).toString('latin1'));
  const op = String.fromCharCode(raw[0]!);
  if (op === 't') {
    clock.advance(Math.min(Number.parseInt(head, 10) || 0, 64_000));
  } else if (op === 'a' || op === 'b' || op === 'c' || op === 'r') {
    const peer = op === 'r' ? 'b' : op;
    const [status = '200', toTag = ''] = head.split(' ');
    const text = op === 'r' ? `SIP/2.0 ${status} X\r\n${s.answerHeaders(toTag)}\r\n${rest}` : rest;
    const buf = Buffer.from(text, 'latin1');
    const r = parseMessage(buf);
    if (!r.ok) return;
    const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: PEERS[peer]!, remotePort: 5060, listenerId: 'fuzz' };
    front.onMessage(r.message, buf, flow);
  } else if (op === 's') {
    const m = parseControlMessage(rest);
    if (!m.ok) return;
    if (m.value.type === 'sip') {
      const cmd = toAppSipCommand(APP, m.value);
      if (cmd.ok) core.onAppSip(cmd.value);
    } else if (m.value.type === 'proxy') {
      const cmd = toAppProxyCommand(APP, m.value);
      if (cmd.ok) core.onAppProxy(cmd.value);
    }
  }
}

let rejected: unknown;
process.on('unhandledRejection', (e) => {
  rejected ??= e;
});

export const fuzz = guardAsync('engine-core', async (data) => {
  rejected = undefined;
  const clock = new ManualClock(0);
  const s = new Script();
  const transactions = new TransactionLayer({ transport: s, clock });
  const core = new EngineCore({ transactions, transport: s, hub: s, clock, lookup: () => Promise.resolve('127.0.0.9') });
  // The network reaches the core through the edge, as in the engine (no trusted-source list, no rate: its stray check).
  const front = edgeGuard(core, {
    transport: s as unknown as TransportLayer, transactions, trust: undefined, rate: undefined, dialogs: core,
    listenerTenant: () => undefined, retryAfterSeconds: 5,
  });
  try {
    for (const raw of split(data)) {
      step(s, core, front, clock, raw);
      await tick();
    }
    // Every timer runs out: retransmissions, the app's answer times, Timer B/F/H, the ACK-timeout BYE.
    for (let i = 0; i < 4; i++) {
      clock.advance(64_000);
      await tick();
    }
  } finally {
    transactions.close();
    core.close();
  }
  await tick();
  if (rejected !== undefined) fail(`a promise was rejected unhandled: ${(rejected as Error)?.stack ?? String(rejected)}`);
});
