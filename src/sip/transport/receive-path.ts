import type { RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { parseMessage } from '../message/parse.js';
import type { ParseLimits, ParseResult, SipRequest } from '../message/types.js';
import { buildBadRequest, badRequestPhrase } from './bad-request.js';
import type { BadRequestRate } from './bad-request-rate.js';
import { isCrlfOnly } from './flow-rules.js';
import type { RefusedInputLog } from './input-log.js';
import type { TransportDropCode } from './errors.js';
import type { MessageStages, TransportDrop } from './layer-types.js';
import type { StreamConnection } from './stream-connection.js';
import type { FrameError } from './stream-framer.js';
import type { UdpTransport } from './udp-transport.js';
import { stampTopVia } from './via-stamp.js';
import type { BadRequestCode, BadRequestReport, Flow, TransportUser } from './types.js';

/** How long a stream that sent unframeable bytes stays open for answers to the messages before them. */
const STREAM_ERROR_GRACE_MS = 2_000;

export interface ReceivePathOptions {
  log: Logger;
  refusedLog: RefusedInputLog;
  /** What the parser is given: undefined when the defaults apply, so the hot path allocates nothing for it. */
  parseLimits: ParseLimits | undefined;
  stages: MessageStages | undefined;
  /** The 400s each source may be sent; past it an unparsable request is dropped unanswered. */
  badRequests: BadRequestRate;
  /** The UDP listener a flow came in on, to answer a 400 from it. */
  udpListener(id: string): UdpTransport | undefined;
  /** The layer's events; `drop` is built only when someone listens. */
  emitBadRequest(r: BadRequestReport): void;
  emitDrop(d: TransportDrop): void;
  wantsDrops(): boolean;
  emitPing(flow: Flow): void;
}

/** What the receive path counted since start (the layer adds its own send counters). */
export interface ReceiveCounters {
  datagramsIn: number;
  messagesIn: number;
  bytesIn: number;
  keepalivesIn: number;
  pongsOut: number;
  badRequestsSent: number;
  dropped: number;
  userErrors: number;
  /** 400s sent and their bytes, and those whose send failed. */
  repliesOut: number;
  replyBytesOut: number;
  replyFailures: number;
}

/**
 * The transport's receive side (RFC 3261 §18.2.1 and RFC 3581): every datagram and framed stream message is
 * parsed, its top Via stamped with where it came from, and handed to the layer above; what cannot be used is
 * answered 400 when it can be addressed, else dropped, and counted by stable code either way. Owns those counts.
 */
export class ReceivePath {
  readonly #o: ReceivePathOptions;
  readonly #c: ReceiveCounters = {
    datagramsIn: 0, messagesIn: 0, bytesIn: 0, keepalivesIn: 0, pongsOut: 0, badRequestsSent: 0, dropped: 0,
    userErrors: 0, repliesOut: 0, replyBytesOut: 0, replyFailures: 0,
  };
  /** Input refused (dropped, answered 400, or a connection refused) by stable code. */
  readonly #drops = new Map<string, number>();
  #user: TransportUser | undefined;

  constructor(o: ReceivePathOptions) {
    this.#o = o;
  }

  /** The layer above; messages that arrive before a user is set are dropped and counted. */
  setUser(user: TransportUser): void {
    this.#user = user;
  }

  counters(): Readonly<ReceiveCounters> {
    return this.#c;
  }

  drops(): Record<string, number> {
    return Object.fromEntries(this.#drops);
  }

  /** Counts one refusal under its code (also for connections refused at accept and failed TLS handshakes). */
  count(code: string): void {
    this.#drops.set(code, (this.#drops.get(code) ?? 0) + 1);
  }

  onDatagram(data: Buffer, rinfo: RemoteInfo, udp: UdpTransport): void {
    this.#c.datagramsIn++;
    this.#c.bytesIn += data.length;
    if (isCrlfOnly(data)) {
      // RFC 5626 §4.4.1 keepalives over UDP use STUN; a bare CRLF datagram is the common legacy keepalive.
      this.#c.keepalivesIn++;
      return;
    }
    this.#parse(data, udp.flowFor(rinfo), undefined);
  }

  onFrame(conn: StreamConnection, message: Buffer): void {
    this.#c.bytesIn += message.length;
    this.#parse(message, conn.flow, conn);
  }

  /** An RFC 5626 ping on a stream: answered with its pong. */
  onPing(conn: StreamConnection): void {
    this.#c.keepalivesIn++;
    this.#c.pongsOut++;
    conn.pong();
    this.#o.emitPing(conn.flow);
  }

  /** A stream that cannot be framed: answer 400 when the request can be addressed, then close. */
  onFrameError(conn: StreamConnection, e: FrameError): void {
    let req: SipRequest | undefined;
    if (e.requestLine && e.headerBlock) {
      try {
        const r = parseMessage(e.headerBlock, this.#o.parseLimits);
        req = r.ok ? (r.message.kind === 'request' ? r.message : undefined) : r.partial;
      } catch {
        req = undefined;
      }
    }
    if (req && req.method !== 'ACK' && this.#mayAnswer400(e.code, e.reason, conn.flow)) {
      this.#answer400(req, e.code, e.reason, conn.flow, conn, true);
    } else if (req && req.method !== 'ACK') {
      conn.closeAfterGrace(e.code, STREAM_ERROR_GRACE_MS);
    } else {
      this.drop(e.code, e.reason, conn.flow);
      // Messages framed before the bad bytes are being handled; their answers still get out before the close.
      conn.closeAfterGrace(e.code, STREAM_ERROR_GRACE_MS);
    }
  }

  /** Refuses one message without an answer: counted, logged (rate-limited) and reported on the 'drop' event. */
  drop(code: string, reason: string, flow: Flow): void {
    this.#c.dropped++;
    this.count(code);
    this.#o.refusedLog.refused(code, reason, `${flow.remoteAddress}:${flow.remotePort}`, flow.protocol, `sip message dropped: ${reason}`);
    if (this.#o.wantsDrops()) this.#o.emitDrop({ code, reason, flow });
  }

  #parse(data: Buffer, flow: Flow, conn: StreamConnection | undefined): void {
    try {
      this.#o.stages?.received();
      const parsed = parseMessage(data, this.#o.parseLimits);
      this.#o.stages?.parsed();
      this.#receive(parsed, data, flow, conn);
    } catch (e) {
      this.#failed('ERR_SIP_TRANSPORT_INTERNAL', 'receive path failed', e, flow);
    }
  }

  /**
   * A message lost to a throw: dropped and counted like any refused input, so what a peer can trigger once per
   * message is one warn line per code a minute; the stack goes to debug.
   */
  #failed(code: TransportDropCode, what: string, e: unknown, flow: Flow): void {
    if (this.#o.log.isLevelEnabled('debug')) this.#o.log.debug({ err: e, code }, what);
    this.drop(code, `${what}: ${String((e as Error | undefined)?.message ?? e).slice(0, 200)}`, flow);
  }

  #receive(r: ParseResult, raw: Buffer, flow: Flow, conn: StreamConnection | undefined): void {
    if (r.ok) {
      const m = r.message;
      if (m.kind === 'request' && !stampTopVia(m.headers, flow.remoteAddress, flow.remotePort)) {
        this.drop('ERR_SIP_TRANSPORT_NO_VIA', 'request without a usable top Via', flow);
        return;
      }
      const user = this.#user;
      if (!user) {
        this.drop('ERR_SIP_TRANSPORT_NO_USER', 'no transport user', flow);
        return;
      }
      this.#c.messagesIn++;
      try {
        user.onMessage(m, raw, flow);
      } catch (e) {
        this.#c.userErrors++;
        this.#failed('ERR_SIP_TRANSPORT_USER', 'transport user threw', e, flow);
      }
      return;
    }
    // "If a request is received that cannot be processed ... 400 (Bad Request)" — only when it can be addressed,
    // and never for an ACK, which gets no response.
    // https://www.rfc-editor.org/rfc/rfc3261#section-21.4.1
    if (r.partial && r.partial.method !== 'ACK') {
      if (this.#mayAnswer400(r.code, r.reason, flow)) this.#answer400(r.partial, r.code, r.reason, flow, conn, false);
    } else this.drop(r.code, r.reason, flow);
  }

  /** Whether the source may be sent one more 400; if not, the request is dropped (counted, logged rate-limited). */
  #mayAnswer400(code: string, reason: string, flow: Flow): boolean {
    if (this.#o.badRequests.take(flow.remoteAddress)) return true;
    this.drop('ERR_SIP_TRANSPORT_BAD_REQUEST_RATE', `${code}: ${reason}; the source had its 400s for now`, flow);
    return false;
  }

  #answer400(req: SipRequest, code: BadRequestCode, reason: string, flow: Flow, conn: StreamConnection | undefined, thenClose: boolean): void {
    stampTopVia(req.headers, flow.remoteAddress, flow.remotePort);
    const data = buildBadRequest(req, code, randomBytes(6).toString('hex'), reason);
    this.#c.badRequestsSent++;
    this.count(code);
    this.#o.refusedLog.refused(code, reason, `${flow.remoteAddress}:${flow.remotePort}`, flow.protocol, `sent 400 ${badRequestPhrase(code)}: ${reason}`);
    // With the request as far as it was read: to the layers above, a new INVITE refused here is still a call attempt.
    this.#o.emitBadRequest({ code, reason, flow, request: req });
    let sent: Promise<unknown>;
    if (conn) {
      sent = conn.write(data);
    } else {
      const u = flow.listenerId !== undefined ? this.#o.udpListener(flow.listenerId) : undefined;
      sent = u ? u.send(data, flow.remoteAddress, flow.remotePort) : Promise.resolve();
    }
    this.#c.repliesOut++;
    this.#c.replyBytesOut += data.length;
    sent.then(
      () => {
        if (thenClose) conn?.close(code);
      },
      () => {
        this.#c.replyFailures++;
        conn?.destroy(code);
      },
    );
  }
}
