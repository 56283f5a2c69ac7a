import { systemClock, type Clock } from '../../common/clock.js';
import { SlotMap } from '../../common/slot-map.js';
import { errorCodeOf } from '../../common/gateway-error.js';
import type { Logger } from '../../log/logger.js';
import { RateLimitedLog } from '../../log/rate-limited-log.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.js';
import { ownString } from '../message/own-string.js';
import type { Flow, SendTarget, TransportSender } from '../transport/types.js';
import { buildCancel } from './build-cancel.js';
import { cancelFromInviteSource } from './cancel-source.js';
import { TransactionError } from './errors.js';
import { DEFAULT_MAX_WAITING, FinalWaits } from './final-waits.js';
import { Invite2xxRetransmitter } from './invite-2xx-retransmitter.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { cseqOf, serializeMessage as serialize, toTagOf, topViaOf as topVia } from '../message/index.js';
import { MAGIC_COOKIE, newBranch } from './new-branch.js';
import { ackKey, clientKey, serverKey } from './transaction-keys.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import type { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { resolveTimerSettings } from './timers.js';
import type { TransactionContext } from './transaction-context.js';
import { OVER_LIMIT_REASON, OVER_LIMIT_RETRY_AFTER_S, TransactionReceiver } from './transaction-receiver.js';
import type { Respond2xxOptions, TransactionLayerOptions } from './transaction-layer-options.js';
import type {
  ClientTransaction, ClientTransactionUser, SendRequestOptions, ServerTransaction, TimerSettings, TransactionCounters, TransactionKind, TransactionStats,
  TransactionUser,
} from './types.js';

export type { Respond2xxOptions, TransactionLayerOptions } from './transaction-layer-options.js';

type ClientTxn = InviteClientTransaction | NonInviteClientTransaction;
type ServerTxn = InviteServerTransaction | NonInviteServerTransaction;

const kinds: TransactionKind[] = ['ict', 'nict', 'ist', 'nist'];
const zeroPerKind = (): Record<TransactionKind, number> => ({ ict: 0, nict: 0, ist: 0, nist: 0 });

/**
 * The RFC 3261 §17 transaction layer: creates the four kinds of transaction, matches incoming messages to them
 * (§17.1.3, §17.2.3) and hands the rest to the TU.
 */
