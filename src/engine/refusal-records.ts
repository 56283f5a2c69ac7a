import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { getHeader, reasonValue, tagOf, topViaText } from '../sip/message/index.js';
import { ownString } from '../sip/message/own-string.js';
import { refill, takeToken, type TokenBucket } from '../sip/transport/source-buckets.js';
import type { SipRequest } from '../sip/message/types.js';
import type { BadRequestReport, Flow } from '../sip/transport/types.js';
import { buildRefusalRecord, MAX_FIELD_CHARS, type RefusalCode, type RefusalRecord, type RefusalReporter } from './refusal-record.js';
import type { EngineErrorCode } from './errors.js';

export type { RefusalCode, RefusalRecord, RefusalReporter } from './refusal-record.js';

/** Records handed on at once at most: a full batch goes at once, the rest of the turn's in the next. */
export const MAX_BATCH = 256;
/**
 * How long a refused INVITE is remembered, so that a retransmission of it refused again is not a second call: an
 * INVITE client transaction retransmits over UDP until Timer B, 64*T1 = 32 s (RFC 3261 §17.1.1.2).
 */
const REMEMBER_MS = 32_000;
/** Refused INVITEs remembered at most (the bucket's rate keeps far fewer within REMEMBER_MS at the default). */
const MAX_REMEMBERED = 4_096;

export interface RefusalRecordsOptions {
  /** Records a second, on average (burst twice that); 0 turns them off (default 50). */
  perSecond?: number;
  /** Where each turn's records go (the gateway's CDR writer, across the thread when the engine has its own); absent: off. */
  deliver?: ((records: RefusalRecord[]) => void) | undefined;
  clock: Clock;
  log: Logger;
  /** Runs `fn` after the I/O of this turn (default setImmediate). */
  later?: (fn: () => void) => void;
}

export interface RefusalRecordStats {
  /** Records a second allowed (0: off). */
  perSecond: number;
  /** Refusals of new INVITEs handed on as records. */
  written: number;
  /** Refusals of new INVITEs past the bucket: no record, only this count. */
  dropped: number;
  /** Retransmissions of an INVITE already recorded, refused again: not a call of their own. */
  retransmissions: number;
  /** Of `written` and `dropped`, the refusals of sources no tenant trusts (and unparsable INVITEs from no tenant). */
  outsiders: { perSecond: number; written: number; dropped: number };
}

/**
 * Who a refusal's record is charged to. A source no tenant trusts (ERR_ENGINE_UNTRUSTED_SOURCE, or an INVITE the
 * parser refused from no tenant's source) has its own, smaller bucket and its own memory of recent INVITEs, so
 * outsiders cannot spend the records of the tenants' refused calls (rate, overload, table full) nor push their
 * INVITEs out of the memory that keeps a retransmission from being a second record.
 */
type RecordClass = 'tenant' | 'outsider';

/** The outsiders' share: a fifth of the rate, at least one a second. */
const outsiderRate = (perSecond: number): number => Math.max(1, Math.floor(perSecond / 5));

/**
 * A token bucket: `rate` tokens a second up to `burst`, full at the start. The refusals a flood makes are many; the
 * records they may cost the CDR file and database are bounded by it.
 */