export class TransactionLayer {
  readonly #transport: TransportSender;
  readonly #clock: Clock;
  readonly #settings: TimerSettings;
  readonly #log: Logger | undefined;
  readonly #max: number;
  #retryAfterSeconds = OVER_LIMIT_RETRY_AFTER_S;
  readonly #ctx: TransactionContext;
  readonly #stats: TransactionCounters = {
    created: zeroPerKind(), live: zeroPerKind(), retransmissionsSent: 0, retransmissionsAbsorbed: 0, timeouts: 0,
    transportErrors: 0, rejectedOverLimit: 0, strayResponses: 0, badRequestsDropped: 0, lateResponsesDiscarded: 0, userErrors: 0,
  };
  readonly #clients = new SlotMap<string, ClientTxn>();
  readonly #servers = new SlotMap<string, ServerTxn>();
  readonly #awaitingAck = new SlotMap<string, Invite2xxRetransmitter>();
  readonly #waits: FinalWaits;
  readonly #rx: TransactionReceiver;
  #tu: TransactionUser | undefined;
  #closed = false;
  /** The layer's warn lines (the cap's, and its transactions' through their context): one per code per 10 s; counters exact. */
  readonly #lines: RateLimitedLog | undefined;

  constructor(opts: TransactionLayerOptions) {
    this.#transport = opts.transport;
    this.#clock = opts.clock ?? systemClock;
    this.#settings = resolveTimerSettings(opts.timers);
    this.#log = opts.log;
    this.#max = opts.maxTransactions ?? 50_000;
    this.#lines = this.#log ? new RateLimitedLog(this.#log, this.#clock, { intervalMs: 10_000, perCode: 1 }) : undefined;
    const waits = new FinalWaits(opts.maxWaiting ?? DEFAULT_MAX_WAITING, this.#clock, this.#log);
    this.#waits = waits;
    this.#ctx = {
      transport: this.#transport,
      clock: this.#clock,
      settings: this.#settings,
      stats: this.#stats,
      log: this.#log,
      lines: this.#lines,
      tu: () => this.#tu,
      waiting: (txn, ms) => waits.add(txn, ms),
      terminated: (kind, key, txn) => {
        waits.delete(txn);
        const map: Map<string, object> = kind === 'ict' || kind === 'nict' ? this.#clients : this.#servers;
        if (map.get(key) === txn) map.delete(key);
        this.#stats.live[kind]--;
      },
    };
    this.#rx = new TransactionReceiver({
      ctx: this.#ctx, clients: this.#clients, servers: this.#servers, awaitingAck: this.#awaitingAck,
      autoTrying: opts.autoTrying ?? true,
      atCap: () => this.#liveTotal() >= this.#max,
      retryAfterSeconds: () => this.#retryAfterSeconds,
      overLimit: (request, flow) => {
        this.#overLimitLine();
        opts.onRefusedAtCap?.(request, flow, OVER_LIMIT_REASON);
      },
      sendStateless: (message, target) => this.sendStateless(message, target),
    });
  }

  /** Retry-After of the 503 past the cap on transactions at work (the engine's gateway.limits.retryAfterSeconds, reloadable). */
  setRetryAfterSeconds(seconds: number): void {
    this.#retryAfterSeconds = seconds;
  }

  #overLimitLine(): void {
    this.#lines?.line('warn', 'ERR_SIP_TRANSACTION_LIMIT', { max: this.#max, rejected: this.#stats.rejectedOverLimit },
      `${this.#max} transactions at work: new requests are refused (503 in, ERR_SIP_TRANSACTION_LIMIT out)`);
  }

  /** The timer settings in force (defaults filled in). */
  get timerSettings(): Readonly<TimerSettings> {
    return this.#settings;
  }

  setUser(tu: TransactionUser): void {
    this.#tu = tu;
  }

  /** A new branch for a request's top Via (magic cookie + 96 random bits). */
  newBranch(): string {
    return newBranch();
  }

  /**
   * Starts a client transaction for `request`, which already carries its top Via with a `z9hG4bK` branch.
   * Throws TransactionError ERR_SIP_TRANSACTION_BAD_REQUEST (ACK, no branch, CSeq mismatch, branch in use),
   * ERR_SIP_TRANSACTION_LIMIT or ERR_SIP_TRANSACTION_CLOSED.
   */
  sendRequest(request: SipRequest, { target, user }: SendRequestOptions): InviteClientTransaction | NonInviteClientTransaction {
    if (this.#closed) throw new TransactionError('ERR_SIP_TRANSACTION_CLOSED', 'the transaction layer is closed');
    if (request.method === 'ACK') {
      // "The ACK for a 2xx response [...] is not considered part of the transaction" (§17); send it with sendStateless.
      throw new TransactionError('ERR_SIP_TRANSACTION_BAD_REQUEST', 'an ACK does not start a client transaction');
    }
    const branch = topVia(request)?.params.branch;
    const cseq = cseqOf(request);
    if (!branch || !branch.startsWith(MAGIC_COOKIE)) {
      throw new TransactionError('ERR_SIP_TRANSACTION_BAD_REQUEST', 'the top Via needs a branch starting with z9hG4bK');
    }
    if (!cseq || cseq.method !== request.method) {
      throw new TransactionError('ERR_SIP_TRANSACTION_BAD_REQUEST', 'the CSeq method must equal the request method');
    }
    const key = ownString(clientKey(branch, request.method));
    if (this.#clients.has(key)) throw new TransactionError('ERR_SIP_TRANSACTION_BAD_REQUEST', 'a client transaction already uses this branch');
    if (this.#liveTotal() >= this.#max) {
      this.#stats.rejectedOverLimit++;
      this.#overLimitLine();
      throw new TransactionError('ERR_SIP_TRANSACTION_LIMIT', 'too many live transactions', { details: { max: this.#max } });
    }
    const txn = request.method === 'INVITE'
      ? new InviteClientTransaction(this.#ctx, key, request, target, user)
      : new NonInviteClientTransaction(this.#ctx, key, request, target, user);
    this.#clients.set(key, txn);
    this.#stats.created[txn.kind]++;
    this.#stats.live[txn.kind]++;
    txn.start();
    return txn;
  }

  /**
   * Cancels an INVITE this layer sent (§9.1): builds the CANCEL and sends it on its own non-INVITE client transaction
   * where the INVITE went, on its connection. "If no provisional response has been received, the CANCEL request MUST
   * NOT be sent; rather, the client MUST wait for the arrival of a provisional response before sending the
   * request." So: 'sent' (Proceeding), 'pending' (Calling: sent on the first provisional, dropped if a final
   * response or Timer B comes first), 'too-late' (a final response was received: nothing sent).
   * https://www.rfc-editor.org/rfc/rfc3261#section-9.1
   */
  cancel(invite: ClientTransaction, user: ClientTransactionUser): 'sent' | 'pending' | 'too-late' {
    // "a CANCEL request SHOULD NOT be sent to cancel a request other than INVITE."
    if (!(invite instanceof InviteClientTransaction)) throw new TypeError('cancel needs an INVITE client transaction');
    if (invite.state !== 'Calling' && invite.state !== 'Proceeding') return 'too-late';
    const send = () => {
      if (this.#closed) return;
      try {
        this.sendRequest(buildCancel(invite.request), { target: invite.sentTarget, user });
        invite.cancelSent();
      } catch (err) {
        this.#lines?.line('warn', 'ERR_SIP_TRANSACTION_CANCEL_NOT_SENT', { cause: errorCodeOf(err), reason: (err as Error).message, transaction: invite.id }, 'CANCEL not sent');
      }
    };
    const now = invite.state === 'Proceeding';
    invite.whenProceeding(send);
    return now ? 'sent' : 'pending';
  }

  /** Sends a message outside any transaction (the ACK for a 2xx, §13.2.2.4; stateless replies). */
  async sendStateless(message: SipMessage, target: SendTarget): Promise<Flow> {
    try {
      return await this.#transport.send(serialize(message), target);
    } catch (err) {
      this.#stats.transportErrors++;
      throw new TransactionError('ERR_SIP_TRANSACTION_TRANSPORT', 'the transport failed to send', { cause: err });
    }
  }

  /**
   * Sends a 2xx to an INVITE through its server transaction and keeps re-sending the same bytes until the ACK
   * arrives (RFC 3261 §13.3.1.4, RFC 6026 §8.1); UDP only, TCP/TLS send once and wait. The layer stops the
   * retransmission itself when an ACK with the INVITE's Call-ID, CSeq number and From tag, and the 2xx's To tag,
   * arrives (every ACK for a 2xx still goes to `onAck`).
   */
  respond2xx(txn: ServerTransaction, response: SipResponse, opts: Respond2xxOptions): Invite2xxRetransmitter {
    if (!(txn instanceof InviteServerTransaction)) throw new TypeError('respond2xx needs an INVITE server transaction');
    if (response.status < 200 || response.status > 299) throw new RangeError('respond2xx needs a 2xx response');
    // The key first: past its 2xx the transaction no longer holds the INVITE.
    const ack = ackKey(txn.request, toTagOf(response));
    const key = ack === undefined ? undefined : ownString(ack);
    txn.respond(response);
    const bytes = txn.takeAcceptedBytes();
    const target = txn.target;
    const r = new Invite2xxRetransmitter({
      clock: this.#clock,
      timers: this.#settings,
      reliable: txn.reliable,
      retransmit: () => {
        if (!bytes) return;
        this.#stats.retransmissionsSent++;
        this.#transport.send(bytes, target).catch(() => void this.#stats.transportErrors++);
      },
      onTimeout: () => {
        this.#stats.timeouts++;
        opts.onTimeout();
      },
      onEnd: () => {
        if (key !== undefined && this.#awaitingAck.get(key) === r) this.#awaitingAck.delete(key);
      },
    });
    if (key !== undefined) {
      this.#awaitingAck.get(key)?.stop();
      this.#awaitingAck.set(key, r);
    }
    return r.start();
  }

  /**
   * The INVITE server transaction a CANCEL refers to (§9.2: matched as §17.2.3 with the method INVITE). Given the
   * flow the CANCEL came on, one from elsewhere than the INVITE matches nothing (cancel-source.ts).
   */
  findInviteServerTransaction(cancel: SipRequest, from?: Flow): InviteServerTransaction | undefined {
    const via = topVia(cancel);
    const cseq = cseqOf(cancel);
    if (!via || !cseq) return undefined;
    const t = this.#servers.get(serverKey(cancel, via, cseq, 'INVITE', toTagOf(cancel)));
    if (!(t instanceof InviteServerTransaction)) return undefined;
    return from === undefined || cancelFromInviteSource(t.flow, from) ? t : undefined;
  }

  /** Whether a request belongs to a live server transaction (a retransmission, §17.2.3), without touching it. */
  hasServerTransaction(request: SipRequest): boolean {
    const via = topVia(request);
    const cseq = cseqOf(request);
    if (!via || !cseq) return false;
    const method = request.method === 'ACK' ? 'INVITE' : request.method;
    return this.#servers.has(serverKey(request, via, cseq, method, toTagOf(request)));
  }

  /** Called by the engine for every message the transport delivers. */
  receive(message: SipMessage, _raw: Buffer, flow: Flow): void {
    if (this.#closed) return;
    this.#rx.receive(message, flow);
  }

  stats(): TransactionStats {
    const s = this.#stats;
    return { ...s, created: { ...s.created }, live: { ...s.live }, waiting: this.#waits.size, waitsEndedEarly: this.#waits.endedEarly };
  }

  /**
   * The transport says the connection `connectionId` failed before anything came back on it: each client
   * transaction whose request went out on it and that has heard nothing yet gets a transport error (RFC 3261
   * §17.1.4: "the client transaction SHOULD inform the TU that a transport failure has occurred"), instead of
   * waiting for Timer B or F. Returns how many were told.
   */
  failFlow(connectionId: string, error: unknown): number {
    let n = 0;
    for (const txn of [...this.#clients.values()]) {
      if (txn.flow?.connectionId !== connectionId || (txn.state !== 'Calling' && txn.state !== 'Trying')) continue;
      txn.flowFailed(error);
      n++;
    }
    return n;
  }

  /** Ends every transaction and 2xx retransmission without callbacks. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#clients.values()) t.dispose();
    for (const t of this.#servers.values()) t.dispose();
    for (const r of this.#awaitingAck.values()) r.stop();
    this.#clients.clear();
    this.#servers.clear();
    this.#awaitingAck.clear();
    this.#waits.clear();
    for (const k of kinds) this.#stats.live[k] = 0;
  }

  /** Transactions still at work: those waiting out their final timer have their own cap (final-waits.ts). */
  #liveTotal(): number {
    const l = this.#stats.live;
    return l.ict + l.nict + l.ist + l.nist - this.#waits.size;
  }
}