export class RecordBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #b: TokenBucket;

  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#b = { tokens: burst, at: now };
  }

  /** Takes one token: false when less than one is left at `now`. */
  take(now: number): boolean {
    if (now > this.#b.at) refill(this.#b, this.#rate, this.#burst, now);
    return takeToken(this.#b);
  }
}

/**
 * The one owner of the engine's refusals of new INVITEs (no To tag) for the CDRs: every refusal the engine sends
 * before an app sees the request is reported here (the transport's 400s, edge-guard.ts, the transaction layer's cap,
 * the core's refusals), and each becomes a compact record, batched per event-loop turn to `deliver`. Bounded: a token
 * bucket decides which refusals get a record; the others are counted and named in one warn line a minute. Any other
 * request, and an in-dialog one, is not a call and is ignored here.
 */
export class RefusalRecords implements RefusalReporter {
  readonly #perSecond: number;
  readonly #deliver: ((records: RefusalRecord[]) => void) | undefined;
  readonly #clock: Clock;
  readonly #later: (fn: () => void) => void;
  readonly #lines: RateLimitedLog;
  readonly #buckets: Record<RecordClass, RecordBucket> | undefined;
  /** Per class, the Call-ID and top Via of each INVITE recorded lately, with when: insertion order is time order. */
  readonly #recent: Record<RecordClass, Map<string, number>> = { tenant: new Map(), outsider: new Map() };
  #batch: RefusalRecord[] = [];
  #scheduled = false;
  #closed = false;
  readonly #stats = { written: 0, dropped: 0, retransmissions: 0 };
  readonly #outsiders = { written: 0, dropped: 0 };

  constructor(o: RefusalRecordsOptions) {
    this.#perSecond = o.deliver ? Math.max(0, o.perSecond ?? 50) : 0;
    this.#deliver = o.deliver;
    this.#clock = o.clock;
    this.#later = o.later ?? ((fn) => setImmediate(fn));
    this.#lines = new RateLimitedLog(o.log, o.clock, { intervalMs: 60_000, perCode: 1 });
    const p = this.#perSecond;
    const now = o.clock.now();
    this.#buckets = p > 0
      ? { tenant: new RecordBucket(p, 2 * p, now), outsider: new RecordBucket(outsiderRate(p), 2 * outsiderRate(p), now) }
      : undefined;
  }

  /** Whether refusals become records (a deliverer and a rate above 0). */
  get enabled(): boolean {
    return this.#buckets !== undefined && !this.#closed;
  }

  refused(request: SipRequest, flow: Flow, status: number, reason: string, code: RefusalCode, tenant?: string): void {
    this.#record(code === 'ERR_ENGINE_UNTRUSTED_SOURCE' ? 'outsider' : 'tenant', request, flow, status, reason, code, tenant);
  }

  #record(kind: RecordClass, request: SipRequest, flow: Flow, status: number, reason: string, code: RefusalCode, tenant?: string): void {
    const buckets = this.#buckets;
    if (buckets === undefined || this.#closed) return;
    if (request.method !== 'INVITE' || status < 300 || tagOf(getHeader(request, 'to')) !== undefined) return;
    const now = this.#clock.now();
    if (this.#seen(this.#recent[kind], request, now)) {
      this.#stats.retransmissions++;
      return;
    }
    if (!buckets[kind].take(now)) {
      this.#stats.dropped++;
      if (kind === 'outsider') this.#outsiders.dropped++;
      const limited: EngineErrorCode = 'ERR_ENGINE_REFUSAL_CDR_RATE';
      this.#lines.line('warn', limited, { refusalRecordsDropped: this.#stats.dropped, perSecond: this.#perSecond },
        `more than ${this.#perSecond} refused INVITEs a second: those past it get no CDR (counted in refusalRecords.dropped)`);
      return;
    }
    this.#stats.written++;
    if (kind === 'outsider') this.#outsiders.written++;
    this.#batch.push(buildRefusalRecord(request, flow, { time: now, status, reason, code, tenant }));
    if (this.#batch.length >= MAX_BATCH) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#later(this.#flushLater);
    }
  }

  /**
   * A request the transport could not parse but could address, answered 400 with a Reason naming the problem
   * (src/sip/transport/bad-request.ts): a new INVITE among them is a refused call like any other. Its record reads
   * the request as far as it was parsed; a header missing or unreadable there is null in the record.
   */
  badRequest(r: BadRequestReport): void {
    this.#record(r.flow.tenant === undefined ? 'outsider' : 'tenant', r.request, r.flow, 400, reasonValue(400, r.reason), r.code);
  }

  stats(): RefusalRecordStats {
    const outsiders = { perSecond: this.#perSecond > 0 ? outsiderRate(this.#perSecond) : 0, ...this.#outsiders };
    return { perSecond: this.#perSecond, ...this.#stats, outsiders };
  }

  /** Hands on what is batched, then takes no more. */
  close(): void {
    this.#flush();
    this.#closed = true;
  }

  readonly #flushLater = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#deliver!(batch);
  }

  /** Whether this INVITE (its Call-ID and top Via, so its branch) was recorded within REMEMBER_MS; remembers it if not. */
  #seen(recent: Map<string, number>, request: SipRequest, now: number): boolean {
    const key = `${(getHeader(request, 'call-id') ?? '').slice(0, MAX_FIELD_CHARS)}\u0000${(topViaText(request) ?? '').slice(0, MAX_FIELD_CHARS)}`;
    const at = recent.get(key);
    if (at !== undefined && now - at < REMEMBER_MS) return true;
    // The oldest go first: those past REMEMBER_MS, then, in a table held full, whatever came first.
    for (const [k, t] of recent) {
      if (now - t < REMEMBER_MS && recent.size < MAX_REMEMBERED) break;
      recent.delete(k);
    }
    recent.delete(key);
    // Kept up to 32 s: a copy that does not hold the request's header text alive.
    recent.set(ownString(key), now);
    return false;
  }
}
